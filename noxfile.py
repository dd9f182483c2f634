"""Developer sessions: ``nox -s tests lint typecheck format bench``. Each installs what it needs."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "format"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite (the same command CI runs)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over the project (generated output excluded: it is checked by its own tests)."""
    session.install("ruff")
    session.run("ruff", "check", "kgen", "tests", "bench", "examples", "noxfile.py")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the runtime and the generator, then on the checked-in generated package
    and the examples built on it."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "kgen")
    session.run(
        "mypy",
        "--strict",
        "generated/kgen_databases",
        "examples",
        "tests/examples",
        env={"MYPYPATH": "generated"},
    )


@nox.session(name="format", python=PYTHON)
def format_(session: nox.Session) -> None:
    """black in check mode."""
    session.install("black")
    session.run("black", "--check", "kgen", "tests", "bench", "examples", "noxfile.py")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks (medians and side-by-side ratios); not part of the test suite.

    The peers measured side by side (lightkube, the official client and its asyncio flavours,
    kr8s, httpx against aiohttp) are installed here only.
    """
    session.install(
        "-e", ".[dev]", "lightkube", "kubernetes", "kubernetes_asyncio", "kr8s", "httpx"
    )
    session.run("python", "-m", "bench", *session.posargs)
