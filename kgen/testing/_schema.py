"""Read the parts of a resource's JSON Schema that change server behaviour.

The server consults schemas for three things: which fields are unknown (dropped, and reported
under ``fieldValidation=Strict``/``Warn``), how a strategic merge patch merges a list
(``x-kubernetes-patch-strategy`` / ``x-kubernetes-patch-merge-key``), and how server-side apply
owns list items (``x-kubernetes-list-type`` / ``x-kubernetes-list-map-keys``). Schemas are the
v2-style dicts of :attr:`kgen.spec.model.APIModel.schemas`; this module never mutates them and
is safe to use from any thread.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kgen.spec._lists import ListMerge, list_merge

__all__ = ["Checker", "ListMerge", "SchemaView"]

JSON = dict[str, Any]
_EMPTY: JSON = {}


class SchemaView:
    """Navigation over a set of named definitions (``$ref: #/definitions/<name>``)."""

    def __init__(self, definitions: Mapping[str, JSON]) -> None:
        self._definitions = definitions

    def named(self, name: str | None) -> JSON | None:
        """The definition called ``name``, or ``None`` when unknown."""
        if name is None:
            return None
        found = self._definitions.get(name)
        return self.resolve(found) if found is not None else None

    def resolve(self, schema: Mapping[str, Any] | None) -> JSON:
        """Follow ``$ref`` (directly or as the single entry of ``allOf``) to a concrete schema."""
        current: Mapping[str, Any] = schema or _EMPTY
        for _ in range(32):
            ref = current.get("$ref")
            if ref is None and len(current.get("allOf") or ()) == 1:
                ref = current["allOf"][0].get("$ref")
            if not isinstance(ref, str):
                break
            target = self._definitions.get(ref.rsplit("/", 1)[-1])
            if target is None:
                return _EMPTY
            current = target
        return dict(current)

    def child(self, schema: Mapping[str, Any] | None, key: str) -> JSON | None:
        """The schema of property ``key`` of an object schema; ``None`` when not declared."""
        resolved = self.resolve(schema)
        properties = resolved.get("properties") or {}
        if key in properties:
            return self.resolve(properties[key])
        extra = resolved.get("additionalProperties")
        if isinstance(extra, Mapping):
            return self.resolve(extra)
        return None

    def items(self, schema: Mapping[str, Any] | None) -> JSON | None:
        resolved = self.resolve(schema)
        items = resolved.get("items")
        return self.resolve(items) if isinstance(items, Mapping) else None

    def list_merge(self, schema: Mapping[str, Any] | None, for_apply: bool) -> ListMerge:
        """How a list field merges in a strategic merge patch (``for_apply=False``) or in
        server-side apply (``for_apply=True``, falling back to the patch strategy)."""
        return list_merge(self.resolve(schema), for_apply)

    def is_open(self, schema: Mapping[str, Any] | None) -> bool:
        """True when an object under ``schema`` may hold any fields (no pruning below it)."""
        resolved = self.resolve(schema)
        if resolved.get("x-kubernetes-preserve-unknown-fields") or resolved.get(
            "x-kubernetes-int-or-string"
        ):
            return True
        return "properties" not in resolved and "additionalProperties" not in resolved

    def prune(self, value: Any, schema: Mapping[str, Any] | None, path: str) -> list[str]:
        """Remove, in place, fields of ``value`` that ``schema`` does not declare, and fields
        it declares whose value is ``null`` unless their schema says ``nullable: true``.

        Returns the JSON paths (``.spec.foo``) of the undeclared fields removed, in document
        order (a dropped null is not reported: it is not an unknown field). ``apiVersion``,
        ``kind`` and ``metadata`` of the top-level object are never pruned. Dropping nulls is
        what both kinds of kube-apiserver storage do: a built-in kind's null decodes into a Go
        zero value that is not written back, a custom resource's non-nullable null is pruned
        before defaulting (so a field with a default gets it).
        """
        removed: list[str] = []
        self._prune(value, schema, path, removed)
        return removed

    def _prune(
        self, value: Any, schema: Mapping[str, Any] | None, path: str, out: list[str]
    ) -> None:
        if schema is None:
            return
        resolved = self.resolve(schema)
        if isinstance(value, dict) and not self.is_open(resolved):
            for key in list(value):
                child = self.child(resolved, key)
                if child is None and not (path == "" and key in ("apiVersion", "kind", "metadata")):
                    out.append(f"{path}.{key}")
                    del value[key]
                elif child is not None and value[key] is None:
                    if not child.get("nullable"):  # child() is already resolved
                        del value[key]
                elif child is not None:
                    self._prune(value[key], child, f"{path}.{key}", out)
        elif isinstance(value, list) and not resolved.get("x-kubernetes-preserve-unknown-fields"):
            item_schema = self.items(resolved)
            for index, item in enumerate(value):
                self._prune(item, item_schema, f"{path}[{index}]", out)


_ZERO_VALUES: tuple[Any, ...] = ("", 0, False, {}, [])
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _type_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, int | str) and not isinstance(value, bool)
    wanted = schema.get("type")
    if not isinstance(wanted, str) or wanted not in _TYPES:
        return True
    if isinstance(value, bool) and wanted != "boolean":
        return False
    if wanted == "string" and schema.get("format") == "int-or-string":
        return isinstance(value, int | str)
    return isinstance(value, _TYPES[wanted])


