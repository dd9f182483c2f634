"""Formatting generated sources with black, in this process, with one shared mode.

Templates already emit nearly-black code; black makes the output byte-stable whatever the
template whitespace. ``black.format_str`` skips black's AST equivalence check (the equivalent of
``--fast``), which is safe here because the input is our own generated code and a failure to
parse is reported as a bug in the generator, naming the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import black
from black.mode import Mode, TargetVersion
from black.parsing import InvalidInput

__all__ = ["FormatError", "format_sources"]

_MODE = Mode(line_length=100, target_versions={TargetVersion.PY311})


class FormatError(Exception):
    """Generated code that black cannot parse: a bug in the generator, not in the user's input."""


def format_sources(
    sources: Mapping[str, str], progress: Callable[[str], None] | None = None
) -> dict[str, str]:
    """Black-format every ``.py`` entry of ``sources`` (path -> text); other files pass through.

    ``progress`` is called with each path after it is formatted. Returns a new mapping in the
    same order."""
    formatted: dict[str, str] = {}
    for path, text in sources.items():
        if path.endswith(".py"):
            try:
                formatted[path] = black.format_str(text, mode=_MODE)
            except InvalidInput as exc:
                raise FormatError(f"kgen produced invalid Python in {path}: {exc}") from exc
        else:
            formatted[path] = text
        if progress is not None:
            progress(path)
    return formatted
