"""The generator's commands: ``kgen generate``, ``clientset``, ``listers``, ``informers``,
``models`` and ``fetch-specs``.

Every failure the user can cause (unreadable or malformed documents, bad options, an unreachable
cluster) ends in a one-line ``error: ...`` naming the file and JSON pointer where known, exit
status 2, and nothing written. ``--check`` exits 1 when the output on disk differs from what
would be generated and shows the difference.

The spec loaders, the emitters and black are imported only once a run knows it has something
to render, so that an unchanged rerun (decided from the stamp file) returns at once.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kgen.generator.inputs import (
    DEFAULT_PACKAGE,
    DEFAULT_SPEC,
    Inputs,
    generator_fingerprint,
    is_module_name,
)
from kgen.generator.output import compare, is_up_to_date, write_package

if TYPE_CHECKING:
    from kgen.spec import APIModel

__all__ = ["COMMANDS", "register"]

_BAD_INPUT = 2
_ALL = ("models", "applyconfigurations", "clientset", "listers", "informers")


class _BadInput(click.ClickException):
    """A one-line error about the user's input; exit status 2."""

    exit_code = _BAD_INPUT


def _options(function: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.option(
            "--spec",
            "specs",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help="OpenAPI v2 or v3 document, folder of v3 documents, or CRD manifest "
            "(repeatable). Default: kgen's example CRDs.",
        ),
        click.option(
            "--discovery",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help="Discovery document or folder (legacy or aggregated; repeatable).",
        ),
        click.option(
            "--from-cluster",
            is_flag=True,
            help="Read /openapi/v3 (or /openapi/v2) and discovery from the current kubeconfig.",
        ),
        click.option(
            "--package",
            help="Python package to generate (dotted, e.g. acme.kube). Required with --spec or "
            f"--from-cluster; kgen's example CRDs alone generate {DEFAULT_PACKAGE}.",
        ),
        click.option(
            "--output-dir",
            "-o",
            default="generated",
            show_default=True,
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder the package folder is written into.",
        ),
        click.option(
            "--include-group",
            multiple=True,
            help="Only these groups: GROUP or GROUP/VERSION, wildcards allowed, core = legacy.",
        ),
        click.option("--exclude-group", multiple=True, help="Skip these groups (same form)."),
        click.option(
            "--distribution",
            metavar="NAME",
            help="Also write a pip-installable project NAME around the package into the "
            "output folder (pyproject.toml, README.md): pip install OUTPUT-DIR.",
        ),
        click.option(
            "--distribution-version",
            default="0.1.0",
            show_default=True,
            help="The version of the --distribution project.",
        ),
        click.option(
            "--check", is_flag=True, help="Write nothing; exit 1 if the output would change."
        ),
        click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors."),
    ]
    for decorate in reversed(decorators):
        function = decorate(function)
    return function


@contextmanager
def _cluster_documents(enabled: bool) -> Iterator[tuple[tuple[Path, ...], tuple[Path, ...]]]:
    """Fetch the current cluster's documents into a temporary folder for the run's duration."""
    if not enabled:
        yield (), ()
        return
    from kgen.generator.fetch import FetchError, fetch_documents

    with tempfile.TemporaryDirectory(prefix="kgen-cluster-") as folder:
        try:
            saved = fetch_documents(Path(folder))
        except FetchError as exc:
            raise _BadInput(str(exc)) from exc
        yield saved.specs, saved.discovery


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(message)


def _load(inputs: Inputs) -> APIModel:
    from kgen.generator.selection import select_group_versions
    from kgen.generator.views import GenerateError
    from kgen.spec import SpecError, load

    try:
        api = load(list(inputs.specs), discovery=list(inputs.discovery))
        return select_group_versions(api, inputs.include_groups, inputs.exclude_groups)
    except (SpecError, GenerateError) as exc:
        raise _BadInput(str(exc)) from exc


GENERATOR_TOOLS = ("jinja2", "black")
"""The modules generation needs beyond kgen's runtime: what the ``kgen`` distribution adds to
``kgen-runtime`` (its ``generate`` extra)."""


def _require_generator_tools() -> None:
    """A one-line error naming the extra when jinja2 or black is not installed."""
    import importlib

    missing = []
    for name in GENERATOR_TOOLS:
        try:
            importlib.import_module(name)  # rendering imports them next anyway
        except ImportError:
            missing.append(name)
    if missing:
        raise click.ClickException(
            f"generating code needs {' and '.join(missing)}, which kgen-runtime alone does not "
            "install: pip install kgen (or 'kgen-runtime[generate]')"
        )


def _render(
    inputs: Inputs, input_hash: str, emitters: Sequence[str], quiet: bool
) -> dict[str, dict[str, str]]:
    _require_generator_tools()
    from kgen.generator.emit import render_package
    from kgen.generator.formatting import FormatError
    from kgen.generator.views import GenerateError

    api = _load(inputs)
    if not quiet:
        for note in api.notes:  # what the loader inferred, e.g. scope from paths without discovery
            click.echo(f"note: {note}", err=True)
    show = not quiet and sys.stderr.isatty()
    with click.progressbar(length=1, label="formatting", file=sys.stderr, hidden=not show) as bar:

        def progress(_path: str, total: int) -> None:
            bar.length = total
            bar.update(1)

        try:
            return render_package(
                api,
                inputs.package,
                emitters,
                input_hash=input_hash,
                sources=inputs.source_names,
                progress=progress,
            )
        except GenerateError as exc:
            raise _BadInput(str(exc)) from exc
        except FormatError as exc:
            raise click.ClickException(f"internal error, please report: {exc}") from exc


