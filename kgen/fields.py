"""Field selectors: parse, print and match them as the Kubernetes API server does.

Grammar: comma-separated terms ``field=value``, ``field==value`` or ``field!=value``, all of
which must hold. In a value, ``\\,``, ``\\=``, ``\\!`` and ``\\\\`` stand for the literal
characters. Matching is against a flat mapping of field paths to strings (``metadata.name``,
``spec.nodeName``, ...): an ``=`` term requires the field to be present and equal, a ``!=``
term holds when it is absent or different. Which fields a resource supports is the server's
business (:mod:`kgen.testing` knows the built-in ones); this module only parses and matches.

Selectors are immutable values, safe to share between threads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Requirement", "Selector", "SelectorError", "parse"]

_OPERATORS = ("!=", "==", "=")
_ESCAPES = {"\\": "\\\\", ",": "\\,", "=": "\\=", "!": "\\!"}


class SelectorError(ValueError):
    """A field selector string is not valid; the message says which term and why."""


@dataclass(frozen=True)
class Requirement:
    """One term: ``field`` ``operator`` (``=``, ``==`` or ``!=``) ``value``."""

    field: str
    operator: str
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether ``fields`` satisfy this term."""
        have = fields.get(self.field)
        if self.operator == "!=":
            return have != self.value
        return have == self.value

    def __str__(self) -> str:
        escaped = "".join(_ESCAPES.get(ch, ch) for ch in self.value)
        return f"{self.field}{self.operator}{escaped}"


@dataclass(frozen=True)
class Selector:
    """A conjunction of :class:`Requirement` terms; the empty one matches everything."""

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def everything(cls) -> Selector:
        return cls()

    @classmethod
    def from_set(cls, fields: Mapping[str, str]) -> Selector:
        """The selector requiring every ``field=value`` of ``fields`` (sorted by field)."""
        return cls(tuple(Requirement(k, "=", fields[k]) for k in sorted(fields)))

    def empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(requirement.matches(fields) for requirement in self.requirements)

    def fields(self) -> tuple[str, ...]:
        """The field paths the selector mentions, in order (for server-side validation)."""
        return tuple(r.field for r in self.requirements)

    def exact_match(self, field: str) -> str | None:
        """The value ``field`` must equal (an ``=``/``==`` term), or ``None``."""
        for requirement in self.requirements:
            if requirement.field == field and requirement.operator != "!=":
                return requirement.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def parse(selector: str) -> Selector:
    """Parse a field selector; ``""`` gives :meth:`Selector.everything`.

    Raises :class:`SelectorError` naming the term it cannot understand.
    """
    if not selector.strip():
        return Selector()
    return Selector(tuple(_parse_term(selector, term) for term in _split_terms(selector)))


def _split_terms(selector: str) -> list[str]:
    terms: list[str] = []
    current: list[str] = []
    chars = iter(selector)
    for ch in chars:
        if ch == "\\":
            current.append(ch)
            current.append(next(chars, ""))
        elif ch == ",":
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return terms


def _parse_term(selector: str, term: str) -> Requirement:
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        for op in _OPERATORS:
            if term.startswith(op, i):
                field = term[:i].strip()
                if not field:
                    break
                return Requirement(field, op, _unescape(selector, term[i + len(op) :]))
        i += 1
    raise SelectorError(
        f"invalid field selector {selector!r}: cannot understand {term!r} "
        "(expected field=value, field==value or field!=value)"
    )


def _unescape(selector: str, value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            escaped = next(chars, "")
            if escaped not in _ESCAPES:
                raise SelectorError(
                    f"invalid field selector {selector!r}: invalid escape sequence "
                    f"'\\{escaped}' in value {value!r}"
                )
            out.append(escaped)
        elif ch in "=!,":
            raise SelectorError(
                f"invalid field selector {selector!r}: unescaped {ch!r} in value {value!r}"
            )
        else:
            out.append(ch)
    return "".join(out)
