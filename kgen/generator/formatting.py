"""Formatting generated sources with black, through its Python API, with one shared mode.

Templates already emit nearly-black code; black makes the output byte-stable whatever the
template whitespace. ``black.format_str`` skips black's AST equivalence check (the equivalent of
``--fast``), which is safe here because the input is our own generated code and a failure to
parse is reported as a bug in the generator, naming the file.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context

import black
from black.mode import Mode, TargetVersion
from black.parsing import InvalidInput

__all__ = ["FormatError", "format_sources"]

_MODE = Mode(line_length=100, target_versions={TargetVersion.PY311})


_PARALLEL_ABOVE = 400_000
"""Total characters above which formatting is spread over worker processes."""


class FormatError(Exception):
    """Generated code that black cannot parse: a bug in the generator, not in the user's input."""


def _format_one(item: tuple[str, str]) -> tuple[str, str]:
    path, text = item
    if not path.endswith(".py"):
        return path, text
    try:
        return path, black.format_str(text, mode=_MODE)
    except InvalidInput as exc:
        raise FormatError(f"kgen produced invalid Python in {path}: {exc}") from exc


def _workers(sources: Mapping[str, str]) -> int:
    """Processes worth starting: one per CPU for big packages, none for small ones."""
    size = sum(len(text) for text in sources.values())
    if size <= _PARALLEL_ABOVE or "fork" not in get_all_start_methods():
        return 1
    return min(os.cpu_count() or 1, 8)


def format_sources(
    sources: Mapping[str, str], progress: Callable[[str], None] | None = None
) -> dict[str, str]:
    """Black-format every ``.py`` entry of ``sources`` (path -> text); other files pass through.

    Big packages are formatted by a pool of forked worker processes (one per CPU), biggest
    files first; small ones, and every package where ``fork`` is unavailable, in this process.
    The workers only run black on the given strings; they are joined before this returns. ``progress`` is called with each path once it is
    formatted. Returns a new mapping in the order of ``sources``.
    """
    workers = _workers(sources)
    items = sorted(sources.items(), key=lambda item: -len(item[1]))
    done: dict[str, str] = {}
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
