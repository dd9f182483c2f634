"""Label selectors: parse, print and match them as the Kubernetes API server does.

Grammar (comma-separated requirements, all of which must hold)::

    key            the label exists
    !key           the label does not exist
    key=value      (also ``==``) the label exists and equals value
    key!=value     the label is absent or differs from value
    key in (a,b)   the label exists and is one of the values
    key notin (a,b)  the label is absent or is none of the values
    key>3, key<3   the label exists, is an integer, and compares so

Keys are qualified names (``[prefix/]name``, prefix a DNS subdomain); values are at most 63
characters of ``[A-Za-z0-9._-]``, starting and ending alphanumeric, or empty. A bad selector
raises :class:`SelectorError` saying what is wrong and at which character.

Selectors are immutable values, safe to share between threads. ``str(selector)`` is canonical:
requirements sorted by key, set values sorted, no spaces, so two equivalent parses print alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Requirement",
    "Selector",
    "SelectorError",
    "from_label_selector",
    "parse",
    "validate_label_key",
    "validate_label_value",
]

# Patterns, not compiled objects: re compiles (and caches) them on first use, so that importing
# kgen.labels (with kgen.cache, by every informer) costs no regex compilation.
_NAME_RE = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
_DNS1123_SUBDOMAIN_RE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_SPECIAL = frozenset("!=(),<> \t\n\r")

_SET_OPS = frozenset({"in", "notin"})
_VALUE_OPS = frozenset({"=", "==", "!=", "in", "notin", "<", ">"})


class SelectorError(ValueError):
    """A selector string (or one of its keys or values) is not valid; the message says why."""


def validate_label_key(key: str) -> None:
    """Raise :class:`SelectorError` unless ``key`` is a valid qualified label key."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        raise SelectorError(f"invalid label key {key!r}: prefix part must be non-empty")
    if slash and (len(prefix) > 253 or not re.match(_DNS1123_SUBDOMAIN_RE, prefix)):
        raise SelectorError(
            f"invalid label key {key!r}: prefix part must be a lowercase DNS subdomain "
            "of at most 253 characters"
        )
    if not name:
        raise SelectorError(f"invalid label key {key!r}: name part must be non-empty")
    if len(name) > 63 or not re.match(_NAME_RE, name):
        raise SelectorError(
            f"invalid label key {key!r}: name part must be at most 63 characters of "
            "[A-Za-z0-9._-], starting and ending with an alphanumeric character"
        )


def validate_label_value(value: str) -> None:
    """Raise :class:`SelectorError` unless ``value`` is a valid label value (empty is valid)."""
    if value and (len(value) > 63 or not re.match(_NAME_RE, value)):
        raise SelectorError(
            f"invalid label value {value!r}: must be empty or at most 63 characters of "
            "[A-Za-z0-9._-], starting and ending with an alphanumeric character"
        )


