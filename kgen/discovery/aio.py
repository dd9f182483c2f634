"""``AsyncDiscoveryClient``: discovery of a live server for asyncio (needs ``kgen[async]``).

The twin of :class:`kgen.discovery.DiscoveryClient` over an
:class:`kgen.rest.aio.AsyncRESTClient`: the same requests (aggregated v2 first, legacy
understood), and the same reading of the answers and derivations, which are shared code
(:func:`kgen.discovery._client.parse_root` and friends, :func:`kgen.discovery._base.filled`,
:func:`~kgen.discovery._base.preferred_resources`...). Per-group/version requests of a legacy
server run concurrently (at most eight at a time) as tasks instead of threads. Errors as the
sync client's (partial failures raise :class:`kgen.discovery.GroupDiscoveryFailedError`
carrying the partial answer). No cache here: the disk and memory caches are sync only. Use it
from the REST client's event loop; it holds no state.
"""

from __future__ import annotations

import asyncio

from kgen.discovery._aggregated import AGGREGATED_ACCEPT, LEGACY_ACCEPT, DiscoveredGroups
from kgen.discovery._base import (
    _MAX_PARALLEL_FETCHES,
    VersionInfo,
    filled,
    groups_and_resources,
    missing_group_versions,
    preferred_namespaced_resources,
    preferred_resources,
)
from kgen.discovery._client import (
    merge_roots,
    parse_root,
    resources_path,
    resources_refused,
    root_refused,
)
from kgen.meta import APIGroup, APIGroupList, APIResourceList
from kgen.rest.aio import AsyncRequest, AsyncRESTClient

__all__ = ["AsyncDiscoveryClient"]


class AsyncDiscoveryClient:
    """Discovery over an :class:`~kgen.rest.aio.AsyncRESTClient`; the methods are those of
    :class:`kgen.discovery.DiscoveryBase`, awaited. ``aggregated=False`` asks for legacy
    documents only (one request per group/version)."""

    def __init__(self, rest: AsyncRESTClient, *, aggregated: bool = True) -> None:
        self._rest = rest
        self._accept = AGGREGATED_ACCEPT if aggregated else LEGACY_ACCEPT

    async def server_version(self) -> VersionInfo:
        """The server's version information."""
        return (await self._get("/version").do()).into(VersionInfo)

    async def groups_and_maybe_resources(self) -> DiscoveredGroups:
        """Groups (core first) and, when the server sent them in the same answer, resources."""
        legacy, named = await asyncio.gather(self._download("/api"), self._download("/apis"))
        return merge_roots(legacy, named)

    async def server_resources_for_group_version(self, group_version: str) -> APIResourceList:
        """The resources of one group/version (``v1``, ``apps/v1``)."""
        try:
            result = await self._get(resources_path(group_version)).do()
        except Exception as err:
            return resources_refused(group_version, err)
        return result.into(APIResourceList)

    async def server_groups(self) -> APIGroupList:
        """Every group the server serves, the legacy core group first."""
        return APIGroupList(groups=tuple((await self.groups_and_maybe_resources()).groups))

    async def server_groups_and_resources(
        self,
    ) -> tuple[list[APIGroup], list[APIResourceList]]:
        """Every group, and the resources of every group/version in discovery order."""
        return groups_and_resources(await self._with_resources())

    async def server_preferred_resources(self) -> list[APIResourceList]:
        """One list per group/version of the resources whose chosen version it is."""
        return preferred_resources(await self._with_resources())

    async def server_preferred_namespaced_resources(self) -> list[APIResourceList]:
        """:meth:`server_preferred_resources` keeping only namespaced resources."""
        return preferred_namespaced_resources(await self._with_resources())

    async def _with_resources(self) -> DiscoveredGroups:
        discovered = await self.groups_and_maybe_resources()
        group_versions = missing_group_versions(discovered)
        gate = asyncio.Semaphore(_MAX_PARALLEL_FETCHES)

        async def fetch(group_version: str) -> APIResourceList | Exception:
            async with gate:
                try:
                    return await self.server_resources_for_group_version(group_version)
                except Exception as err:  # reported per group/version, as the sync client
                    return err

        answers = await asyncio.gather(*(fetch(gv) for gv in group_versions))
        return filled(discovered, group_versions, answers)

    def _get(self, path: str, accept: str = LEGACY_ACCEPT) -> AsyncRequest:
        return self._rest.get().abs_path(path).header("Accept", accept)

    async def _download(self, root: str) -> DiscoveredGroups:
        try:
            result = await self._get(root, self._accept).do()
        except Exception as err:
            return root_refused(err)
        return parse_root(root, result)
