"""lister-gen and informer-gen scenarios (reference 5.3, S21-S25) on the generated packages of
kgen's example CRDs and of the real Kubernetes 1.35 documents; informers run against
:class:`kgen.testing.APIServer` over real HTTP on loopback.
"""

from __future__ import annotations

import importlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kgen.cache import NAMESPACE_INDEX, Indexer, meta_namespace_index_func
from kgen.client import GroupVersionResource
from kgen.labels import Selector
from kgen.meta import ObjectMeta, meta_name, meta_namespace
from kgen.rest import Config, ListOptions, StatusError, is_not_found
from kgen.spec import APIModel
from kgen.testing import APIServer

EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "openapi-specs" / "databases.kgen.dev.yaml"


def _cluster(name: str, namespace: str = "", **labels: str) -> Any:
    from kgen_databases.models import databases_v1 as m

    meta = ObjectMeta(name=name, labels=labels or None)
    if namespace:
        meta.namespace = namespace
    storage = m.PostgresClusterSpecStorage(size=1)
    return m.PostgresCluster(
        metadata=meta, spec=m.PostgresClusterSpec(version="16", storage=storage)
    )


def _indexer(*objects: object) -> Indexer[Any]:
    """An indexer with the namespace index, as informers build them."""
    indexer: Indexer[Any] = Indexer(indexers={NAMESPACE_INDEX: meta_namespace_index_func})
    for obj in objects:
        indexer.add(obj)
    return indexer


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def example_server(example_package: Path) -> Iterator[tuple[APIServer, Any]]:
    from kgen_databases.clientset import Clientset

    with (
        APIServer(specs=[EXAMPLE_SPEC]) as server,
        Clientset(Config(host=server.url, bearer_token=server.token, qps=-1)) as cs,
    ):
        yield server, cs


def test_s21_lister_selection_over_a_large_cache(example_package: Path) -> None:
    """S21: over 100,000 cached objects of which 10,000 carry match=true, the generated lister
    yields 10,000 / all / none for match=true / everything / a selector nothing matches, and
    hands out the cache's own objects (no copies)."""
    from kgen_databases.listers.databases_v1 import PostgresClusterLister

    indexer = _indexer(
        *(_cluster(f"c{i}", f"ns{i % 7}", match=str(i % 10 == 0).lower()) for i in range(100_000))
    )
    lister = PostgresClusterLister(indexer)
    assert len(lister.list("match=true")) == 10_000
    everything = lister.list()
    assert len(everything) == 100_000 and len(lister.list(Selector.everything())) == 100_000
    assert lister.list(Selector.nothing()) == [] and lister.list("match=maybe") == []
    assert any(obj is indexer.get_by_key("ns0/c0") for obj in everything)
    in_ns1 = lister.namespace("ns1").list("match=true")
    assert {meta_namespace(c) for c in in_ns1} == {"ns1"}
    assert len(in_ns1) == sum(1 for i in range(0, 100_000, 10) if i % 7 == 1)


def test_s22_namespaced_lister_and_not_found_names_the_lowercase_kind(
    example_package: Path, packages: tuple[Path, dict[str, APIModel]]
) -> None:
    """S22: namespace("ns1") lists only ns1's objects; a miss is a NotFound naming the lowercase
    singular kind and the group (none for the core group), as client-go's listers do."""
    from kgen_databases.listers.databases_v1 import PostgresClusterLister

    lister = PostgresClusterLister(_indexer(_cluster("a", "ns1"), _cluster("b", "ns2")))
    assert [meta_name(c) for c in lister.namespace("ns1").list()] == ["a"]
    with pytest.raises(StatusError) as raised:
        lister.namespace("ns1").get("b")
    assert is_not_found(raised.value)
    assert str(raised.value) == 'postgrescluster.databases.kgen.dev "b" not found'
    assert meta_name(lister.namespace("ns2").get("b")) == "b"

    core = importlib.import_module("k135.models.core_v1")
    pods = importlib.import_module("k135.listers.core_v1").PodLister(
        _indexer(core.Pod(metadata=ObjectMeta(name="a", namespace="ns1")))
    )
    with pytest.raises(StatusError, match=re.escape('pod "b" not found')):
        pods.namespace("ns1").get("b")