@dataclass(frozen=True)
class Requirement:
    """One term of a selector: ``key``, an operator, and the values it compares against.

    ``operator`` is one of ``exists``, ``!`` (does not exist), ``=``, ``==``, ``!=``, ``in``,
    ``notin``, ``<``, ``>``. ``values`` is sorted and deduplicated.
    """

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_label_key(self.key)
        if self.operator in ("exists", "!"):
            if self.values:
                raise SelectorError(f"{self.key!r}: operator {self.operator!r} takes no values")
        elif self.operator in _SET_OPS:
            if not self.values:
                raise SelectorError(f"{self.key!r}: values for 'in'/'notin' cannot be empty")
        elif self.operator in ("=", "==", "!="):
            if len(self.values) != 1:
                raise SelectorError(f"{self.key!r}: operator {self.operator!r} takes one value")
        elif self.operator in ("<", ">"):
            if len(self.values) != 1 or not _is_int(self.values[0]):
                raise SelectorError(
                    f"{self.key!r}: operator {self.operator!r} takes one integer value"
                )
        else:
            raise SelectorError(f"{self.key!r}: unknown operator {self.operator!r}")
        if self.operator not in ("<", ">"):
            for value in self.values:
                validate_label_value(value)
        object.__setattr__(self, "values", tuple(sorted(set(self.values))))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement."""
        op = self.operator
        present = self.key in labels
        if op == "exists":
            return present
        if op == "!":
            return not present
        if op in ("=", "==", "in"):
            return present and labels[self.key] in self.values
        if op in ("!=", "notin"):
            return not present or labels[self.key] not in self.values
        if not present or not _is_int(labels[self.key]):
            return False
        have, want = int(labels[self.key]), int(self.values[0])
        return have < want if op == "<" else have > want

    def __str__(self) -> str:
        op = self.operator
        if op == "exists":
            return self.key
        if op == "!":
            return "!" + self.key
        if op in _SET_OPS:
            return f"{self.key} {op} ({','.join(self.values)})"
        return f"{self.key}{op}{self.values[0]}"


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Selector:
    """A conjunction of :class:`Requirement` values; the empty conjunction matches everything.

    ``Selector.nothing()`` is the one selector that matches no set of labels at all (used by
    callers that must express "select nothing", such as a nil label selector on a scale target).
    """

    requirements: tuple[Requirement, ...] = ()
    _nothing: bool = False

    @classmethod
    def everything(cls) -> Selector:
        """The selector that matches every set of labels (printed as ``""``)."""
        return cls()

    @classmethod
    def nothing(cls) -> Selector:
        """The selector that matches no set of labels."""
        return cls(_nothing=True)

    @classmethod
    def from_set(cls, labels: Mapping[str, str]) -> Selector:
        """The selector requiring every ``key=value`` of ``labels``."""
        return cls(tuple(sorted((Requirement(k, "=", (v,)) for k, v in labels.items()), key=_key)))

    def empty(self) -> bool:
        """True when the selector has no requirements and so matches everything."""
        return not self.requirements and not self._nothing

    def matches_nothing(self) -> bool:
        """True for :meth:`nothing`."""
        return self._nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether ``labels`` (``None`` means no labels) satisfy every requirement."""
        if self._nothing:
            return False
        have = labels or {}
        return all(requirement.matches(have) for requirement in self.requirements)

    def and_(self, *requirements: Requirement) -> Selector:
        """A new selector with ``requirements`` added (this one is unchanged)."""
        merged = sorted((*self.requirements, *requirements), key=_key)
        return Selector(tuple(merged), self._nothing)

    def __str__(self) -> str:
        if self._nothing:
            return "<none>"
        return ",".join(str(r) for r in self.requirements)


def _key(requirement: Requirement) -> str:
    return requirement.key


def parse(selector: str) -> Selector:
    """Parse a label selector string; ``""`` (or blanks) gives :meth:`Selector.everything`.

    Raises :class:`SelectorError` naming the offending token and its position.
    """
    return Selector(tuple(sorted(_Parser(selector).parse(), key=_key)))


