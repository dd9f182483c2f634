"""Which ``Scale`` kind a resource's ``scale`` subresource speaks, read from discovery.

Discovery lists a subresource as ``<plural>/scale`` in its parent's group/version, with its
own ``group``/``version`` when they differ from the parent's (``autoscaling``/``v1`` for
``apps/v1`` deployments) and its ``kind``. A resource listed without that entry has no scale
subresource: :class:`NoScaleSubresourceError`.
"""

from __future__ import annotations

import threading
from typing import Protocol

from kgen.client import GroupVersionKind, GroupVersionResource
from kgen.meta import APIResourceList

__all__ = [
    "CachedScaleKindResolver",
    "DiscoveryScaleKindResolver",
    "NoScaleSubresourceError",
    "ScaleKindResolver",
]


class NoScaleSubresourceError(LookupError):
    """``resource`` is served without a ``scale`` subresource."""

    def __init__(self, resource: GroupVersionResource) -> None:
        super().__init__(
            f"{resource.resource} in {resource.api_version} has no scale subresource "
            f"(discovery of {resource.api_version} lists no {resource.resource}/scale)"
        )
        self.resource = resource


class ScaleKindResolver(Protocol):
    """Answers which ``Scale`` kind a resource's ``scale`` subresource speaks."""

    def scale_for_resource(self, resource: GroupVersionResource) -> GroupVersionKind: ...


class _ResourcesForGroupVersion(Protocol):
    def server_resources_for_group_version(self, group_version: str) -> APIResourceList: ...


class DiscoveryScaleKindResolver:
    """Asks ``discovery`` (any :class:`kgen.discovery.DiscoveryBase`) on every call; wrap it
    in :class:`CachedScaleKindResolver`, or give it a caching discovery client. Discovery
    errors (a group/version the server does not serve) propagate unchanged."""

    def __init__(self, discovery: _ResourcesForGroupVersion) -> None:
        self._discovery = discovery

    def scale_for_resource(self, resource: GroupVersionResource) -> GroupVersionKind:
        listed = self._discovery.server_resources_for_group_version(resource.api_version)
        for entry in listed.resources:
            parent, _, sub = entry.name.partition("/")
            if parent != resource.resource or sub != "scale":
                continue
            if entry.group and entry.version:
                return GroupVersionKind(str(entry.group), str(entry.version), entry.kind)
            return GroupVersionKind(resource.group, resource.version, entry.kind)
        raise NoScaleSubresourceError(resource)


class CachedScaleKindResolver:
    """Remembers ``delegate``'s answers (not its errors) until :meth:`refresh`. Thread-safe;
    the delegate is called outside the lock, so two threads may both ask it the first time."""

    def __init__(self, delegate: ScaleKindResolver) -> None:
        self._delegate = delegate
        self._lock = threading.Lock()
        self._cache: dict[GroupVersionResource, GroupVersionKind] = {}

    def scale_for_resource(self, resource: GroupVersionResource) -> GroupVersionKind:
        with self._lock:
            known = self._cache.get(resource)
        if known is not None:
            return known
        kind = self._delegate.scale_for_resource(resource)
        with self._lock:
            self._cache[resource] = kind
        return kind

    def refresh(self) -> None:
        """Forget every answer (after the server's APIs changed)."""
        with self._lock:
            self._cache.clear()