def _type_name(value: Any) -> str:
    """The JSON type of ``value``, quoted, as CRD validation messages show it."""
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        dict: "object",
        list: "array",
    }
    return f'"{names.get(type(value), "null")}"'


def _literal(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else json.dumps(value)


class Checker:
    """Type, enum and required-field checks, and defaulting, of a value against its schema.

    Problems are ``(field, reason, message)`` triples in the wording of CRD validation
    (``spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer``).
    ``null`` values are not checked (clients send them for fields they leave unset).
    """

    def __init__(self, view: SchemaView) -> None:
        self._view = view

    def check(
        self, value: Any, schema: Mapping[str, Any] | None, path: str
    ) -> list[tuple[str, str, str]]:
        problems: list[tuple[str, str, str]] = []
        self._check(value, schema, path, problems)
        return problems

    def _check(
        self,
        value: Any,
        schema: Mapping[str, Any] | None,
        path: str,
        out: list[tuple[str, str, str]],
    ) -> None:
        if schema is None or value is None:
            return
        resolved = self._view.resolve(schema)
        if not _type_ok(value, resolved):
            wanted = (
                "integer or string"
                if resolved.get("x-kubernetes-int-or-string")
                else resolved.get("type")
            )
            out.append(
                (
                    path,
                    "FieldValueTypeInvalid",
                    f"Invalid value: {_type_name(value)}: {path} in body must be of type {wanted}: {_type_name(value)}",
                )
            )
            return
        enum = resolved.get("enum")
        if isinstance(enum, list) and enum and value not in enum:
            allowed = ", ".join(f'"{e}"' if isinstance(e, str) else str(e) for e in enum)
            out.append(
                (
                    path,
                    "FieldValueNotSupported",
                    f"Unsupported value: {_literal(value)}: supported values: {allowed}",
                )
            )
        if isinstance(value, dict):
            for key in resolved.get("required") or ():
                if key not in value:
                    out.append(
                        (f"{path}.{key}".lstrip("."), "FieldValueRequired", "Required value")
                    )
            for key, child_value in value.items():
                if path == "" and key in ("apiVersion", "kind", "metadata"):
                    continue
                self._check(
                    child_value, self._view.child(resolved, key), f"{path}.{key}".lstrip("."), out
                )
        elif isinstance(value, list):
            items = self._view.items(resolved)
            for index, item in enumerate(value):
                self._check(item, items, f"{path}[{index}]", out)

    def default(self, value: Any, schema: Mapping[str, Any] | None) -> None:
        """Fill, in place, missing properties whose schema gives a non-zero ``default``."""
        if schema is None:
            return
        resolved = self._view.resolve(schema)
        if isinstance(value, dict):
            for key, raw in (resolved.get("properties") or {}).items():
                if key in value or not isinstance(raw, Mapping):
                    continue
                default = raw.get("default")
                if (
                    "default" in raw
                    and "$ref" not in raw
                    and "allOf" not in raw
                    and default not in _ZERO_VALUES
                ):
                    value[key] = json.loads(json.dumps(default))
            for key, child in value.items():
                self.default(child, self._view.child(resolved, key))
        elif isinstance(value, list):
            items = self._view.items(resolved)
            for item in value:
                self.default(item, items)
