"""Hoisting nested objects out of a schema into named definitions.

CRD schemas, and the CRD definitions a server publishes in its OpenAPI documents, write nested
objects inline; models need a name for each. Every nested object with properties becomes its
own definition, named after its path from the kind (``...v1.GatewaySpec``,
``...v1.GatewaySpecListeners``; additional-properties values add ``Value``; of a long path only
the last segments that fit in 48 characters are kept), with a numeric suffix on a clash, so
names are deterministic for a given document. Objects that are identical apart from their
description share the first one's definition (large CRDs repeat the same structures many
times). ``x-kubernetes-*`` markers stay on the schema they were written on; a reference keeps
the use site's description, default and nullability.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kgen.spec._documents import Document
from kgen.spec.errors import json_pointer
from kgen.spec.model import JSONSchema

__all__ = ["Hoister", "has_inline_objects"]

_USE_SITE_KEYS = ("description", "default", "nullable")
_MAX_NAME = 48
"""Longest hoisted definition name (after the prefix) built from path segments."""


def _pascal(name: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", name)
    return "".join(w[:1].upper() + w[1:] for w in words if w) or "Field"


def has_inline_objects(schema: Any) -> bool:
    """Whether a definition holds a nested object with properties of its own."""
    if not isinstance(schema, dict):
        return False
    props = schema.get("properties")
    subs = list(props.values()) if isinstance(props, dict) else []
    subs += [schema.get("items"), schema.get("additionalProperties")]
    return any(
        isinstance(sub, dict)
        and (
            (isinstance(sub.get("properties"), dict) and sub["properties"])
            or has_inline_objects(sub)
        )
        for sub in subs
    )


class Hoister:
    """Turns one kind's schema into named v2 definitions (see the module docstring).

    ``taken`` holds every definition name in use; names this hoister gives are added to it.
    One instance per kind; not thread-safe.
    """

    def __init__(self, doc: Document, prefix: str, kind: str, taken: set[str]) -> None:
        self.doc = doc
        self.prefix = prefix
        self.kind = kind
        self.taken = taken
        self.out: dict[str, JSONSchema] = {}
        self.seen: dict[str, str] = {}

    def _full(self, short: str) -> str:
        return f"{self.prefix}.{short}" if self.prefix else short

    def _name(self, segments: tuple[str, ...]) -> str:
        """``<prefix>.<Kind><segments>``: the last segments that fit in ``_MAX_NAME``
        characters (at least one), then a number if the name is taken."""
        keep = len(segments)
        while keep > 1 and len(self.kind) + sum(map(len, segments[-keep:])) > _MAX_NAME:
            keep -= 1
        hint = self._full(self.kind + "".join(segments[-keep:]))
        name, n = hint, 1
        while name in self.taken:
            n += 1
            name = f"{hint}{n}"
        self.taken.add(name)
        return name

    def _body(
        self, schema: JSONSchema, segments: tuple[str, ...], pointer: list[str | int]
    ) -> JSONSchema:
        body = dict(schema)
        props = body.get("properties")
        if props is not None:
            if not isinstance(props, dict):
                raise self.doc.error(json_pointer(*pointer, "properties"), "must be an object")
            body["properties"] = {
                key: self.convert(sub, (*segments, _pascal(key)), [*pointer, "properties", key])
                for key, sub in props.items()
            }
        return body

    def root(self, schema: JSONSchema, pointer: list[str | int]) -> str:
        """Register the kind's schema, and everything nested in it; return its name."""
        name = self._full(self.kind)
        self.out[name] = self._body(schema, (), pointer)
        return name

    def convert(self, schema: Any, segments: tuple[str, ...], pointer: list[str | int]) -> Any:
        """The schema with nested objects hoisted; an object with properties becomes a
        reference (identical objects, descriptions aside, share one definition)."""
        if not isinstance(schema, dict):
            raise self.doc.error(json_pointer(*pointer), "a schema must be an object")
        if isinstance(schema.get("properties"), dict) and schema["properties"]:
            use_site = {k: schema[k] for k in _USE_SITE_KEYS if k in schema}
            body = self._body(schema, segments, pointer)
            key = json.dumps({k: v for k, v in body.items() if k != "description"}, sort_keys=True)
            name = self.seen.get(key)
            if name is None:
                name = self.seen[key] = self._name(segments)
                self.out[name] = body
            return {"$ref": "#/definitions/" + name, **use_site}
        out = dict(schema)
        if "items" in out:
            out["items"] = self.convert(out["items"], segments, [*pointer, "items"])
        if isinstance(out.get("additionalProperties"), dict):
            out["additionalProperties"] = self.convert(
                out["additionalProperties"],
                (*segments, "Value"),
                [*pointer, "additionalProperties"],
            )
        return out
