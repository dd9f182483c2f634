"""Formatting generated sources with black, through its Python API, with one shared mode,
only where the emitters cannot promise black's layout themselves.

Black costs about 2 s of CPU per MB even on code it leaves unchanged, so the emitters write
black's layout by construction: the models and applyconfigurations emitters through
:mod:`kgen.generator.models._style`, the templates through :mod:`kgen.generator.wrapping`
(magic trailing commas where a form is always exploded). Each of those helpers emits black's
layout for every statement whose lines fit in :data:`LINE_LENGTH`, and when a name is too long
for the shapes it knows it leaves the statement on one (too long) line. So black runs exactly
on the files :func:`needs_black` finds a too-long line of code in, and every file written is
what black would write, byte for byte: ``tests/generator/test_black_stable.py`` checks that on
real inputs and on hostile long names.

Files black skips are parsed with :func:`ast.parse` (a tenth of black's cost), so generated code
that is not valid Python is a :class:`FormatError` naming the file either way, raised before
anything is written. ``black.format_str`` skips black's AST equivalence check (the equivalent
of ``--fast``), which is safe here because the input is our own generated code. Pure functions
apart from the worker processes, which :func:`format_sources` joins before it returns.
"""

from __future__ import annotations

import ast
import gc
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context

import black
from black.mode import Mode, TargetVersion
from black.parsing import InvalidInput

from kgen.generator.wrapping import LINE_LENGTH

__all__ = ["LINE_LENGTH", "MODE", "FormatError", "format_sources", "needs_black"]

MODE = Mode(line_length=LINE_LENGTH, target_versions={TargetVersion.PY311})
"""The one black mode of generated code."""


_PARALLEL_ABOVE = 400_000
"""Total characters above which formatting is spread over worker processes."""


class FormatError(Exception):
    """Generated code that black cannot parse: a bug in the generator, not in the user's input."""


def _format_one(item: tuple[str, str]) -> tuple[str, str]:
    path, text = item
    if not path.endswith(".py"):
        return path, text
    try:
        return path, black.format_str(text, mode=MODE)
    except InvalidInput as exc:
        raise FormatError(f"kgen produced invalid Python in {path}: {exc}") from exc


def _check_syntax(path: str, text: str) -> None:
    """The parse black would have made of a file it skips (a tenth of black's cost)."""
    if path.endswith(".py"):
        try:
            ast.parse(text, path)
        except SyntaxError as exc:
            raise FormatError(f"kgen produced invalid Python in {path}: {exc}") from exc


def needs_black(path: str, text: str) -> bool:
    """Whether a generated file goes through black: a ``.py`` file with a line of code longer
    than :data:`LINE_LENGTH`, or a multi-line docstring whose closing line is.

    Docstring text is not code: black keeps its lines whatever their length, and only moves
    the closing quotes of a multi-line docstring to a line of their own when they would end a
    too-long line (the models emitter does that itself, :func:`~kgen.generator.models._style.
    docstring`). Docstrings are found by their ``\"\"\"``: kgen writes every other string
    literal with :func:`~kgen.generator.naming.python_string`, which never has three quotes in
    a row.
    """
    if not path.endswith(".py"):
        return False
    inside = False
    for line in text.splitlines():
        long = len(line) > LINE_LENGTH
        quotes = line.count('"""')
        if inside:
            inside = quotes % 2 == 0
            if long and not inside:
                return True
        elif quotes % 2:
            inside = True
        elif long and not quotes:
            return True
    return False


def _workers(sources: Mapping[str, str]) -> int:
    """Processes worth starting: one per CPU for big packages, none for small ones."""
    size = sum(len(text) for text in sources.values())
    if size <= _PARALLEL_ABOVE or "fork" not in get_all_start_methods():
        return 1
    return min(os.cpu_count() or 1, 8)


def format_sources(
    sources: Mapping[str, str],
    progress: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Black-format the entries of ``sources`` (path -> text) that :func:`needs_black`; every
    other entry passes through unchanged (it is in black's layout already), once parsed.
    Raises :class:`FormatError`, naming the file, when a ``.py`` entry is not valid Python.

    When the files to format are big, a pool of forked worker processes (one per CPU) formats
    them, biggest first; otherwise, and wherever ``fork`` is unavailable, this process does.
    The workers only run black on the given strings; they are joined before this returns.
    ``progress`` is called with each path once it is done (formatted or not). Returns a new
    mapping in the order of ``sources``.
    """
    done: dict[str, str] = {}
    pending: dict[str, str] = {}
    for path, text in sources.items():
        if not needs_black(path, text):
            _check_syntax(path, text)
            done[path] = text
            if progress is not None:
                progress(path)
        else:
            pending[path] = text
    workers = _workers(pending)
    items = sorted(pending.items(), key=lambda item: -len(item[1]))
    if workers == 1:
        results: Iterable[tuple[str, str]] = map(_format_one, items)
        for path, text in results:
            done[path] = text
            if progress is not None:
                progress(path)
    else:
        gc.freeze()  # the forked workers then never scan (or copy) the parent's heap
        try:
            with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
                for path, text in pool.map(_format_one, items, chunksize=1):
                    done[path] = text
                    if progress is not None:
                        progress(path)
        finally:
            gc.unfreeze()
    return {path: done[path] for path in sources}
