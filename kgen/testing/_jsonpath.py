"""The small JSONPath dialect of CRD printer columns (``.status.conditions[?(@.type=="Ready")].status``).

Supported: ``.field``, ``['field']``, ``[n]``, ``[*]`` and equality filters
``[?(@.a.b=="v")]`` (single or double quotes, or a bare number/boolean). :func:`evaluate`
returns every match, in document order. Pure functions.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["JSONPathError", "evaluate"]

_STEP = re.compile(
    r"""\.(?P<field>[A-Za-z0-9_\-]+)
      | \[\s*'(?P<quoted>[^']*)'\s*\]
      | \[\s*(?P<index>-?\d+)\s*\]
      | \[\s*(?P<star>\*)\s*\]
      | \[\s*\?\(\s*@(?P<left>(?:\.[A-Za-z0-9_\-]+)+)\s*==\s*(?P<right>"[^"]*"|'[^']*'|[^)\s]+)\s*\)\s*\]
    """,
    re.VERBOSE,
)


class JSONPathError(ValueError):
    """A path outside the supported dialect."""


def _steps(path: str) -> list[tuple[str, Any]]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    text = text.removeprefix("$")
    steps: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise JSONPathError(f"unsupported JSONPath {path!r} at {text[position:]!r}")
        if match.group("field") is not None:
            steps.append(("field", match.group("field")))
        elif match.group("quoted") is not None:
            steps.append(("field", match.group("quoted")))
        elif match.group("index") is not None:
            steps.append(("index", int(match.group("index"))))
        elif match.group("star") is not None:
            steps.append(("star", None))
        else:
            right = match.group("right")
            value: Any = right[1:-1] if right[0] in "\"'" else json.loads(right)
            steps.append(("filter", (match.group("left")[1:].split("."), value)))
        position = match.end()
    return steps


def _get(value: Any, keys: list[str]) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def evaluate(obj: Any, path: str) -> list[Any]:
    """Every value ``path`` selects in ``obj`` (empty when nothing matches)."""
    current = [obj]
    for kind, arg in _steps(path):
        following: list[Any] = []
        for value in current:
            if (kind == "field" and isinstance(value, dict) and arg in value) or (
                kind == "index" and isinstance(value, list) and -len(value) <= arg < len(value)
            ):
                following.append(value[arg])
            elif kind == "star" and isinstance(value, list):
                following.extend(value)
            elif kind == "star" and isinstance(value, dict):
                following.extend(value.values())
            elif kind == "filter" and isinstance(value, list):
                keys, wanted = arg
                following.extend(item for item in value if _get(item, keys) == wanted)
        current = following
    return current
