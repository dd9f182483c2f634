"""kgen.discovery: what groups, versions and resources a server serves.

Public surface: :class:`DiscoveryClient` (live, aggregated v2 discovery with legacy fallback;
:func:`discovery_config` gives its REST client discovery's timeout and burst),
the caches :class:`MemCacheClient` and :class:`DiskCachedDiscoveryClient` (with
:func:`new_cached_discovery_client` stacking both over a REST client, as kubectl does),
:class:`DiscoveryBase` (the interface all three implement), :class:`VersionInfo`,
:class:`GroupDiscoveryFailedError` (partial failure, partial answer attached), and the
aggregated discovery types with :func:`split_groups_and_resources`.
"""

from __future__ import annotations

import os

from kgen.discovery._aggregated import (
    AGGREGATED_ACCEPT,
    APIGroupDiscovery,
    APIGroupDiscoveryList,
    APIResourceDiscovery,
    APISubresourceDiscovery,
    APIVersionDiscovery,
    DiscoveredGroups,
    DiscoveryKind,
    StaleGroupVersionError,
    is_aggregated_content_type,
    split_groups_and_resources,
)
from kgen.discovery._base import DiscoveryBase, VersionInfo
from kgen.discovery._client import (
    DEFAULT_DISCOVERY_BURST,
    DEFAULT_DISCOVERY_TIMEOUT,
    DiscoveryClient,
    discovery_config,
)
from kgen.discovery._disk import DiskCachedDiscoveryClient
from kgen.discovery._errors import GroupDiscoveryFailedError
from kgen.discovery._memory import MemCacheClient
from kgen.rest import RESTClient

__all__ = [
    "AGGREGATED_ACCEPT",
    "DEFAULT_DISCOVERY_BURST",
    "DEFAULT_DISCOVERY_TIMEOUT",
    "APIGroupDiscovery",
    "APIGroupDiscoveryList",
    "APIResourceDiscovery",
    "APISubresourceDiscovery",
    "APIVersionDiscovery",
    "DiscoveredGroups",
    "DiscoveryBase",
    "DiscoveryClient",
    "DiscoveryKind",
    "DiskCachedDiscoveryClient",
    "GroupDiscoveryFailedError",
    "MemCacheClient",
    "StaleGroupVersionError",
    "VersionInfo",
    "discovery_config",
    "is_aggregated_content_type",
    "new_cached_discovery_client",
    "split_groups_and_resources",
]


def new_cached_discovery_client(
    rest: RESTClient, cache_dir: str | os.PathLike[str], *, ttl: float = 600.0
) -> DiskCachedDiscoveryClient:
    """Discovery cached on disk under ``cache_dir`` for ``ttl`` seconds, and in memory.

    Use one directory per server (kubectl uses ``~/.kube/cache/discovery/<host_port>``).
    """
    return DiskCachedDiscoveryClient(MemCacheClient(DiscoveryClient(rest)), cache_dir, ttl)
