"""Aggregated discovery (``apidiscovery.k8s.io/v2``): one document with groups AND resources.

A server that supports it answers ``/api`` and ``/apis`` with an ``APIGroupDiscoveryList`` when
asked through the ``Accept`` header (:data:`AGGREGATED_ACCEPT`). :func:`split_groups_and_resources`
turns it into the legacy shapes (``APIGroupList`` plus one ``APIResourceList`` per group/version)
so that everything above discovery handles one form only. Pure data: no I/O, thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from kgen.client import format_group_version
from kgen.meta import (
    UNSET,
    APIGroup,
    APIResource,
    APIResourceList,
    GroupVersionForDiscovery,
    ListMeta,
    Model,
    ObjectMeta,
    UnsetType,
)

__all__ = [
    "AGGREGATED_ACCEPT",
    "LEGACY_ACCEPT",
    "APIGroupDiscovery",
    "APIGroupDiscoveryList",
    "APIResourceDiscovery",
    "APISubresourceDiscovery",
    "APIVersionDiscovery",
    "DiscoveredGroups",
    "DiscoveryKind",
    "StaleGroupVersionError",
    "is_aggregated_content_type",
    "split_groups_and_resources",
]

_AGGREGATED_PARAMS = {"g": "apidiscovery.k8s.io", "v": "v2", "as": "APIGroupDiscoveryList"}
AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
)
"""``Accept`` of group discovery: aggregated v2 preferred, plain JSON (legacy) as fallback."""
LEGACY_ACCEPT = "application/json"


class DiscoveryKind(Model):
    """The group/version/kind a resource answers with (``""`` group/version: the parent's)."""

    group: str = ""
    version: str = ""
    kind: str = ""


class APISubresourceDiscovery(Model):
    """One subresource (``status``, ``scale``, ...) of a discovered resource."""

    subresource: str
    verbs: tuple[str, ...] = ()
    response_kind: DiscoveryKind | None | UnsetType = msgspec.field(
        name="responseKind", default=UNSET
    )
    accepted_types: tuple[DiscoveryKind, ...] | None | UnsetType = msgspec.field(
        name="acceptedTypes", default=UNSET
    )


class APIResourceDiscovery(Model):
    """One resource of a group/version in aggregated form."""

    resource: str
    scope: str
    verbs: tuple[str, ...] = ()
    response_kind: DiscoveryKind | None | UnsetType = msgspec.field(
        name="responseKind", default=UNSET
    )
    singular_resource: str = msgspec.field(name="singularResource", default="")
    short_names: tuple[str, ...] | None | UnsetType = msgspec.field(
        name="shortNames", default=UNSET
    )
    categories: tuple[str, ...] | None | UnsetType = UNSET
    subresources: tuple[APISubresourceDiscovery, ...] | None | UnsetType = UNSET


class APIVersionDiscovery(Model):
    """One version of a group; ``freshness`` is ``Stale`` when the server could not refresh it."""

    version: str
    resources: tuple[APIResourceDiscovery, ...] | None | UnsetType = UNSET
    freshness: str | None | UnsetType = UNSET


class APIGroupDiscovery(Model):
    """One group: its name in ``metadata.name`` and its versions, most preferred first."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    versions: tuple[APIVersionDiscovery, ...] | None | UnsetType = UNSET


class APIGroupDiscoveryList(Model):
    """The aggregated discovery document of ``/api`` or ``/apis``."""

    items: tuple[APIGroupDiscovery, ...] = ()
    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | None | UnsetType = UNSET
    metadata: ListMeta | None | UnsetType = UNSET


class StaleGroupVersionError(Exception):
    """Aggregated discovery marked a group/version ``Stale``: its resources are unknown."""

    def __init__(self, group_version: str) -> None:
        super().__init__(f"stale group/version in aggregated discovery: {group_version}")
        self.group_version = group_version


def is_aggregated_content_type(content_type: str) -> bool:
    """Whether a response ``Content-Type`` is the aggregated v2 list (parameters in any order)."""
    media_type, *raw_params = (part.strip() for part in content_type.split(";"))
    if media_type.lower() != "application/json":
        return False
    params = {}
    for raw in raw_params:
        key, _, value = raw.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return all(params.get(key) == value for key, value in _AGGREGATED_PARAMS.items())


@dataclass
class DiscoveredGroups:
    """What one round of group discovery found, in legacy shapes.

    ``groups`` in discovery order (core first); ``resources`` by group/version when the server
    sent them along (aggregated discovery), else ``None`` (ask per group/version); ``failed``:
    group/versions whose resources are unknown, with the reason.
    """

    groups: list[APIGroup] = field(default_factory=list)
    resources: dict[str, APIResourceList] | None = None
    failed: dict[str, Exception] = field(default_factory=dict)


def split_groups_and_resources(document: APIGroupDiscoveryList) -> DiscoveredGroups:
    """Convert an aggregated document to legacy groups and resource lists.

    Versions keep their order; the first version that is not ``Stale`` becomes the preferred
    one; ``Stale`` versions are left out and reported in ``failed``. Subresources become
    ``<resource>/<subresource>`` entries, as legacy discovery lists them. A resource (or
    subresource) without a ``responseKind`` is dropped, since its kind is unknown.
    """
    split = DiscoveredGroups(resources={})
    resources: dict[str, APIResourceList] = {}
    for item in document.items:
        group_name = item.metadata.name if isinstance(item.metadata.name, str) else ""
        versions: list[GroupVersionForDiscovery] = []
        for version in item.versions or ():
            group_version = format_group_version(group_name, version.version)
            if version.freshness == "Stale":
                split.failed[group_version] = StaleGroupVersionError(group_version)
                continue
            versions.append(
                GroupVersionForDiscovery(group_version=group_version, version=version.version)
            )
            resources[group_version] = APIResourceList(
                group_version=group_version,
                resources=tuple(_legacy_resources(version.resources or ())),
            )
        split.groups.append(
            APIGroup(
                name=group_name,
                versions=tuple(versions),
                preferred_version=versions[0] if versions else UNSET,
            )
        )
    split.resources = resources
    return split


def _legacy_resources(resources: tuple[APIResourceDiscovery, ...]) -> list[APIResource]:
    converted: list[APIResource] = []
    for resource in resources:
        kind = resource.response_kind
        namespaced = resource.scope == "Namespaced"
        if isinstance(kind, DiscoveryKind):
            converted.append(
                APIResource(
                    name=resource.resource,
                    singular_name=resource.singular_resource,
                    namespaced=namespaced,
                    kind=kind.kind,
                    verbs=resource.verbs,
                    short_names=resource.short_names,
                    categories=resource.categories,
                    group=kind.group or UNSET,
                    version=kind.version or UNSET,
                )
            )
        for sub in resource.subresources or ():
            sub_kind = sub.response_kind
            if not isinstance(sub_kind, DiscoveryKind):
                continue
            converted.append(
                APIResource(
                    name=f"{resource.resource}/{sub.subresource}",
                    singular_name=resource.singular_resource,
                    namespaced=namespaced,
                    kind=sub_kind.kind,
                    verbs=sub.verbs,
                    group=sub_kind.group or UNSET,
                    version=sub_kind.version or UNSET,
                )
            )
    return converted
