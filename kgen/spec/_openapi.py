"""OpenAPI v2 and v3 documents: their schemas in v2 form, and the resources their paths serve.

v3 ``components/schemas`` are translated into the v2 shape the rest of kgen reads: every
``$ref`` points at ``#/definitions/<name>``, and the v3 idiom ``allOf: [{$ref: X}]`` (used to
attach a description or default to a reference) becomes a plain ``$ref`` with those siblings.
Resources are derived from the paths, using the ``x-kubernetes-action`` and
``x-kubernetes-group-version-kind`` extensions every Kubernetes server publishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kgen.spec._documents import Document
from kgen.spec.errors import json_pointer
from kgen.spec.model import GroupVersionKind, JSONSchema

__all__ = ["PathResource", "definitions_of", "gvks_of", "resources_from_paths"]

V2_PREFIX = "#/definitions/"
_V3_PREFIX = "#/components/schemas/"
_COLLECTION_VERBS = {"list": "list", "watchlist": "watch", "post": "create"}
_ITEM_VERBS = {
    "get": "get",
    "put": "update",
    "patch": "patch",
    "delete": "delete",
    "watch": "watch",
}
_METHOD_VERBS = {
    "get": "get",
    "post": "create",
    "put": "update",
    "patch": "patch",
    "delete": "delete",
}


def _to_v2(value: Any, doc: Document, path: list[str | int]) -> Any:
    """A copy of a v3 schema tree with references in v2 form (see the module docstring)."""
    if isinstance(value, list):
        out_list = []
        for i, item in enumerate(value):
            path.append(i)
            out_list.append(_to_v2(item, doc, path))
            path.pop()
        return out_list
    if not isinstance(value, dict):
        return value
    ref = value.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith(_V3_PREFIX):
            raise doc.error(json_pointer(*path, "$ref"), f"unsupported reference {ref!r}")
        value = {**value, "$ref": V2_PREFIX + ref[len(_V3_PREFIX) :]}
    all_of = value.get("allOf")
    if (
        isinstance(all_of, list)
        and len(all_of) == 1
        and isinstance(all_of[0], dict)
        and set(all_of[0]) == {"$ref"}
        and "$ref" not in value
    ):
        value = {**{k: v for k, v in value.items() if k != "allOf"}, "$ref": all_of[0]["$ref"]}
        path.append("allOf")
        value = _to_v2(value, doc, path)
        path.pop()
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        path.append(key)
        out[key] = _to_v2(item, doc, path)
        path.pop()
    return out


def definitions_of(doc: Document) -> tuple[dict[str, JSONSchema], str]:
    """The schemas of an OpenAPI document in v2 form, and the JSON pointer they came from."""
    if doc.kind == "openapi-v2":
        defs = doc.data.get("definitions", {})
        where = "/definitions"
        if not isinstance(defs, dict):
            raise doc.error(where, "definitions must be an object")
        _check_objects(doc, defs, where)
        return dict(defs), where
    components = doc.data.get("components", {})
    schemas = components.get("schemas", {}) if isinstance(components, dict) else None
    where = "/components/schemas"
    if not isinstance(schemas, dict):
        raise doc.error(where, "components/schemas must be an object")
    _check_objects(doc, schemas, where)
    return {
        name: _to_v2(schema, doc, ["components", "schemas", name])
        for name, schema in schemas.items()
    }, where


def _check_objects(doc: Document, defs: dict[str, Any], where: str) -> None:
    for name, schema in defs.items():
        if not isinstance(schema, dict):
            raise doc.error(where + json_pointer(name), "a schema must be an object")


def gvks_of(schema: JSONSchema) -> tuple[GroupVersionKind, ...]:
    """The kinds a definition declares with ``x-kubernetes-group-version-kind``."""
    raw = schema.get("x-kubernetes-group-version-kind")
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        return ()
    return tuple(
        GroupVersionKind(str(e.get("group", "")), str(e.get("version", "")), str(e.get("kind")))
        for e in raw
        if isinstance(e, dict) and e.get("kind")
    )


@dataclass
class PathSubresource:
    """A subresource as seen in the paths (see :class:`kgen.spec.model.Subresource`)."""

    verbs: set[str] = field(default_factory=set)
    kind: GroupVersionKind | None = None
    request_schema: str | None = None
    response_schema: str | None = None


@dataclass
class PathResource:
    """What the paths of one document say about one resource, before it becomes a Resource."""

    group: str
    version: str
    plural: str
    namespaced: bool = False
    kind: GroupVersionKind | None = None
    verbs: set[str] = field(default_factory=set)
    subresources: dict[str, PathSubresource] = field(default_factory=dict)


def _split_path(path: str) -> tuple[str, str, list[str]] | None:
    """``(group, version, remaining segments)`` of an API path, or None for other paths."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        return "", parts[1], parts[2:]
    if len(parts) >= 4 and parts[0] == "apis":
        return parts[1], parts[2], parts[3:]
    return None