def test_s23_one_informer_per_type_with_its_custom_resync(example_package: Path) -> None:
    """S23: informer() twice and for_resource() give the same informer, created with the
    resync configured for its type (the default for others); an unknown resource is refused."""
    from kgen_databases.fake import new_simple_clientset
    from kgen_databases.informers import SharedInformerFactory
    from kgen_databases.models import databases_v1 as m

    factory = SharedInformerFactory(
        new_simple_clientset(), 60.0, custom_resync={m.PostgresCluster: 30.0}
    )
    clusters = factory.databases_v1.postgres_clusters().informer()
    assert factory.databases_v1.postgres_clusters().informer() is clusters
    gvr = GroupVersionResource("databases.kgen.dev", "v1", "postgresclusters")
    assert factory.for_resource(gvr).informer() is clusters
    assert clusters.resync_check_period == 30.0
    assert factory.databases_v1.storage_profiles().informer().resync_check_period == 60.0
    other_version: object = factory.databases_v1beta1.postgres_clusters().informer()
    assert other_version is not clusters
    unknown = GroupVersionResource("databases.kgen.dev", "v1", "mysqlclusters")
    with pytest.raises(LookupError, match=re.escape(f"no informer found for {unknown}")):
        factory.for_resource(unknown)


def test_s24_wait_for_cache_sync_start_and_shutdown(
    example_server: tuple[APIServer, Any],
) -> None:
    """S24: requested but unstarted informers are not waited for (an empty map at once); after
    start both report synced; after shutdown, start starts nothing and no thread is left."""
    from kgen_databases.informers import SharedInformerFactory
    from kgen_databases.models import databases_v1 as m

    _, cs = example_server
    before = set(threading.enumerate())
    factory = SharedInformerFactory(cs, 0.0)
    clusters = factory.databases_v1.postgres_clusters().informer()
    profiles = factory.databases_v1.storage_profiles().informer()
    try:
        assert factory.wait_for_cache_sync() == {}
        factory.start()
        synced = factory.wait_for_cache_sync(timeout=10)
        assert synced == {m.PostgresCluster: True, m.StorageProfile: True}
        assert clusters.has_synced() and profiles.has_synced()
    finally:
        factory.shutdown()
    late = factory.databases_v1beta1.postgres_clusters().informer()
    factory.start()
    assert not late.is_started
    assert factory.wait_for_cache_sync() == synced
    _eventually(lambda: set(threading.enumerate()) <= before)


def test_s25_factory_namespace_and_tweak_shape_the_list_and_watch(
    example_package: Path, packages: tuple[Path, dict[str, APIModel]]
) -> None:
    """S25: a pods informer of a factory with namespace ns1 and a label tweak lists
    /api/v1/namespaces/ns1/pods with labelSelector=a=b, limit=500 and resourceVersion=0, then
    watches the same path from the list's resource version with bookmarks, a timeoutSeconds in
    [300, 600) and the matching timeout."""
    clientset = importlib.import_module("k135.clientset").Clientset
    factory_class = importlib.import_module("k135.informers").SharedInformerFactory

    def tweak(options: ListOptions) -> ListOptions:
        return replace(options, label_selector="a=b")

    with (
        APIServer(packages[1]["k135"]) as server,
        clientset(Config(host=server.url, bearer_token=server.token, qps=-1)) as cs,
    ):
        factory = factory_class(cs, 0.0, namespace="ns1", tweak_list_options=tweak)
        try:
            pods = factory.core_v1.pods().informer()
            factory.start()
            assert all(factory.wait_for_cache_sync(timeout=10).values())
            _eventually(lambda: len(server.requests) >= 2)
            listed_at = pods.last_sync_resource_version()
        finally:
            factory.shutdown()
    (list_method, list_target), (watch_method, watch_target) = server.requests[:2]
    list_url, watch_url = urlsplit(list_target), urlsplit(watch_target)
    assert (list_method, list_url.path) == ("GET", "/api/v1/namespaces/ns1/pods")
    assert parse_qs(list_url.query) == {
        "labelSelector": ["a=b"],
        "limit": ["500"],
        "resourceVersion": ["0"],
    }
    assert (watch_method, watch_url.path) == ("GET", "/api/v1/namespaces/ns1/pods")
    query = {key: value for key, (value,) in parse_qs(watch_url.query).items()}
    seconds = int(query.pop("timeoutSeconds"))
    assert 300 <= seconds < 600
    minutes, rest = divmod(seconds, 60)
    assert query == {
        "allowWatchBookmarks": "true",
        "labelSelector": "a=b",
        "resourceVersion": listed_at,
        "timeout": f"{minutes}m{rest}s",
        "watch": "true",
    }
