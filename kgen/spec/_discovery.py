"""Discovery documents: what a server says it serves (scope, verbs, subresources, names).

Understands the legacy documents (``APIResourceList``, ``APIGroupList``, ``APIGroup``,
``APIVersions``) and aggregated discovery (``apidiscovery.k8s.io/v2``
``APIGroupDiscoveryList``). The result carries no schemas; the loader joins it with the
OpenAPI documents by kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kgen.spec._documents import Document
from kgen.spec.errors import json_pointer
from kgen.spec.model import GroupVersionKind, Resource, Subresource

__all__ = ["Discovery", "read_discovery"]


@dataclass
class Discovery:
    """Resources by ``(group, version)`` and plural, and each group's preferred version."""

    resources: dict[tuple[str, str], dict[str, Resource]] = field(default_factory=dict)
    preferred: dict[str, str] = field(default_factory=dict)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _split_gv(group_version: str) -> tuple[str, str]:
    group, _, version = group_version.rpartition("/")
    return group, version


def _legacy_resources(doc: Document, into: Discovery) -> None:
    gv = doc.data.get("groupVersion")
    entries = doc.data.get("resources")
    if not isinstance(gv, str) or not isinstance(entries, list):
        raise doc.error("", "an APIResourceList needs groupVersion and resources")
    group, version = _split_gv(gv)
    table = into.resources.setdefault((group, version), {})
    subs: list[tuple[int, dict[str, Any]]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise doc.error(json_pointer("resources", i), "a resource needs a name")
        if "/" in entry["name"]:
            subs.append((i, entry))
            continue
        kind = entry.get("kind")
        if not isinstance(kind, str):
            raise doc.error(json_pointer("resources", i, "kind"), "a resource needs a kind")
        table[entry["name"]] = Resource(
            plural=entry["name"],
            singular=_str(entry.get("singularName"), kind.lower()),
            kind=kind,
            namespaced=bool(entry.get("namespaced")),
            verbs=_strings(entry.get("verbs")),
            short_names=_strings(entry.get("shortNames")),
            categories=_strings(entry.get("categories")),
        )
    for i, entry in subs:
        parent_name, _, sub_name = entry["name"].partition("/")
        parent = table.get(parent_name)
        if parent is None:
            raise doc.error(
                json_pointer("resources", i, "name"), f"subresource of unknown {parent_name!r}"
            )
        kind = entry.get("kind")
        sub_gvk = None
        if isinstance(kind, str) and kind != parent.kind:
            sub_gvk = GroupVersionKind(
                str(entry.get("group", group)), str(entry.get("version", version)), kind
            )
        parent.subresources[sub_name] = Subresource(
            sub_name, _strings(entry.get("verbs")), sub_gvk, sub_gvk
        )


def _kind_of(raw: Any, group: str, version: str) -> GroupVersionKind | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
        return None
    return GroupVersionKind(
        _str(raw.get("group"), group) if raw.get("version") else group,
        _str(raw.get("version"), version),
        raw["kind"],
    )


def _aggregated(doc: Document, into: Discovery) -> None:
    items = doc.data.get("items")
    if not isinstance(items, list):
        raise doc.error("/items", "an APIGroupDiscoveryList needs items")
    for i, item in enumerate(items):
        metadata = item.get("metadata") if isinstance(item, dict) else None
        group = _str(metadata.get("name") if isinstance(metadata, dict) else None, "")
        versions = item.get("versions") if isinstance(item, dict) else None
        if not isinstance(versions, list):
            raise doc.error(json_pointer("items", i, "versions"), "versions must be an array")
        for j, ver in enumerate(versions):
            where: list[str | int] = ["items", i, "versions", j]
            if not isinstance(ver, dict) or not isinstance(ver.get("version"), str):
                raise doc.error(json_pointer(*where), "a version needs a version name")
            version = ver["version"]
            if j == 0:
                into.preferred.setdefault(group, version)
            table = into.resources.setdefault((group, version), {})
            for k, res in enumerate(_list(ver.get("resources"))):
                rwhere: list[str | int] = [*where, "resources", k]
                gvk = _kind_of(
                    res.get("responseKind") if isinstance(res, dict) else None, group, version
                )
                if (
                    not isinstance(res, dict)
                    or not isinstance(res.get("resource"), str)
                    or gvk is None
                ):
                    raise doc.error(
                        json_pointer(*rwhere), "a resource needs resource and responseKind"
                    )
                subs = {}
                for sub in _list(res.get("subresources")):
                    if not isinstance(sub, dict) or not isinstance(sub.get("subresource"), str):
                        continue
                    sub_gvk = _kind_of(sub.get("responseKind"), group, version)
                    if sub_gvk is not None and sub_gvk.kind == gvk.kind:
                        sub_gvk = None
                    subs[sub["subresource"]] = Subresource(
                        sub["subresource"], _strings(sub.get("verbs")), sub_gvk, sub_gvk
                    )
                table[res["resource"]] = Resource(
                    plural=res["resource"],
                    singular=_str(res.get("singularResource"), gvk.kind.lower()),
                    kind=gvk.kind,
                    namespaced=res.get("scope") == "Namespaced",
                    verbs=_strings(res.get("verbs")),
                    subresources=subs,
                    short_names=_strings(res.get("shortNames")),
                    categories=_strings(res.get("categories")),
                )


def _group(doc: Document, data: Any, into: Discovery, where: list[str | int]) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise doc.error(json_pointer(*where), "an APIGroup needs a name")
    preferred = data.get("preferredVersion")
    if isinstance(preferred, dict) and isinstance(preferred.get("version"), str):
        into.preferred[data["name"]] = preferred["version"]


def read_discovery(doc: Document, into: Discovery) -> None:
    """Add what one discovery document says to ``into``."""
    kind = doc.data.get("kind")
    if kind == "APIResourceList":
        _legacy_resources(doc, into)
    elif kind == "APIGroupDiscoveryList":
        _aggregated(doc, into)
    elif kind == "APIGroupList":
        for i, group in enumerate(_list(doc.data.get("groups"))):
            _group(doc, group, into, ["groups", i])
    elif kind == "APIGroup":
        _group(doc, doc.data, into, [])
    elif kind == "APIVersions":
        into.preferred.setdefault("", "v1")
