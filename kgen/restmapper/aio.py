"""The discovery-backed REST mapper for asyncio programs.

Mapping is a lookup in memory once discovery has been read, so the mapper itself stays
synchronous (as listers do): :func:`discovery_rest_mapper` awaits discovery once, through a
:class:`kgen.discovery.aio.AsyncDiscoveryClient`, and returns the mapper
:class:`kgen.restmapper.DeferredDiscoveryRESTMapper` would build from the same answers (a
:class:`kgen.restmapper.ShortcutExpander` over :func:`kgen.restmapper.new_discovery_rest_mapper`),
holding a snapshot of them. Group/versions whose discovery failed are left out, as in the sync
mapper. The snapshot does not refresh itself: call :func:`discovery_rest_mapper` again (for
instance after a ``NoMatchError`` for a resource just installed) to see the server's resources
as they are now. The returned mapper is immutable and safe to share between tasks and threads.

    async with AsyncRESTClient(config) as rest:
        mapper = await discovery_rest_mapper(AsyncDiscoveryClient(rest))
        mapper.resource_for(GroupVersionResource("", "", "deploy"))   # apps/v1 deployments
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kgen.discovery import GroupDiscoveryFailedError
from kgen.meta import APIGroup, APIResourceList
from kgen.restmapper._discovery import (
    ShortcutExpander,
    get_api_group_resources,
    new_discovery_rest_mapper,
)
from kgen.restmapper._mapper import RESTMapper

__all__ = ["DiscoverySnapshot", "discovery_rest_mapper"]


class _AsyncGroupsAndResources(Protocol):
    async def server_groups_and_resources(
        self,
    ) -> tuple[list[APIGroup], list[APIResourceList]]: ...


@dataclass(frozen=True)
class DiscoverySnapshot:
    """Groups and resource lists as discovery answered them once (failed group/versions
    absent); what the sync mappers read from a discovery client, without I/O."""

    groups: tuple[APIGroup, ...]
    resource_lists: tuple[APIResourceList, ...]

    @classmethod
    async def read(cls, discovery: _AsyncGroupsAndResources) -> DiscoverySnapshot:
        """Await ``discovery`` once; a partial failure keeps what did answer."""
        try:
            groups, lists = await discovery.server_groups_and_resources()
        except GroupDiscoveryFailedError as err:
            groups, lists = err.groups, err.resources
        return cls(tuple(groups), tuple(lists))

    def server_groups_and_resources(self) -> tuple[list[APIGroup], list[APIResourceList]]:
        return list(self.groups), list(self.resource_lists)


async def discovery_rest_mapper(discovery: _AsyncGroupsAndResources) -> RESTMapper:
    """The discovery-backed mapper with short names, from one read of ``discovery`` (see the
    module docstring). Raises what discovery raises when the server cannot be read at all."""
    snapshot = await DiscoverySnapshot.read(discovery)
    return ShortcutExpander(new_discovery_rest_mapper(get_api_group_resources(snapshot)), snapshot)
