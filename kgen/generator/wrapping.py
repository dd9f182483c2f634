"""Writing a bracketed statement whose length depends on names exactly as black lays it out.

The templates call these (as Jinja globals) for every line that holds a spec-derived name and
may outgrow :data:`LINE_LENGTH`: imports, signatures, calls, class bases, subscripts. Each
helper returns black's layout when the statement has one of the shapes black gives a
bracket it splits last (its "right hand split"):

* it fits: one line;
* ``head(`` and ``)tail`` fit and so does the body: the body alone on the middle line (calls,
  class bases, subscripts, and signatures of more than one parameter);
* otherwise, when every item fits: one item a line, each with a trailing comma (collection
  literals and imports always take this form once split, and so does a one-parameter
  signature, which black gives a trailing comma).

When none of these fits (a name longer than a line), the helper gives up and returns the
statement on one line: that line is too long, so :func:`kgen.generator.formatting.needs_black`
sends the file through black, which decides. The returned text's first line is not indented
(the template indents it); its other lines are indented by ``indent`` spaces. Pure functions,
thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

__all__ = ["LINE_LENGTH", "bracket", "import_from"]

LINE_LENGTH = 100
"""The line length of generated code (black's, from the project's pyproject.toml)."""

Kind = Literal["call", "def", "collection", "import"]


def bracket(indent: int, head: str, items: Sequence[str], tail: str, kind: Kind = "call") -> str:
    """``head`` (ending with the opening bracket), ``items`` separated by commas, ``tail``
    (starting with the closing bracket), in black's layout at ``indent`` spaces.

    ``kind`` says what the brackets are: a ``call`` (also class bases and subscripts), a
    ``def``'s parameters, a ``collection`` literal or an ``import`` (always exploded once split,
    however long its names: black has no other layout for it). A ``call`` of one item may take
    an item already split by a nested :func:`bracket` at ``indent + 4``; so may the items of an
    exploded form (laid out by a nested call whose ``tail`` held the comma, then dropped).
    """
    single = kind == "collection" and head.endswith("(") and len(items) == 1
    one = head + ", ".join(items) + ("," if single else "") + tail  # ("a",) is a tuple
    if indent + len(one) <= LINE_LENGTH and "\n" not in one:
        return one
    pad, inner = " " * indent, " " * (indent + 4)
    lines = [f"{inner}{item}," for item in items]
    exploded = head + "\n" + "\n".join(lines) + "\n" + pad + tail
    if kind == "import":
        return exploded  # black's only layout of a long import, whatever the lengths
    if not items or indent + len(head) > LINE_LENGTH or indent + len(tail) > LINE_LENGTH:
        return one
    if len(items) == 1 and "\n" in items[0] and kind == "call":
        return f"{head}\n{inner}{items[0]}\n{pad}{tail}"  # a nested split, laid out at inner
    body = ", ".join(items)
    hugs = kind == "call" or (kind == "def" and len(items) > 1)
    if hugs and len(inner) + len(body) <= LINE_LENGTH:
        return f"{head}\n{inner}{body}\n{pad}{tail}"
    if any(len(line) > LINE_LENGTH for item in lines for line in item.split("\n")):
        return one
    return exploded


def import_from(indent: int, module: str, names: Sequence[str]) -> str:
    """``from module import a, b`` at ``indent`` spaces: one line, or one name a line in
    parentheses with a trailing comma."""
    line = f"from {module} import {', '.join(names)}"
    if indent + len(line) <= LINE_LENGTH:
        return line
    return bracket(indent, f"from {module} import (", names, ")", "import")
