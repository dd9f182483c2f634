"""The Jinja environment every emitter renders with.

Templates live in :mod:`kgen.templates` (package data, so an installed wheel carries them).
Undefined names are errors, nothing is HTML-escaped, and the only ways a template may write a
string that came from a spec are the ``py_str`` filter (a Python string literal) and the
``py_doc`` filter (a complete, escaped docstring), or ``py_tuple`` (a tuple of string literals):
no spec text is ever emitted as code. A line whose length depends on names is written with the
``bracket`` and ``import_from`` globals (:mod:`kgen.generator.wrapping`), in black's layout.

The environment is built once and is safe to share between threads (Jinja environments are,
once configured).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from functools import cache
from typing import Any

import jinja2

from kgen.generator import naming, wrapping

__all__ = ["render_template"]


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kgen", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["wrap"] = _wrap
    env.filters["py_tuple"] = _py_tuple
    env.filters["import_order"] = _import_order
    env.filters["all_order"] = _all_order
    env.filters["prefixed"] = _prefixed
    env.filters["py_str"] = naming.python_string
    env.filters["py_doc"] = naming.docstring
    env.globals["bracket"] = wrapping.bracket
    env.globals["import_from"] = wrapping.import_from
    return env


def _wrap(text: str, width: int = 96) -> str:
    """Fill each paragraph (separated by a blank line) of ``text`` to ``width`` columns; an
    indented paragraph (an example) is kept as it is."""
    return "\n\n".join(
        (
            p
            if p.startswith(" ")
            else textwrap.fill(p, width, break_long_words=False, break_on_hyphens=False)
        )
        for p in text.split("\n\n")
    )


def _prefixed(names: Iterable[str], prefix: str) -> list[str]:
    """Each name with ``prefix`` in front (a flavor's class names: ``Async`` + ``PodClient``)."""
    return [prefix + name for name in names]


def _py_tuple(values: Iterable[str]) -> str:
    """A tuple literal of string literals: ``()``, ``("a",)``, ``("a", "b")``."""
    items = [naming.python_string(v) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _natural_key(name: str, fold_case: bool) -> tuple[int, list[tuple[int, int | str]]]:
    """CONSTANTS, then Classes, then the rest, each in natural order (``V2`` before ``V10``),
    case-folded or not."""
    rank = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    parts = re.split(r"(\d+)", name.lower() if fold_case else name)
    return rank, [(1, int(p)) if p.isdigit() else (0, p) for p in parts if p]


def _import_order(names: Iterable[str]) -> list[str]:
    """The order isort (and ruff's ``I`` rules) give the names of one ``from`` import."""
    return sorted(names, key=lambda name: (_natural_key(name, True), name))


def _all_order(names: Iterable[str]) -> list[str]:
    """The order ruff's RUF022 wants in ``__all__``."""
    return sorted(names, key=lambda name: _natural_key(name, False))


def render_template(name: str, **context: Any) -> str:
    """Render the template ``name`` with ``context``."""
    return _environment().get_template(name).render(**context)
