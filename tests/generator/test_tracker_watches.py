"""Watches on kgen.testing's object tracker through a generated clientset (reference 5.2, S14
and the watch part of S18): the example's fake clientset, and its real clientset against
:class:`kgen.testing.APIServer` over loopback HTTP (the same tracker behind both).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.meta import ObjectMeta, encode
from kgen.rest import Config
from kgen.testing import APIServer

EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "openapi-specs" / "databases.kgen.dev.yaml"


@pytest.fixture(params=["fake", "server"])
def clientset(request: pytest.FixtureRequest, example_package: Path) -> Iterator[tuple[Any, Any]]:
    """The example's clientset and the object tracker behind it: the fake clientset (in
    memory), or the real clientset against the API server (over loopback HTTP)."""
    from kgen_databases.clientset import Clientset
    from kgen_databases.fake import FakeClientset

    if request.param == "fake":
        with FakeClientset() as fake:
            yield fake.fake.tracker, fake
        return
    with (
        APIServer(specs=[EXAMPLE_SPEC]) as server,
        Clientset(Config(host=server.url, bearer_token=server.token, qps=-1)) as cs,
    ):
        yield server.tracker, cs


def _cluster(name: str) -> Any:
    from kgen_databases.models import databases_v1 as m

    storage = m.PostgresClusterSpecStorage(size=1)
    return m.PostgresCluster(
        metadata=ObjectMeta(name=name), spec=m.PostgresClusterSpec(version="16", storage=storage)
    )


def _events(watch: Any, count: int) -> list[tuple[str, str]]:
    """The first ``count`` events of ``watch`` as (type, name); the watch is then stopped."""
    seen: list[tuple[str, str]] = []
    with watch:
        for event in watch:
            seen.append((event.type, event.object.metadata.name))
            if len(seen) == count:
                break
    return seen


def test_namespace_and_all_namespace_watches_see_create_update_delete(
    clientset: tuple[Any, Any],
) -> None:
    """S14: a watch on the namespace and one on all namespaces both get ADDED, MODIFIED,
    DELETED of an object changed in that namespace; a watch stopped before the create does not
    hinder it."""
    _, cs = clientset
    clusters = cs.databases_v1.postgres_clusters("test-namespace")
    start = clusters.list().metadata.resource_version
    one = clusters.watch(resource_version=start, timeout_seconds=10)
    every = cs.databases_v1.postgres_clusters("").watch(resource_version=start, timeout_seconds=10)
    clusters.watch(resource_version=start, timeout_seconds=10).stop()

    created = clusters.create(_cluster("x"))
    created.spec.paused = True
    clusters.update(created)
    clusters.delete("x")

    expected = [("ADDED", "x"), ("MODIFIED", "x"), ("DELETED", "x")]
    assert _events(one, 3) == expected
    assert _events(every, 3) == expected


def test_watch_from_a_resource_version_replays_only_later_changes(
    clientset: tuple[Any, Any],
) -> None:
    """S18 (watch part): with a and b seeded, a watch from the list's resource version ("3")
    starts with the later create of c (a replay of a or b would come first); a watch from ""
    or "0" starts with ADDED a and b."""
    tracker, cs = clientset
    for name in ("a", "b"):
        seeded = {
            **json.loads(encode(_cluster(name))),
            "metadata": {"name": name, "namespace": "ns"},
        }
        tracker.add(seeded)
    clusters = cs.databases_v1.postgres_clusters("ns")
    assert clusters.list().metadata.resource_version == "3"

    from_list = clusters.watch(resource_version="3", timeout_seconds=10)
    initial = {rv: clusters.watch(resource_version=rv, timeout_seconds=10) for rv in ("", "0")}
    clusters.create(_cluster("c"))
    assert _events(from_list, 1) == [("ADDED", "c")]
    for rv, watch in initial.items():
        assert _events(watch, 3) == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")], rv
