"""Formatting generated sources with black, through its Python API, with one shared mode,
only where the emitters cannot guarantee black's layout themselves.

Black costs about 2 s of CPU per MB even on code it leaves unchanged, so the emitters write
black's layout by construction and black runs only on the files that may still need it:

* files the emitter declares *settled* (the models emitter: :mod:`kgen.generator.models._style`
  writes black's layout for every statement shape it emits) are never formatted;
* every other ``.py`` file is formatted exactly when one of its lines is longer than
  :data:`LINE_LENGTH`. The templates and the wrapping helpers
  (:mod:`kgen.generator.wrapping`) emit black's layout for every line that fits, and when a
  name is too long for the shapes they know they leave the statement on one (too long) line,
  which sends the file through black here.

So the output is what black would write, byte for byte, and ``tests/generator/
test_black_stable.py`` checks that on real inputs and hostile names. ``black.format_str`` skips
black's AST equivalence check (the equivalent of ``--fast``), which is safe here because the
input is our own generated code and a failure to parse is reported as a bug in the generator,
naming the file.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Collection, Iterable, Mapping
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


def needs_black(path: str, text: str) -> bool:
    """Whether a generated file that its emitter does not declare settled goes through black:
    a ``.py`` file with a line longer than :data:`LINE_LENGTH`."""
    return path.endswith(".py") and any(len(line) > LINE_LENGTH for line in text.splitlines())


def _workers(sources: Mapping[str, str]) -> int:
    """Processes worth starting: one per CPU for big packages, none for small ones."""
    size = sum(len(text) for text in sources.values())
    if size <= _PARALLEL_ABOVE or "fork" not in get_all_start_methods():
        return 1
    return min(os.cpu_count() or 1, 8)


def format_sources(
    sources: Mapping[str, str],
    progress: Callable[[str], None] | None = None,
    *,
    settled: Collection[str] = (),
) -> dict[str, str]:
    """Black-format the entries of ``sources`` (path -> text) that :func:`needs_black`, except
    the paths in ``settled`` (already in black's layout, by the emitter's contract); every other
    entry passes through unchanged.

    When the files to format are big, a pool of forked worker processes (one per CPU) formats
    them, biggest first; otherwise, and wherever ``fork`` is unavailable, this process does.
    The workers only run black on the given strings; they are joined before this returns.
    ``progress`` is called with each path once it is done (formatted or not). Returns a new
    mapping in the order of ``sources``.
    """
    done: dict[str, str] = {}
    pending: dict[str, str] = {}
    for path, text in sources.items():
        if path in settled or not needs_black(path, text):
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