def _ref_name(schema: Any) -> str | None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith((V2_PREFIX, _V3_PREFIX)):
            return ref.rsplit("/", 1)[1]
    return None


def _body_schema(doc: Document, op: dict[str, Any], shared: list[Any]) -> str | None:
    if doc.kind == "openapi-v3":
        body = op.get("requestBody")
        content = body.get("content") if isinstance(body, dict) else None
        for media in content.values() if isinstance(content, dict) else ():
            if isinstance(media, dict) and (name := _ref_name(media.get("schema"))):
                return name
        return None
    params = doc.data.get("parameters")
    own = op.get("parameters")
    for param in [*shared, *(own if isinstance(own, list) else ())]:
        if isinstance(param, dict) and isinstance(param.get("$ref"), str):
            param = (
                params.get(param["$ref"].rsplit("/", 1)[-1]) if isinstance(params, dict) else None
            )
        if isinstance(param, dict) and param.get("in") == "body":
            return _ref_name(param.get("schema"))
    return None


def _response_schema(doc: Document, op: dict[str, Any]) -> str | None:
    responses = op.get("responses", {})
    for code in ("200", "201", "202"):
        response = responses.get(code) if isinstance(responses, dict) else None
        if not isinstance(response, dict):
            continue
        if doc.kind == "openapi-v2":
            return _ref_name(response.get("schema"))
        content = response.get("content", {})
        for media in content.values() if isinstance(content, dict) else ():
            if isinstance(media, dict) and (name := _ref_name(media.get("schema"))):
                return name
        return None
    return None


def _operations(doc: Document) -> Iterator[tuple[str, str, dict[str, Any], list[Any]]]:
    paths = doc.data.get("paths", {})
    if not isinstance(paths, dict):
        raise doc.error("/paths", "paths must be an object")
    for path, item in paths.items():
        if not isinstance(item, dict):
            raise doc.error(json_pointer("paths", path), "a path item must be an object")
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method != "parameters" and isinstance(op, dict):
                yield path, method, op, shared if isinstance(shared, list) else []


def resources_from_paths(doc: Document) -> dict[tuple[str, str, str], PathResource]:
    """Resources keyed by ``(group, version, plural)``, derived from the document's paths.

    A resource is namespaced when any of its paths has a ``namespaces/{namespace}`` prefix;
    its verbs come from the operations' ``x-kubernetes-action``; path segments after
    ``{name}`` name subresources. Operations without a kind (discovery endpoints) are skipped.
    """
    found: dict[tuple[str, str, str], PathResource] = {}
    for path, method, op, shared in _operations(doc):
        action = op.get("x-kubernetes-action")
        raw_gvk = op.get("x-kubernetes-group-version-kind")
        split = _split_path(path)
        if not isinstance(action, str) or not isinstance(raw_gvk, dict) or split is None:
            continue
        if not isinstance(raw_gvk.get("kind"), str) or not raw_gvk["kind"]:
            raise doc.error(
                json_pointer("paths", path, method, "x-kubernetes-group-version-kind"),
                "x-kubernetes-group-version-kind needs a kind",
            )
        group, version, segments = split
        if segments[0] == "watch":
            segments = segments[1:]
        namespaced = len(segments) >= 3 and segments[:2] == ["namespaces", "{namespace}"]
        if namespaced:
            segments = segments[2:]
        if not segments or segments[0].startswith("{"):
            continue
        gvk = GroupVersionKind(
            str(raw_gvk.get("group", "")), str(raw_gvk.get("version", "")), str(raw_gvk["kind"])
        )
        res = found.setdefault(
            (group, version, segments[0]), PathResource(group, version, segments[0])
        )
        res.namespaced = res.namespaced or namespaced
        is_item = len(segments) >= 2 and segments[1].startswith("{")
        if is_item and len(segments) >= 3:
            sub = res.subresources.setdefault(segments[2], PathSubresource())
            verb = _ITEM_VERBS.get(action) if action != "connect" else None
            verb = verb or _METHOD_VERBS.get(method)
            if verb:
                sub.verbs.add(verb)
            sub.kind = sub.kind or gvk
            if method in ("put", "post"):
                sub.request_schema = sub.request_schema or _body_schema(doc, op, shared)
            sub.response_schema = sub.response_schema or _response_schema(doc, op)
            continue
        verb = _ITEM_VERBS.get(action) if is_item else _COLLECTION_VERBS.get(action)
        if action == "deletecollection" or (action == "delete" and not is_item):
            verb = "deletecollection"
        if verb:
            res.verbs.add(verb)
            res.kind = res.kind or gvk
    return found
