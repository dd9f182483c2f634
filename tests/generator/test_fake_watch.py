"""Watches and informers run on the generated fake clientset, as they do on a real cluster:
the fake's in-memory transport streams watch events to the REST client's watch decoder."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from kgen.meta import ObjectMeta


def _cluster(name: str) -> Any:
    from kgen_databases.models import databases_v1 as m

    return m.PostgresCluster(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=m.PostgresClusterSpec(version="16", storage=m.PostgresClusterSpecStorage(size=1)),
    )


def test_watch_through_the_fake_sees_changes(example_package: Path) -> None:
    from kgen_databases.fake import new_simple_clientset

    clusters = new_simple_clientset().databases_v1.postgres_clusters("default")
    clusters.create(_cluster("first"))
    watch = clusters.watch(resource_version="0", timeout_seconds=10)
    seen: list[tuple[str, str]] = []
    try:
        for event in watch:
            seen.append((event.type, event.object.metadata.name))
            if len(seen) == 1:
                clusters.create(_cluster("second"))
                clusters.delete("first")
            if len(seen) == 3:
                break
    finally:
        watch.stop()
    assert seen == [("ADDED", "first"), ("ADDED", "second"), ("DELETED", "first")]


def test_informer_over_the_fake_syncs_and_follows(example_package: Path) -> None:
    from kgen_databases.fake import new_simple_clientset
    from kgen_databases.informers import SharedInformerFactory

    from kgen.cache import ResourceEventHandlerFuncs

    cs = new_simple_clientset(_cluster("seeded"))
    added = threading.Event()
    names: list[str] = []

    def on_add(obj: Any) -> None:
        names.append(obj.metadata.name)
        if obj.metadata.name == "later":
            added.set()

    with SharedInformerFactory(cs, 0.0) as factory:
        informer = factory.databases_v1.postgres_clusters()
        informer.informer().add_event_handler(ResourceEventHandlerFuncs(add_func=on_add))
        factory.start()
        assert all(factory.wait_for_cache_sync(timeout=10).values())
        assert [c.metadata.name for c in informer.lister().list()] == ["seeded"]
        cs.databases_v1.postgres_clusters("default").create(_cluster("later"))
        assert added.wait(10)
        assert sorted(c.metadata.name for c in informer.lister().list()) == ["later", "seeded"]
    assert names == ["seeded", "later"]
