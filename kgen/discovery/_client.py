"""``DiscoveryClient``: asks a live server what it serves.

Group discovery reads ``/api`` (the legacy core group) and then ``/apis``, asking for the
aggregated v2 document first (:data:`AGGREGATED_ACCEPT`) and understanding plain legacy answers
too. An aggregated answer carries every resource, so no per-group/version request follows; a
legacy answer carries groups only and resources are read from ``/api/v1`` or
``/apis/<group>/<version>`` on demand. Resources are only taken from aggregated answers when
both ``/api`` and ``/apis`` sent them. A 404 from either root is read as "serves nothing there"
(aggregated API servers may lack ``/api``), and so is a 404 for ``/api/v1``.
"""

from __future__ import annotations

from kgen.discovery._aggregated import (
    AGGREGATED_ACCEPT,
    LEGACY_ACCEPT,
    APIGroupDiscoveryList,
    DiscoveredGroups,
    is_aggregated_content_type,
    split_groups_and_resources,
)
from kgen.discovery._base import DiscoveryBase, VersionInfo
from kgen.meta import APIGroup, APIGroupList, APIResourceList, APIVersions, GroupVersionForDiscovery
from kgen.rest import Config, Request, RESTClient, Result, is_not_found

__all__ = [
    "DEFAULT_DISCOVERY_BURST",
    "DEFAULT_DISCOVERY_TIMEOUT",
    "DiscoveryClient",
    "discovery_config",
]

DEFAULT_DISCOVERY_TIMEOUT = 32.0
"""Seconds a discovery request may take when the config sets no timeout."""
DEFAULT_DISCOVERY_BURST = 300
"""Client-side burst of a discovery client when the config sets none (discovery is bursty)."""


def discovery_config(config: Config) -> Config:
    """A copy of ``config`` fit for discovery: a 32 s timeout and a burst of 300 unless set.

    Build the discovery client's REST client from it:
    ``DiscoveryClient(RESTClient(discovery_config(config)))``.
    """
    tuned = config.copy()
    if not tuned.timeout:
        tuned.timeout = DEFAULT_DISCOVERY_TIMEOUT
    if tuned.burst <= 0:
        tuned.burst = DEFAULT_DISCOVERY_BURST
    return tuned


class DiscoveryClient(DiscoveryBase):
    """Discovery over a :class:`kgen.rest.RESTClient` (thread-safe; holds no state).

    ``aggregated=False`` asks for legacy documents only (one request per group/version).
    """

    def __init__(self, rest: RESTClient, *, aggregated: bool = True) -> None:
        self._rest = rest
        self._accept = AGGREGATED_ACCEPT if aggregated else LEGACY_ACCEPT

    def server_version(self) -> VersionInfo:
        return self._get("/version").do().into(VersionInfo)

    def groups_and_maybe_resources(self) -> DiscoveredGroups:
        return merge_roots(self._download("/api"), self._download("/apis"))

    def server_resources_for_group_version(self, group_version: str) -> APIResourceList:
        try:
            return self._get(resources_path(group_version)).do().into(APIResourceList)
        except Exception as err:
            return resources_refused(group_version, err)

    def _get(self, path: str, accept: str = LEGACY_ACCEPT) -> Request:
        return self._rest.get().abs_path(path).header("Accept", accept)

    def _download(self, root: str) -> DiscoveredGroups:
        """Group discovery of one root (``/api`` or ``/apis``), either format."""
        try:
            result = self._get(root, self._accept).do()
        except Exception as err:
            return root_refused(err)
        return parse_root(root, result)


# -- what a response means, shared with kgen.discovery.aio ---------------------------------------


def parse_root(root: str, result: Result) -> DiscoveredGroups:
    """The groups (and, aggregated, the resources) of the answer to ``/api`` or ``/apis``."""
    if _is_aggregated(result):
        return split_groups_and_resources(result.into(APIGroupDiscoveryList))
    if root == "/api":
        versions = result.into(APIVersions).versions
        if not versions:
            return DiscoveredGroups()
        core = tuple(GroupVersionForDiscovery(group_version=v, version=v) for v in versions)
        return DiscoveredGroups(
            groups=[APIGroup(name="", versions=core, preferred_version=core[0])]
        )
    return DiscoveredGroups(groups=list(result.into(APIGroupList).groups))


def root_refused(err: Exception) -> DiscoveredGroups:
    """A 404 from a root means "serves nothing there"; anything else is raised."""
    if is_not_found(err):
        return DiscoveredGroups()
    raise err


def merge_roots(legacy: DiscoveredGroups, named: DiscoveredGroups) -> DiscoveredGroups:
    """``/api`` and ``/apis`` as one discovery; resources only when both roots sent them."""
    merged = DiscoveredGroups(
        groups=legacy.groups + named.groups,
        failed={**legacy.failed, **named.failed},
    )
    if legacy.resources is not None and named.resources is not None:
        merged.resources = {**legacy.resources, **named.resources}
    return merged


def resources_path(group_version: str) -> str:
    """``/api/v1`` or ``/apis/<group>/<version>``."""
    return "/api/v1" if group_version == "v1" else f"/apis/{group_version}"


def resources_refused(group_version: str, err: Exception) -> APIResourceList:
    """A 404 for ``/api/v1`` is an empty core group; anything else is raised."""
    if group_version == "v1" and is_not_found(err):
        return APIResourceList(group_version=group_version, resources=())
    raise err


def _is_aggregated(result: Result) -> bool:
    return is_aggregated_content_type(result.content_type)
