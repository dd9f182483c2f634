"""Checking a set of definitions: every ``$ref`` resolves, no definition is only an alias of
itself (``A -> B -> A``), and no property name holds a backslash, a double quote or a control
character (no JSON library kgen uses can name a field so). Recursion through properties
(``JSONSchemaProps``) is legal.

Walks are schema-aware: only keywords that hold schemas are followed, so a ``$ref`` key inside
an ``enum``, ``default`` or ``example`` value, or a property *named* ``$ref``, is not a
reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from kgen.spec.errors import json_pointer
from kgen.spec.model import JSONSchema

__all__ = ["check_definitions", "ref_target", "sub_schemas"]

DEFINITIONS = "#/definitions/"
_BAD_PROPERTY = re.compile(r'[\\"\x00-\x1f]')
_MAP_KEYWORDS = ("properties", "patternProperties")
_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf")
_ONE_KEYWORDS = ("not", "additionalItems")


def sub_schemas(schema: JSONSchema) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """The schemas directly nested in ``schema``, each with its relative path."""
    for key in _MAP_KEYWORDS:
        value = schema.get(key)
        if isinstance(value, dict):
            for name, sub in value.items():
                yield (key, name), sub
    for key in _LIST_KEYWORDS:
        value = schema.get(key)
        if isinstance(value, list):
            for i, sub in enumerate(value):
                yield (key, i), sub
    items = schema.get("items")
    if isinstance(items, list):
        for i, sub in enumerate(items):
            yield ("items", i), sub
    elif items is not None:
        yield ("items",), items
    for key in ("additionalProperties", *_ONE_KEYWORDS):
        value = schema.get(key)
        if isinstance(value, dict):
            yield (key,), value


def ref_target(schema: JSONSchema) -> str | None:
    """The definition name a schema's ``$ref`` points at, or None if it has no reference."""
    ref = schema.get("$ref")
    return ref[len(DEFINITIONS) :] if isinstance(ref, str) else None


ErrorFactory = Callable[[str, str, str], Exception]
"""``(definition name, JSON pointer inside it, message) -> exception to raise``."""


def _walk(
    schema: Any, path: list[str | int], name: str, defs: dict[str, JSONSchema], fail: ErrorFactory
) -> None:
    if not isinstance(schema, dict):
        raise fail(name, json_pointer(*path), "a schema must be an object")
    ref = schema.get("$ref")
    if ref is not None:
        if not isinstance(ref, str) or not ref.startswith(DEFINITIONS):
            raise fail(name, json_pointer(*path, "$ref"), f"unsupported reference {ref!r}")
        if ref[len(DEFINITIONS) :] not in defs:
            raise fail(name, json_pointer(*path, "$ref"), f"dangling reference {ref!r}")
    props = schema.get("properties")
    for prop in props if isinstance(props, dict) else ():
        if _BAD_PROPERTY.search(prop):
            raise fail(
                name,
                json_pointer(*path, "properties", prop),
                f"property name {prop!r} contains a backslash, a double quote or a control "
                "character; kgen cannot model it",
            )
    for rel, sub in sub_schemas(schema):
        _walk(sub, [*path, *rel], name, defs, fail)


def _is_alias(schema: JSONSchema) -> bool:
    return ref_target(schema) is not None and not schema.get("properties")


def check_definitions(defs: dict[str, JSONSchema], fail: ErrorFactory) -> None:
    """Raise ``fail(...)`` for the first dangling, non-local or alias-cyclic reference."""
    for name, schema in defs.items():
        _walk(schema, [], name, defs, fail)
    for name in defs:
        seen = [name]
        current = defs[name]
        while _is_alias(current):
            target = ref_target(current)
            assert target is not None
            if target in seen:
                chain = " -> ".join([*seen, target])
                raise fail(name, "/$ref", f"cyclic reference: {chain}")
            seen.append(target)
            current = defs[target]
