"""The discovery documents of a registry: legacy (``/api``, ``/apis``, ``/apis/<g>``,
``<group-version>`` resource lists) and aggregated (``apidiscovery.k8s.io/v2``).

Pure functions of the registry; documents are built per request (cheap) and owned by the caller.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from kgen.testing._registry import Registry, ResourceInfo

__all__ = [
    "aggregated",
    "aggregated_content_type",
    "api_group",
    "api_group_list",
    "api_versions",
    "resource_list",
]

JSON = dict[str, Any]


def aggregated_content_type(version: str) -> str:
    """The Content-Type of an aggregated discovery document of ``version``."""
    return f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"


def _address(host: str) -> list[JSON]:
    return [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]


def api_versions(registry: Registry, host: str) -> JSON:
    """``/api``: the versions of the core group."""
    versions = [gv.version for gv in registry.group_versions if gv.group == ""]
    return {
        "kind": "APIVersions",
        "versions": versions,
        "serverAddressByClientCIDRs": _address(host),
    }


def api_group(registry: Registry, group: str) -> JSON | None:
    """``/apis/<group>``, or ``None`` for an unknown group."""
    versions = registry.groups().get(group)
    if not versions:
        return None
    entries = [{"groupVersion": gv.api_version, "version": gv.version} for gv in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_group_list(registry: Registry) -> JSON:
    """``/apis``: every named group."""
    groups = [api_group(registry, name) for name in registry.groups()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [g for g in groups if g]}


def _storage_hash(info: ResourceInfo) -> str:
    digest = hashlib.sha256(f"{info.group}/{info.version}/{info.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def resource_list(registry: Registry, group: str, version: str) -> JSON | None:
    """``/api/v1`` or ``/apis/<group>/<version>``, or ``None`` when not served."""
    if not registry.has_group_version(group, version):
        return None
    gv = registry.model.group_versions[(group, version)]
    entries: list[JSON] = []
    for plural in sorted(gv.resources):
        resource = gv.resources[plural]
        info = registry.get(group, version, plural)
        if info is None:
            continue
        entry: JSON = {
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": sorted(info.verbs),
        }
        if info.short_names:
            entry["shortNames"] = list(info.short_names)
        if info.categories:
            entry["categories"] = list(info.categories)
        if info.verbs:
            entry["storageVersionHash"] = _storage_hash(info)
        entries.append(entry)
        for name in sorted(resource.subresources):
            sub = resource.subresources[name]
            sub_entry: JSON = {
                "name": f"{info.plural}/{name}",
                "singularName": "",
                "namespaced": info.namespaced,
                "kind": sub.response_kind.kind if sub.response_kind else info.kind,
                "verbs": sorted(sub.verbs),
            }
            if sub.response_kind and sub.response_kind.group != group:
                sub_entry["group"] = sub.response_kind.group
                sub_entry["version"] = sub.response_kind.version
            entries.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv.api_version,
        "resources": entries,
    }


def aggregated(registry: Registry, core: bool, version: str = "v2") -> JSON:
    """The ``APIGroupDiscoveryList`` of ``/api`` (``core=True``) or ``/apis``, in
    ``apidiscovery.k8s.io/<version>`` (``v2`` and ``v2beta1`` share one shape)."""
    items: list[JSON] = []
    grouped = (
        {"": [gv for gv in registry.group_versions if gv.group == ""]}
        if core
        else registry.groups()
    )
    for group, versions in grouped.items():
        if not versions:
            continue
        version_entries = []
        for gv in versions:
            resources = []
            for plural in sorted(gv.resources):
                info = registry.get(gv.group, gv.version, plural)
                if info is None:
                    continue
                resource = gv.resources[plural]
                entry: JSON = {
                    "resource": info.plural,
                    "responseKind": {
                        "group": info.group,
                        "version": info.version,
                        "kind": info.kind,
                    },
                    "scope": "Namespaced" if info.namespaced else "Cluster",
                    "singularResource": info.singular,
                    "verbs": sorted(info.verbs),
                }
                if info.short_names:
                    entry["shortNames"] = list(info.short_names)
                if info.categories:
                    entry["categories"] = list(info.categories)
                subs = []
                for name in sorted(resource.subresources):
                    sub = resource.subresources[name]
                    kind = sub.response_kind
                    subs.append(
                        {
                            "subresource": name,
                            "responseKind": {
                                "group": kind.group if kind else info.group,
                                "version": kind.version if kind else info.version,
                                "kind": kind.kind if kind else info.kind,
                            },
                            "verbs": sorted(sub.verbs),
                        }
                    )
                if subs:
                    entry["subresources"] = subs
                resources.append(entry)
            version_entries.append(
                {"version": gv.version, "resources": resources, "freshness": "Current"}
            )
        items.append(
            {"metadata": {"name": group, "creationTimestamp": None}, "versions": version_entries}
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }
