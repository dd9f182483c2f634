"""CustomResourceDefinition manifests: their kinds, resources and schemas in v2 form.

Each served version of a CRD becomes a kind definition named the way a Kubernetes server
publishes CRDs in its OpenAPI document: the group reversed, then the version and the kind
(``gateway.networking.k8s.io`` ``v1`` ``Gateway`` -> ``io.k8s.networking.gateway.v1.Gateway``).
Every nested object with properties is hoisted into its own definition (see
:mod:`kgen.spec._hoist`: ``...v1.GatewaySpec``, ``...v1.GatewaySpecListeners``).
``x-kubernetes-*`` markers stay on the schema they were written on. ``metadata`` becomes a
reference to ``ObjectMeta``, as the server does, and a ``<Kind>List`` definition is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kgen.spec._documents import Document
from kgen.spec._hoist import Hoister
from kgen.spec._wellknown import LIST_META, OBJECT_META, SCALE
from kgen.spec.errors import json_pointer
from kgen.spec.model import GroupVersionKind, JSONSchema, Resource, Subresource

__all__ = ["CRDVersion", "crd_versions", "definition_prefix", "kind_definition_names"]

STANDARD_VERBS = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)
_SUB_VERBS = ("get", "patch", "update")
_SCALE_GVK = GroupVersionKind("autoscaling", "v1", "Scale")


def definition_prefix(group: str, version: str) -> str:
    """``io.k8s.networking.gateway.v1`` for ``gateway.networking.k8s.io``/``v1``."""
    return ".".join([*reversed(group.split(".")), version]) if group else version


@dataclass
class CRDVersion:
    """One served version of one CRD, ready to merge into an APIModel."""

    group: str
    version: str
    resource: Resource
    definitions: dict[str, JSONSchema]
    storage: bool
    pointer: str


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _str_field(doc: Document, data: dict[str, Any], key: str, where: list[str | int]) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise doc.error(json_pointer(*where, key), f"{key} must be a non-empty string")
    return value


def _dict_field(doc: Document, data: Any, key: str, where: list[str | int]) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise doc.error(json_pointer(*where, key), f"{key} must be an object")
    return value


def _subresources(raw: Any) -> dict[str, Subresource]:
    subs: dict[str, Subresource] = {}
    if isinstance(raw, dict) and "status" in raw:
        subs["status"] = Subresource("status", _SUB_VERBS)
    if isinstance(raw, dict) and "scale" in raw:
        subs["scale"] = Subresource(
            "scale", _SUB_VERBS, _SCALE_GVK, _SCALE_GVK, request_schema=SCALE, response_schema=SCALE
        )
    return subs


def kind_definition_names(doc: Document) -> set[str]:
    """The kind and list-kind definition names a CRD document will use (best effort: a
    malformed document yields fewer names, and :func:`crd_versions` reports it)."""
    spec = doc.data.get("spec")
    names = spec.get("names") if isinstance(spec, dict) else None
    if not isinstance(names, dict) or not isinstance(spec, dict):
        return set()
    group, kind = str(spec.get("group", "")), str(names.get("kind", ""))
    list_kind = str(names.get("listKind") or f"{kind}List")
    versions = spec.get("versions")
    if not isinstance(versions, list):
        versions = []
    found = {str(spec.get("version", ""))} | {
        str(v.get("name", "")) for v in versions if isinstance(v, dict)
    }
    return {f"{definition_prefix(group, v)}.{k}" for v in found if v for k in (kind, list_kind)}


def crd_versions(doc: Document, taken: set[str]) -> list[CRDVersion]:
    """Every served version of a CRD document (``apiextensions.k8s.io`` v1 or v1beta1).

    ``taken`` holds the definition names already in use (including every CRD's kind names,
    see :func:`kind_definition_names`); names of hoisted definitions are added to it.
    """
    spec = _dict_field(doc, doc.data, "spec", [])
    names = _dict_field(doc, spec, "names", ["spec"])
    group = _str_field(doc, spec, "group", ["spec"])
    kind = _str_field(doc, names, "kind", ["spec", "names"])
    plural = _str_field(doc, names, "plural", ["spec", "names"])
    list_kind = names.get("listKind") or f"{kind}List"
    if not isinstance(list_kind, str):
        raise doc.error("/spec/names/listKind", "listKind must be a string")
    scope = spec.get("scope", "Namespaced")
    if scope not in ("Namespaced", "Cluster"):
        raise doc.error("/spec/scope", f"scope must be Namespaced or Cluster, not {scope!r}")
    versions = spec.get("versions")
    if versions is None and isinstance(spec.get("version"), str):  # v1beta1 single version
        versions = [{"name": spec["version"], "served": True, "storage": True}]
    if not isinstance(versions, list) or not versions:
        raise doc.error("/spec/versions", "a CRD must list at least one version")
    out = []
    for i, entry in enumerate(versions):
        where: list[str | int] = ["spec", "versions", i]
        if not isinstance(entry, dict):
            raise doc.error(json_pointer(*where), "a version must be an object")
        if not entry.get("served", True):
            continue
        version = _str_field(doc, entry, "name", where)
        schema_holder = entry.get("schema") or spec.get("validation") or {}
        schema_where = [*where, "schema"] if entry.get("schema") else ["spec", "validation"]
        root = schema_holder.get("openAPIV3Schema", {}) if isinstance(schema_holder, dict) else {}
        if not isinstance(root, dict):
            raise doc.error(json_pointer(*schema_where, "openAPIV3Schema"), "must be an object")
        prefix = definition_prefix(group, version)
        hoister = Hoister(doc, prefix, kind, taken)
        root = dict(root)
        raw_props = root.get("properties") or {}
        if not isinstance(raw_props, dict):
            where_props = [*schema_where, "openAPIV3Schema", "properties"]
            raise doc.error(json_pointer(*where_props), "properties must be an object")
        meta = raw_props.get("metadata")
        meta_ref: dict[str, Any] = {"$ref": "#/definitions/" + OBJECT_META}
        if isinstance(meta, dict) and isinstance(meta.get("description"), str):
            meta_ref["description"] = meta["description"]
        root["properties"] = {
            "apiVersion": raw_props.get("apiVersion") or {"type": "string"},
            "kind": raw_props.get("kind") or {"type": "string"},
            "metadata": meta_ref,
            **{k: v for k, v in raw_props.items() if k not in ("apiVersion", "kind", "metadata")},
        }
        root.setdefault("type", "object")
        root["x-kubernetes-group-version-kind"] = [
            {"group": group, "kind": kind, "version": version}
        ]
        schema_name = hoister.root(root, [*schema_where, "openAPIV3Schema"])
        list_name = f"{prefix}.{list_kind}"
        hoister.out[list_name] = {
            "description": f"{list_kind} is a list of {kind}.",
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/definitions/" + schema_name}},
                "kind": {"type": "string"},
                "metadata": {"$ref": "#/definitions/" + LIST_META},
            },
            "required": ["items"],
            "x-kubernetes-group-version-kind": [
                {"group": group, "kind": list_kind, "version": version}
            ],
        }
        resource = Resource(
            plural=plural,
            singular=_text(names.get("singular")) or kind.lower(),
            kind=kind,
            namespaced=scope == "Namespaced",
            verbs=STANDARD_VERBS,
            list_kind=list_kind,
            schema=schema_name,
            list_schema=list_name,
            subresources=_subresources(entry.get("subresources", spec.get("subresources"))),
            short_names=_texts(names.get("shortNames")),
            categories=_texts(names.get("categories")),
        )
        out.append(
            CRDVersion(
                group,
                version,
                resource,
                hoister.out,
                bool(entry.get("storage", False)),
                doc.pointer + json_pointer(*where),
            )
        )
    return out
