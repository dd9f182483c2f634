"""Discovery caches: in memory, and on disk with TTL, freshness and invalidation (4.7d/e, S74)."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from client.wire import Reply, WireServer, serving

from kgen.discovery import (
    DiscoveryClient,
    DiskCachedDiscoveryClient,
    GroupDiscoveryFailedError,
    MemCacheClient,
    new_cached_discovery_client,
)
from kgen.rest import RESTClient

from .served import DiscoveryDocuments

TTL = 60.0


@pytest.fixture
def served(documents: DiscoveryDocuments) -> Iterator[tuple[WireServer, RESTClient]]:
    """A REST client to a server of the real documents (which records what it is asked)."""
    with serving(documents.handle) as pair:
        yield pair


def test_disk_cache_serves_repeats_without_the_server(
    served: tuple[WireServer, RESTClient], tmp_path: Path
) -> None:
    server, rest = served
    cached = DiskCachedDiscoveryClient(DiscoveryClient(rest), tmp_path, TTL)
    first = cached.server_groups()
    count = len(server.requests())
    again = cached.server_groups()
    assert again == first
    assert len(server.requests()) == count == 2
    assert cached.fresh()


def test_a_new_client_reads_files_another_wrote_and_is_not_fresh(
    served: tuple[WireServer, RESTClient], tmp_path: Path
) -> None:
    server, rest = served
    writer = DiskCachedDiscoveryClient(DiscoveryClient(rest), tmp_path, TTL)
    groups, resources = writer.server_groups_and_resources()
    count = len(server.requests())

    reader = DiskCachedDiscoveryClient(DiscoveryClient(rest), tmp_path, TTL)
    assert reader.server_groups_and_resources() == (groups, resources)
    assert len(server.requests()) == count  # every answer came from the files
    assert not reader.fresh()

    reader.invalidate()
    assert reader.fresh()
    assert reader.server_groups_and_resources() == (groups, resources)
    assert len(server.requests()) > count  # invalidation hides the files this client did not write
    assert reader.fresh()


def test_files_older_than_the_ttl_are_not_used(
    served: tuple[WireServer, RESTClient], tmp_path: Path
) -> None:
    server, rest = served
    DiskCachedDiscoveryClient(DiscoveryClient(rest), tmp_path, TTL).server_groups()
    count = len(server.requests())
    old = time.time() - TTL - 5
    os.utime(tmp_path / "servergroups.json", (old, old))
    DiskCachedDiscoveryClient(DiscoveryClient(rest), tmp_path, TTL).server_groups()
    assert len(server.requests()) == count + 2


def test_layout_and_permissions(served: tuple[WireServer, RESTClient], tmp_path: Path) -> None:
    _, rest = served
    previous = os.umask(0o022)
    try:
        cache_dir = tmp_path / "cache" / "host_443"
        DiskCachedDiscoveryClient(DiscoveryClient(rest), cache_dir, TTL).server_groups()
    finally:
        os.umask(previous)
    groups_file = cache_dir / "servergroups.json"
    apps_file = cache_dir / "apps" / "v1" / "serverresources.json"
    core_file = cache_dir / "v1" / "serverresources.json"
    for path in (groups_file, apps_file, core_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o660, path
    for directory in (tmp_path / "cache", cache_dir, cache_dir / "apps", cache_dir / "apps" / "v1"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o750, directory
    assert not [p for p in cache_dir.rglob("*") if ".json." in p.name]  # no temporary left


def test_corrupt_files_are_refetched(served: tuple[WireServer, RESTClient], tmp_path: Path) -> None:
    server, rest = served
    DiskCachedDiscoveryClient(DiscoveryClient(rest), tmp_path, TTL).server_groups()
    (tmp_path / "servergroups.json").write_text("{not json")
    count = len(server.requests())
    groups = DiskCachedDiscoveryClient(DiscoveryClient(rest), tmp_path, TTL).server_groups()
    assert len(server.requests()) == count + 2
    assert groups.groups[0].name == ""


def test_empty_answers_are_not_cached(documents: DiscoveryDocuments, tmp_path: Path) -> None:
    documents.legacy["/apis/apps/v1"] = {"groupVersion": "apps/v1", "resources": []}
    with serving(documents.handle) as (_, rest):
        cached = DiskCachedDiscoveryClient(DiscoveryClient(rest, aggregated=False), tmp_path, TTL)
        assert cached.server_resources_for_group_version("apps/v1").resources == ()
    assert not (tmp_path / "apps").exists()


def test_memory_cache_fills_once_until_invalidated(
    served: tuple[WireServer, RESTClient],
) -> None:
    server, rest = served
    memory = MemCacheClient(DiscoveryClient(rest))
    assert not memory.fresh()
    groups, resources = memory.server_groups_and_resources()
    assert memory.fresh()
    count = len(server.requests())
    assert memory.server_groups_and_resources() == (groups, resources)
    assert memory.server_resources_for_group_version("apps/v1") == resources[2]
    assert len(server.requests()) == count
    memory.invalidate()
    assert not memory.fresh()
    memory.server_groups()
    assert len(server.requests()) == count + 2


def test_memory_cache_asks_a_failed_group_version_again(
    documents: DiscoveryDocuments,
) -> None:
    with serving(documents.handle) as (server, rest):
        memory = MemCacheClient(DiscoveryClient(rest, aggregated=False))
        with pytest.raises(GroupDiscoveryFailedError) as caught:
            memory.server_groups_and_resources()
        assert "batch/v1" in caught.value.failed
        documents.legacy["/apis/batch/v1"] = {"groupVersion": "batch/v1", "resources": []}
        assert memory.server_resources_for_group_version("batch/v1").group_version == "batch/v1"
        count = len(server.requests())
        memory.server_resources_for_group_version("batch/v1")
        assert len(server.requests()) == count
        with pytest.raises(GroupDiscoveryFailedError) as caught:
            memory.server_groups_and_resources()
        assert "batch/v1" not in caught.value.failed
        assert "batch/v1" in [r.group_version for r in caught.value.resources]


def test_stacked_caches_as_kubectl_uses_them(
    served: tuple[WireServer, RESTClient], tmp_path: Path
) -> None:
    server, rest = served
    cached = new_cached_discovery_client(rest, tmp_path, ttl=TTL)
    preferred = cached.server_preferred_resources()
    count = len(server.requests())
    assert cached.server_preferred_resources() == preferred
    assert len(server.requests()) == count
    assert (tmp_path / "autoscaling" / "v2" / "serverresources.json").is_file()


def test_group_versions_that_would_escape_the_cache_dir_are_not_cached(tmp_path: Path) -> None:
    resource = {"name": "things", "singularName": "thing", "namespaced": True, "kind": "Thing"}
    answer = Reply(body={"groupVersion": "x/v1", "resources": [{**resource, "verbs": ["get"]}]})
    cache_dir = tmp_path / "a" / "cache"
    with serving(lambda seen: answer) as (server, rest):
        cached = DiskCachedDiscoveryClient(DiscoveryClient(rest), cache_dir, TTL)
        for bad in ("../../v1", "x/../../../v1", "/v1", "x/./v1"):
            assert cached.server_resources_for_group_version(bad).resources
        cached.server_resources_for_group_version("x/v1")
    assert len(server.requests()) == 5
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.json"))
    assert written == ["a/cache/x/v1/serverresources.json"]