def from_label_selector(selector: Mapping[str, Any] | Any | None) -> Selector:
    """Convert a ``LabelSelector`` (model or JSON mapping) to a :class:`Selector`.

    ``None`` gives :meth:`Selector.nothing` and an empty selector gives everything, as the API
    server does for workload selectors. ``matchExpressions`` operators are ``In``, ``NotIn``,
    ``Exists`` and ``DoesNotExist``.
    """
    if selector is None:
        return Selector.nothing()
    if isinstance(selector, Mapping):
        match_labels = selector.get("matchLabels") or {}
        expressions = [
            (e.get("key", ""), e.get("operator", ""), e.get("values") or ())
            for e in selector.get("matchExpressions") or ()
        ]
    else:
        match_labels = getattr(selector, "match_labels", None) or {}
        expressions = [
            (e.key, e.operator, e.values or ())
            for e in getattr(selector, "match_expressions", None) or ()
        ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    requirements = [Requirement(k, "=", (v,)) for k, v in match_labels.items()]
    for key, operator, values in expressions:
        if operator not in ops:
            raise SelectorError(f"{key!r}: {operator!r} is not a valid label selector operator")
        requirements.append(Requirement(key, ops[operator], tuple(values)))
    return Selector(tuple(sorted(requirements, key=_key)))


class _Parser:
    """A hand-written lexer and recursive-descent parser over one selector string."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(self._lex(text))
        self.index = 0

    @staticmethod
    def _lex(text: str) -> Iterable[tuple[str, str, int]]:
        """Yield ``(kind, text, position)``; kinds are ``id``, an operator, or ``(`` ``)`` ``,``."""
        i = 0
        while i < len(text):
            ch = text[i]
            if ch.isspace():
                i += 1
            elif text.startswith(("==", "!="), i):
                yield (text[i : i + 2], text[i : i + 2], i)
                i += 2
            elif ch in "!=(),<>":
                yield (ch, ch, i)
                i += 1
            else:
                start = i
                while i < len(text) and text[i] not in _SPECIAL:
                    i += 1
                word = text[start:i]
                yield ((word if word in _SET_OPS else "id"), word, start)
        yield ("end", "", len(text))

    def _peek(self) -> tuple[str, str, int]:
        return self.tokens[self.index]

    def _next(self) -> tuple[str, str, int]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    @staticmethod
    def _as_word(token: tuple[str, str, int]) -> tuple[str, str, int]:
        """Where a key or value is expected, ``in`` and ``notin`` are plain words.

        labels.Parser.consume(Values) reads them so, which makes ``in=0`` and ``a in (notin)``
        valid selectors.
        """
        return ("id", token[1], token[2]) if token[0] in _SET_OPS else token

    def _fail(self, token: tuple[str, str, int], expected: str) -> SelectorError:
        found = f"{token[1]!r}" if token[0] != "end" else "end of string"
        return SelectorError(
            f"unable to parse label selector {self.text!r}: found {found} at position "
            f"{token[2]}, expected {expected}"
        )

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        if self._peek()[0] == "end":
            return requirements
        while True:
            requirements.append(self._requirement())
            token = self._next()
            if token[0] == "end":
                return requirements
            if token[0] != ",":
                raise self._fail(token, "',' or end of string")

    def _requirement(self) -> Requirement:
        negated = self._peek()[0] == "!"
        if negated:
            self._next()
        token = self._as_word(self._next())
        if token[0] != "id":
            raise self._fail(token, "a label key")
        key = token[1]
        follower = self._peek()
        if follower[0] in (",", "end"):
            return self._build(key, "!" if negated else "exists", ())
        if negated:
            raise self._fail(follower, "',' or end of string after '!key'")
        op_token = self._next()
        if op_token[0] not in _VALUE_OPS:
            raise self._fail(op_token, "an operator (=, ==, !=, in, notin, <, >)")
        op = op_token[0]
        if op in _SET_OPS:
            return self._build(key, op, self._set_values())
        value = self._as_word(self._peek())
        if value[0] == "id":
            self._next()
            return self._build(key, op, (value[1],))
        if value[0] in (",", "end") and op not in ("<", ">"):
            return self._build(key, op, ("",))
        raise self._fail(value, "a value")

    def _set_values(self) -> tuple[str, ...]:
        token = self._next()
        if token[0] != "(":
            raise self._fail(token, "'('")
        values: list[str] = []
        expect_value = True
        while True:
            token = self._as_word(self._next())
            if token[0] == ")":
                if expect_value and values:
                    values.append("")
                return tuple(values)
            if token[0] == "," and expect_value:
                values.append("")
            elif token[0] == "," or (token[0] == "id" and expect_value):
                if token[0] == "id":
                    values.append(token[1])
                expect_value = token[0] == ","
            else:
                raise self._fail(token, "a value, ',' or ')'")

    def _build(self, key: str, op: str, values: tuple[str, ...]) -> Requirement:
        try:
            return Requirement(key, op, values)
        except SelectorError as err:
            raise SelectorError(f"unable to parse label selector {self.text!r}: {err}") from None
