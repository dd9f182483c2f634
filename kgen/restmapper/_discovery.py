"""REST mappers built from discovery: the eager one, the short-name expander, the deferred one.

* :func:`get_api_group_resources` reads groups and resources from a discovery client,
  tolerating group/versions that failed (they are simply absent).
* :func:`new_discovery_rest_mapper` builds the mapper: core ``v1`` first, then every group in
  discovery order with its preferred version before the others; kinds map to their plural and
  singular names (the lowercase kind and ``<Kind>List`` too); subresources are skipped.
* :class:`ShortcutExpander` lets users type short names (``deploy``) and group prefixes
  (``hpa.autoscal`` finds ``autoscaling``) before delegating.
* :class:`DeferredDiscoveryRESTMapper` builds its delegate on first use from a cached discovery
  client, and when a lookup fails against stale cached discovery it invalidates and retries once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from kgen.client import (
    GroupKind,
    GroupVersionKind,
    GroupVersionResource,
    parse_group_version,
)
from kgen.discovery import GroupDiscoveryFailedError
from kgen.meta import APIGroup, APIResource, APIResourceList, GroupVersionForDiscovery
from kgen.restmapper._composite import ANY, MultiRESTMapper, PriorityRESTMapper
from kgen.restmapper._default import DefaultRESTMapper
from kgen.restmapper._mapper import RESTMapper, RESTMapping, RESTScope

__all__ = [
    "APIGroupResources",
    "DeferredDiscoveryRESTMapper",
    "ShortcutExpander",
    "get_api_group_resources",
    "new_discovery_rest_mapper",
]

V = TypeVar("V")


class _GroupsAndResources(Protocol):
    def server_groups_and_resources(self) -> tuple[list[APIGroup], list[APIResourceList]]: ...


class _CachedDiscovery(_GroupsAndResources, Protocol):
    def fresh(self) -> bool: ...

    def invalidate(self) -> None: ...


@dataclass
class APIGroupResources:
    """A discovered group and, per version name, the resources that version serves."""

    group: APIGroup
    versioned_resources: dict[str, tuple[APIResource, ...]] = field(default_factory=dict)


def get_api_group_resources(discovery: _GroupsAndResources) -> list[APIGroupResources]:
    """Every group with its resources per version; failed group/versions are left out."""
    try:
        groups, resource_lists = discovery.server_groups_and_resources()
    except GroupDiscoveryFailedError as err:
        groups, resource_lists = err.groups, err.resources
    by_group_version = {rl.group_version: rl.resources for rl in resource_lists}
    result = []
    for group in groups:
        entry = APIGroupResources(group)
        for version in group.versions:
            if version.group_version in by_group_version:
                entry.versioned_resources[version.version] = by_group_version[version.group_version]
        result.append(entry)
    return result


def _preferred_version(group: APIGroup) -> str:
    preferred = group.preferred_version
    return preferred.version if isinstance(preferred, GroupVersionForDiscovery) else ""


def new_discovery_rest_mapper(groups: Sequence[APIGroupResources]) -> RESTMapper:
    """A mapper over discovered resources with client-go's preference order (module doc)."""
    resource_priority = [GroupVersionResource("", "v1", ANY)]
    kind_priority = [GroupVersionKind("", "v1", ANY)]
    mappers: list[RESTMapper] = []
    for entry in groups:
        name = entry.group.name
        preferred = _preferred_version(entry.group)
        if preferred and preferred in entry.versioned_resources:
            resource_priority.append(GroupVersionResource(name, preferred, ANY))
            kind_priority.append(GroupVersionKind(name, preferred, ANY))
        for discovered in entry.group.versions:
            version = discovered.version
            if version not in entry.versioned_resources:
                continue
            if version != preferred:
                resource_priority.append(GroupVersionResource(name, version, ANY))
                kind_priority.append(GroupVersionKind(name, version, ANY))
            mappers.append(_version_mapper(name, version, entry.versioned_resources[version]))
    for entry in groups:
        resource_priority.append(GroupVersionResource(entry.group.name, ANY, ANY))
        kind_priority.append(GroupVersionKind(entry.group.name, ANY, ANY))
    return PriorityRESTMapper(MultiRESTMapper(mappers), resource_priority, kind_priority)


def _version_mapper(
    group: str, version: str, resources: Sequence[APIResource]
) -> DefaultRESTMapper:
    mapper = DefaultRESTMapper([(group, version)])
    for resource in resources:
        if "/" in resource.name:
            continue
        scope = RESTScope.NAMESPACE if resource.namespaced else RESTScope.ROOT
        plural = GroupVersionResource(group, version, resource.name)
        kind = GroupVersionKind(group, version, resource.kind)
        lower_kind = GroupVersionKind(group, version, resource.kind.lower())
        list_kind = GroupVersionKind(group, version, resource.kind + "List")
        if resource.singular_name:
            singular = GroupVersionResource(group, version, resource.singular_name)
            mapper.add_specific(lower_kind, plural, singular, scope)
            mapper.add_specific(kind, plural, singular, scope)
        else:
            mapper.add(lower_kind, scope)
            mapper.add(kind, scope)
        mapper.add(list_kind, scope)
    mapper.add(GroupVersionKind(group, version, "List"), RESTScope.ROOT)
    return mapper


@dataclass(frozen=True)
class _Shortcut:
    short: GroupVersionResource  # group and short name
    long: GroupVersionResource  # group and plural name


def _resource_lists(discovery: _GroupsAndResources) -> list[APIResourceList]:
    try:
        return discovery.server_groups_and_resources()[1]
    except GroupDiscoveryFailedError as err:
        return err.resources


