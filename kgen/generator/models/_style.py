"""Writing the few statement shapes of a models module exactly as black formats them.

Models modules are large (the 1.35 API is about 15,000 lines) and black needs seconds for
them even when nothing changes, so the emitter writes black's layout itself and the output
can skip formatting: docstrings re-indented and padded the way black does, long field lines
split the way black splits them, long imports and ``__all__`` exploded with trailing commas.
A test runs black over generated modules of the real specs and expects no change. Pure
functions, thread-safe.
"""

from __future__ import annotations

from kgen.generator import naming, wrapping
from kgen.generator.wrapping import LINE_LENGTH

__all__ = ["LINE_LENGTH", "class_header", "docstring", "field", "import_from", "list_assignment"]


def _dedent_continuation(lines: list[str], indent: str) -> list[str]:
    """PEP 257 trimming as black applies it to a multi-line docstring's source."""
    widths = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    trimmed = [lines[0].strip()]
    if widths:
        common = min(widths)
        last = len(lines) - 2
        for i, line in enumerate(lines[1:]):
            stripped = line[common:].rstrip()
            trimmed.append(indent + stripped if stripped or i == last else "")
    return trimmed


def docstring(text: str, indent: str) -> str:
    """A docstring literal for ``text`` at ``indent`` (escaped by :func:`naming.docstring`),
    laid out as black lays out a docstring; its first line is not indented."""
    body = naming.docstring(text)[3:-3]
    lines = body.split("\n")
    body = "\n".join(_dedent_continuation(lines, indent)) if len(lines) > 1 else body.strip()
    trailing_backslash = False
    if body:
        if body[0] == '"':
            body = " " + body
        if body[-1] == '"':
            body += " "
        if body[-1] == "\\" and (len(body) - len(body.rstrip("\\"))) % 2:
            body += " "
            trailing_backslash = True
    split = body.splitlines()
    last_length = len(split[-1]) if body and not body.endswith("\n") else 0
    if len(split) > 1 and last_length + 3 > LINE_LENGTH and not trailing_backslash:
        return '"""' + body + "\n" + indent + '"""'
    return '"""' + body + '"""'


def field(attr: str, annotation: str, call_args: list[str] | None, default: str | None) -> str:
    """An annotated class attribute, indented four spaces, in black's layout.

    ``call_args`` (``['name="x"', "default=UNSET"]``) makes the value a ``msgspec.field(...)``
    call; otherwise ``default`` (or nothing) is the value.
    """
    value = f"msgspec.field({', '.join(call_args)})" if call_args is not None else default
    line = f"    {attr}: {annotation}" + (f" = {value}" if value is not None else "")
    if len(line) <= LINE_LENGTH or value is None:
        return line
    if call_args is not None:
        head = f"    {attr}: {annotation} = msgspec.field("
        inner = "        " + ", ".join(call_args)
        if len(head) <= LINE_LENGTH and len(inner) <= LINE_LENGTH:
            return f"{head}\n{inner}\n    )"
    opener = f"    {attr}: {annotation} = ("
    if len(opener) <= LINE_LENGTH and len(f"        {value}") <= LINE_LENGTH:
        return f"{opener}\n        {value}\n    )"
    return f"    {attr}: (\n{_union(annotation, '        ')}\n    ) = {value}"


def _top_level_parts(annotation: str) -> list[str]:
    """The members of a ``A | B | C`` annotation, brackets kept whole."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(annotation):
        depth += (char in "[(") - (char in "])")
        if depth == 0 and annotation.startswith(" | ", i):
            parts.append(annotation[start:i])
            start = i + 3
    return [*parts, annotation[start:]]


def _union(annotation: str, indent: str) -> str:
    """An annotation on lines of its own at ``indent``: too long, a union is split before each
    ``|`` as black splits it (a member that is one name stays whole however long); a member
    with brackets that is still too long is left on one line, for black."""
    parts = _top_level_parts(annotation)
    if len(indent + annotation) <= LINE_LENGTH or len(parts) == 1:
        return indent + annotation
    lines = [indent + parts[0], *(f"{indent}| {part}" for part in parts[1:])]
    if any(len(line) > LINE_LENGTH and "[" in line for line in lines):
        return indent + annotation
    return "\n".join(lines)


def class_header(name: str, bases: str) -> str:
    """``class name(bases):``, with the bases on their own line when too long."""
    line = f"class {name}({bases}):"
    return line if len(line) <= LINE_LENGTH else f"class {name}(\n    {bases}\n):"


def _exploded(items: list[str]) -> str:
    return "".join(f"    {item},\n" for item in items)


def import_from(module: str, names: list[str]) -> str:
    """``from module import a, b`` (one line, or one name a line in parentheses)."""
    return wrapping.import_from(0, module, names)


def list_assignment(target: str, literals: list[str]) -> str:
    """``target = [a, b]`` (one line, or one item a line with a trailing comma)."""
    line = f"{target} = [{', '.join(literals)}]"
    if len(line) <= LINE_LENGTH:
        return line
    return f"{target} = [\n{_exploded(literals)}]"