def _run(emitters: Sequence[str], options: dict[str, Any]) -> None:
    quiet: bool = options["quiet"]
    check: bool = options["check"]
    if options["from_cluster"] and options["specs"]:
        raise _BadInput("--from-cluster and --spec cannot be combined")
    package = options["package"]
    if package is None:
        if options["specs"] or options["from_cluster"]:
            raise _BadInput("--package is required with --spec or --from-cluster")
        package = DEFAULT_PACKAGE
    if not is_module_name(package):
        raise _BadInput(
            f"--package {package!r} is not a dotted Python module name (e.g. acme.kube)"
        )
    distribution = _check_distribution(options)
    with _cluster_documents(options["from_cluster"]) as (cluster_specs, cluster_discovery):
        specs = tuple(options["specs"]) or cluster_specs or (DEFAULT_SPEC,)
        inputs = Inputs(
            specs=specs,
            discovery=tuple(options["discovery"]) + cluster_discovery,
            package=package,
            include_groups=tuple(options["include_group"]),
            exclude_groups=tuple(options["exclude_group"]),
        )
        root = Path(options["output_dir"]) / Path(*package.split("."))
        try:
            input_hash = inputs.digest()
        except OSError as exc:
            raise _BadInput(f"cannot read {exc.filename}: {exc.strerror}") from exc
        stamps = {e: generator_fingerprint(input_hash, e) for e in emitters}
        project = _project_files(distribution, options, package, inputs)
        if all(is_up_to_date(root, e, stamps[e]) for e in emitters):
            _sync_project(project, options, check, quiet)
            _say(quiet, f"{root}: up to date")
            return
        rendered = _render(inputs, input_hash, emitters, quiet)
    files = {path: text for part in rendered.values() for path, text in part.items()}
    from kgen.generator.emit import owned_entries

    owned = owned_entries(emitters)
    if check:
        changes = compare(root, files, owned)
        _sync_project(project, options, check, quiet)
        if changes:
            click.echo(f"{root}: generated code is out of date:\n{changes.report()}")
            sys.exit(1)
        _say(quiet, f"{root}: up to date")
        return
    try:
        changes = write_package(
            root, files, owned, {e: (stamps[e], rendered[e].keys()) for e in emitters}
        )
    except OSError as exc:
        raise _BadInput(f"cannot write {root}: {exc}") from exc
    _sync_project(project, options, check, quiet)
    summary = f"{len(changes.added)} added, {len(changes.changed)} changed"
    _say(quiet, f"{root}: {len(files)} files ({summary}, {len(changes.removed)} removed)")


def _check_distribution(options: dict[str, Any]) -> str | None:
    """The ``--distribution`` name, checked (with its version) before anything is read."""
    from kgen.generator.distribution import is_distribution_name, is_version

    name: str | None = options.get("distribution")
    if name is None:
        return None
    if not is_distribution_name(name):
        raise _BadInput(
            f"--distribution {name!r} is not a project name (letters, digits and . - _ "
            "inside, e.g. acme-kube-client)"
        )
    if not is_version(options["distribution_version"]):
        raise _BadInput(
            f"--distribution-version {options['distribution_version']!r} is not a version "
            "(e.g. 1.2.0)"
        )
    return name


def _project_files(
    name: str | None, options: dict[str, Any], package: str, inputs: Inputs
) -> dict[str, str]:
    if name is None:
        return {}
    from kgen.generator.distribution import distribution_files

    return distribution_files(name, package, options["distribution_version"], inputs.source_names)


def _sync_project(
    project: dict[str, str], options: dict[str, Any], check: bool, quiet: bool
) -> None:
    """Write (or, with ``--check``, compare) the ``--distribution`` files; exit 1 on a
    difference under ``--check``."""
    if not project:
        return
    from kgen.generator.distribution import compare_files, write_files

    folder = Path(options["output_dir"])
    if check:
        stale = compare_files(folder, project)
        if stale:
            click.echo(f"{folder}: project files out of date: {', '.join(stale)}")
            sys.exit(1)
        return
    try:
        written = write_files(folder, project)
    except OSError as exc:
        raise _BadInput(f"cannot write {exc.filename or folder}: {exc.strerror or exc}") from exc
    if written:
        _say(quiet, f"{folder}: project files written: {', '.join(written)}")


def _command(name: str, emitters: Sequence[str], help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @_options
    def command(**options: Any) -> None:
        _run(emitters, options)

    return command


@click.command("fetch-specs")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def fetch_specs(folder: Path) -> None:
    """Save the current cluster's OpenAPI and discovery documents into FOLDER."""
    from kgen.generator.fetch import FetchError, fetch_documents

    try:
        saved = fetch_documents(folder)
    except FetchError as exc:
        raise _BadInput(str(exc)) from exc
    click.echo(f"{folder}: {len(saved.specs)} spec and {len(saved.discovery)} discovery documents")


COMMANDS: tuple[click.Command, ...] = (
    _command(
        "generate",
        _ALL,
        "Generate everything: models, apply configurations, clientset (with fake), listers, "
        "informers. "
        "Without --spec, generates kgen's example CRDs into ./generated.",
    ),
    _command("clientset", ("clientset",), "Generate the clientset, typed clients and fake."),
    _command("listers", ("listers",), "Generate listers."),
    _command("informers", ("informers",), "Generate informers and the SharedInformerFactory."),
    _command("models", ("models",), "Generate the model classes."),
    _command(
        "applyconfigurations",
        ("applyconfigurations",),
        "Generate the apply configurations (server-side apply's partial objects) and extract_<kind>.",
    ),
    fetch_specs,
)
"""Every command of the generator, for :func:`register`."""


def register(group: click.Group) -> None:
    """Add the generator's commands to the ``kgen`` command group."""
    for command in COMMANDS:
        group.add_command(command)