class ShortcutExpander:
    """Expands short names before asking ``delegate`` (resource lookups only).

    An exact plural or singular name is never expanded. Otherwise the first short name that
    matches (in discovery order, within the requested group when one is given) wins; failing
    that, a requested group that is a prefix of a resource's group matches it.
    ``rest_mapping`` and friends are passed through unchanged. Every resource lookup reads
    discovery again, so give it a cached discovery client (:class:`kgen.discovery.MemCacheClient`
    or the disk cache).
    """

    def __init__(self, delegate: RESTMapper, discovery: _GroupsAndResources) -> None:
        self._delegate = delegate
        self._discovery = discovery

    def expand(self, resource: GroupVersionResource) -> GroupVersionResource:
        """The resource ``resource`` most likely means (itself when nothing better is known)."""
        lists = _resource_lists(self._discovery)
        for resource_list in lists:
            group, _ = parse_group_version(resource_list.group_version)
            if resource.group and resource.group != group:
                continue
            for api_resource in resource_list.resources:
                if resource.resource in (api_resource.name, api_resource.singular_name):
                    return resource
        shortcuts = _shortcuts(lists)
        for item in shortcuts:
            if resource.group and resource.group != item.short.group:
                continue
            if resource.resource == item.short.resource:
                return GroupVersionResource(item.long.group, resource.version, item.long.resource)
        if not resource.group:
            return resource
        for item in shortcuts:
            if item.short.group.startswith(resource.group) and (
                resource.resource == item.short.resource
            ):
                return GroupVersionResource(item.long.group, resource.version, item.long.resource)
        return resource

    def kind_for(self, resource: GroupVersionResource) -> GroupVersionKind:
        return self._delegate.kind_for(self.expand(resource))

    def kinds_for(self, resource: GroupVersionResource) -> list[GroupVersionKind]:
        return self._delegate.kinds_for(self.expand(resource))

    def resource_for(self, resource: GroupVersionResource) -> GroupVersionResource:
        return self._delegate.resource_for(self.expand(resource))

    def resources_for(self, resource: GroupVersionResource) -> list[GroupVersionResource]:
        return self._delegate.resources_for(self.expand(resource))

    def rest_mapping(self, group_kind: GroupKind, *versions: str) -> RESTMapping:
        return self._delegate.rest_mapping(group_kind, *versions)

    def rest_mappings(self, group_kind: GroupKind, *versions: str) -> list[RESTMapping]:
        return self._delegate.rest_mappings(group_kind, *versions)

    def resource_singularizer(self, resource: str) -> str:
        return self._delegate.resource_singularizer(
            self.expand(GroupVersionResource("", "", resource)).resource
        )


def _shortcuts(lists: Sequence[APIResourceList]) -> list[_Shortcut]:
    """Every short name and the resource it stands for, in discovery order."""
    shortcuts: list[_Shortcut] = []
    for resource_list in lists:
        group, _ = parse_group_version(resource_list.group_version)
        for api_resource in resource_list.resources:
            if "/" in api_resource.name:
                continue
            long = GroupVersionResource(group, "", api_resource.name)
            for short_name in api_resource.short_names or ():
                shortcuts.append(_Shortcut(GroupVersionResource(group, "", short_name), long))
    return shortcuts


class DeferredDiscoveryRESTMapper:
    """A discovery-backed mapper built lazily and rebuilt when its cached discovery was stale.

    The first lookup reads discovery and builds a :class:`ShortcutExpander` over
    :func:`new_discovery_rest_mapper`. When a lookup fails (no match, ambiguous, bad input) and
    the discovery client is not ``fresh()`` (it served files written by another process), the
    mapper invalidates the cache, rebuilds, and retries once. Thread-safe: concurrent lookups
    share one delegate; the first builds it while holding a lock (network I/O under the lock).
    """

    def __init__(self, discovery: _CachedDiscovery) -> None:
        self._discovery = discovery
        self._lock = threading.Lock()
        self._delegate: RESTMapper | None = None

    def reset(self) -> None:
        """Invalidate discovery and drop the delegate; the next lookup rebuilds it."""
        with self._lock:
            self._discovery.invalidate()
            self._delegate = None

    def _get_delegate(self) -> RESTMapper:
        with self._lock:
            if self._delegate is None:
                groups = get_api_group_resources(self._discovery)
                self._delegate = ShortcutExpander(
                    new_discovery_rest_mapper(groups), self._discovery
                )
            return self._delegate

    def _retrying(self, lookup: Callable[[RESTMapper], V]) -> V:
        try:
            return lookup(self._get_delegate())
        except (LookupError, ValueError):
            if self._discovery.fresh():
                raise
        self.reset()
        return lookup(self._get_delegate())

    def kind_for(self, resource: GroupVersionResource) -> GroupVersionKind:
        return self._retrying(lambda m: m.kind_for(resource))

    def kinds_for(self, resource: GroupVersionResource) -> list[GroupVersionKind]:
        return self._retrying(lambda m: m.kinds_for(resource))

    def resource_for(self, resource: GroupVersionResource) -> GroupVersionResource:
        return self._retrying(lambda m: m.resource_for(resource))

    def resources_for(self, resource: GroupVersionResource) -> list[GroupVersionResource]:
        return self._retrying(lambda m: m.resources_for(resource))

    def rest_mapping(self, group_kind: GroupKind, *versions: str) -> RESTMapping:
        return self._retrying(lambda m: m.rest_mapping(group_kind, *versions))

    def rest_mappings(self, group_kind: GroupKind, *versions: str) -> list[RESTMapping]:
        return self._retrying(lambda m: m.rest_mappings(group_kind, *versions))

    def resource_singularizer(self, resource: str) -> str:
        return self._retrying(lambda m: m.resource_singularizer(resource))
