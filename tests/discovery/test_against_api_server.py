"""Aggregated and legacy discovery of one live (in-process) server tell the same story."""

from __future__ import annotations

from pathlib import Path

from client.apiserver import running_api

from kgen.discovery import DiscoveryClient
from kgen.meta import APIResource


def summary(resource: APIResource) -> tuple[object, ...]:
    return (resource.name, resource.kind, resource.namespaced, tuple(sorted(resource.verbs)))


def test_aggregated_and_legacy_discovery_agree(specs_dir: Path) -> None:
    with running_api(specs_dir) as (server, rest):
        aggregated = DiscoveryClient(rest).server_groups_and_resources()
        asked = len(server.requests)
        legacy = DiscoveryClient(rest, aggregated=False).server_groups_and_resources()
        assert len(server.requests) - asked == 2 + len(legacy[1])  # roots, then one per GV
    assert [g.name for g in aggregated[0]] == [g.name for g in legacy[0]]
    assert [g.preferred_version for g in aggregated[0]] == [g.preferred_version for g in legacy[0]]
    assert [r.group_version for r in aggregated[1]] == [r.group_version for r in legacy[1]]
    for from_aggregated, from_legacy in zip(aggregated[1], legacy[1], strict=True):
        assert sorted(map(summary, from_aggregated.resources)) == sorted(
            map(summary, from_legacy.resources)
        ), from_aggregated.group_version
