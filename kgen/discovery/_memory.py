"""``MemCacheClient``: discovery answers kept in memory until :meth:`invalidate`."""

from __future__ import annotations

import threading

from kgen.discovery._aggregated import DiscoveredGroups
from kgen.discovery._base import DiscoveryBase, VersionInfo, with_resources
from kgen.meta import APIResourceList

__all__ = ["MemCacheClient"]


class MemCacheClient(DiscoveryBase):
    """Caches ``delegate``'s groups and every group/version's resources in memory.

    The first question fills the whole cache at once (one aggregated answer, or one request per
    group/version); later questions are answered from memory. A group/version that failed is
    asked again on demand. ``fresh()`` is ``True`` once the cache is filled. Thread-safe: one
    lock guards the cache and is held during the fill and on-demand requests, so concurrent
    callers wait for one fill instead of repeating it.
    """

    def __init__(self, delegate: DiscoveryBase) -> None:
        self._delegate = delegate
        self._lock = threading.Lock()
        self._cache: DiscoveredGroups | None = None

    def server_version(self) -> VersionInfo:
        return self._delegate.server_version()

    def groups_and_maybe_resources(self) -> DiscoveredGroups:
        with self._lock:
            cache = self._filled()
            return DiscoveredGroups(
                groups=list(cache.groups),
                resources=dict(cache.resources or {}),
                failed=dict(cache.failed),
            )

    def server_resources_for_group_version(self, group_version: str) -> APIResourceList:
        with self._lock:
            cache = self._filled()
            resources = cache.resources if cache.resources is not None else {}
            if group_version in resources:
                return resources[group_version]
            answer = self._delegate.server_resources_for_group_version(group_version)
            resources[group_version] = answer
            cache.resources = resources
            cache.failed.pop(group_version, None)
            return answer

    def fresh(self) -> bool:
        with self._lock:
            return self._cache is not None

    def invalidate(self) -> None:
        with self._lock:
            self._cache = None
            self._delegate.invalidate()

    def _filled(self) -> DiscoveredGroups:
        if self._cache is None:
            self._cache = with_resources(
                self._delegate, self._delegate.groups_and_maybe_resources()
            )
        return self._cache
