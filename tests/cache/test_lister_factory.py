"""Listers, the shared informer factory and the typed informer base (scenarios S21-S24)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from kgen.cache import (
    NAMESPACE_INDEX,
    GenericInformer,
    Indexer,
    Lister,
    ListWatch,
    SharedInformerFactory,
    TypedInformer,
    meta_namespace_index_func,
    not_found_error,
)
from kgen.labels import Selector
from kgen.meta import StatusDetails, meta_name
from kgen.rest import ListOptions, StatusError, is_not_found

from .helpers import eventually
from .objects import Pod, Service, pod
from .scripted import ScriptedListerWatcher, pod_list


def test_list_all_with_selectors_s21() -> None:
    indexer: Indexer[Pod] = Indexer()
    indexer.replace(
        [
            pod(f"p{i}", labels={"match": "true"} if i % 10 == 0 else {"match": "false"})
            for i in range(100_000)
        ],
        "1",
    )
    lister: Lister[Pod] = Lister(indexer, "pod")
    assert len(lister.list("match=true")) == 10_000
    assert len(lister.list(Selector.everything())) == 100_000
    assert len(lister.list()) == 100_000
    assert lister.list("match=nothing") == []
    assert lister.list(Selector.nothing()) == []


def test_namespaced_lister_s22() -> None:
    indexer: Indexer[Pod] = Indexer(indexers={NAMESPACE_INDEX: meta_namespace_index_func})
    indexer.add(pod("a", namespace="ns1", labels={"app": "web"}))
    indexer.add(pod("b", namespace="ns2"))
    lister: Lister[Pod] = Lister(indexer, "testtype", "example.com")
    ns1 = lister.namespace("ns1")
    assert [meta_name(p) for p in ns1.list()] == ["a"]
    assert [meta_name(p) for p in ns1.list("app=web")] == ["a"]
    assert ns1.list("app!=web") == []
    assert meta_name(lister.namespace("ns2").get("b")) == "b"
    with pytest.raises(StatusError) as caught:
        ns1.get("b")
    assert is_not_found(caught.value)
    assert str(caught.value) == 'testtype.example.com "b" not found'
    assert caught.value.code == 404
    assert sorted(meta_name(p) for p in lister.namespace("").list()) == ["a", "b"]


def test_namespace_lister_without_index_scans() -> None:
    indexer: Indexer[Pod] = Indexer()
    indexer.add(pod("a", namespace="ns1"))
    indexer.add(pod("b", namespace="ns2"))
    lister: Lister[Pod] = Lister(indexer, "pod")
    assert [meta_name(p) for p in lister.namespace("ns2").list()] == ["b"]


def test_cluster_scoped_get_and_core_group_message() -> None:
    indexer: Indexer[Pod] = Indexer()
    indexer.add(pod("node1", namespace=""))
    lister: Lister[Pod] = Lister(indexer, "node")
    assert meta_name(lister.get("node1")) == "node1"
    with pytest.raises(StatusError, match=r'^node "node2" not found$'):
        lister.get("node2")
    details = not_found_error("pod", "", "x").status.details
    assert isinstance(details, StatusDetails)
    assert (details.kind, details.name, details.group) == ("pod", "x", "")


class ScriptedClient:
    """A typed-client stand-in: list_with/watch_with answered by a scripted lister-watcher."""

    def __init__(self, lw: ScriptedListerWatcher, namespace: str) -> None:
        self.lw = lw
        self.namespace = namespace

    def list_with(self, options: ListOptions) -> Any:
        return self.lw.list(options)

    def watch_with(self, options: ListOptions) -> Any:
        return self.lw.watch(options)


class FakeClientset:
    """Hands out one scripted lister-watcher per (resource, namespace)."""

    def __init__(self) -> None:
        self.made: dict[tuple[str, str], ScriptedListerWatcher] = {}

    def resource(self, plural: str, namespace: str) -> ScriptedClient:
        lw = ScriptedListerWatcher([pod_list("1", pod(f"{plural}-0", rv="1"))])
        self.made[(plural, namespace)] = lw
        return ScriptedClient(lw, namespace)


class PodInformer(TypedInformer[Pod]):
    object_type = Pod
    lister_resource = "pod"

    def client_for(self, client: Any, namespace: str) -> Any:
        return client.resource("pods", namespace)


class ServiceInformer(TypedInformer[Service]):
    object_type = Service
    lister_resource = "service"

    def client_for(self, client: Any, namespace: str) -> Any:
        return client.resource("services", namespace)


class ExampleFactory(SharedInformerFactory):
    def pods(self) -> PodInformer:
        return PodInformer(self, self.namespace, self.tweak_list_options)

    def services(self) -> ServiceInformer:
        return ServiceInformer(self, self.namespace, self.tweak_list_options)

    def resource_informers(self) -> dict[object, Any]:
        return {("", "v1", "pods"): lambda: GenericInformer(self.pods().informer(), "pods")}


def test_informer_for_dedups_and_custom_resync_s23() -> None:
    factory = ExampleFactory(FakeClientset(), 30.0, custom_resync={Pod: 90.0})
    first = factory.pods().informer()
    assert factory.pods().informer() is first
    generic = factory.for_resource(("", "v1", "pods"))
    assert generic.informer() is first
    assert first.resync_check_period == 90.0
    assert factory.services().informer().resync_check_period == 30.0
    with pytest.raises(LookupError, match="no informer found for bogus"):
        factory.for_resource("bogus")
    factory.shutdown()


def test_start_wait_shutdown_s24() -> None:
    clientset = FakeClientset()
    tweaks: list[ListOptions] = []

    def tweak(options: ListOptions) -> ListOptions:
        tweaks.append(options)
        return dataclasses.replace(options, label_selector="a=b")

    factory = ExampleFactory(clientset, namespace="ns1", tweak_list_options=tweak)
    pods, services = factory.pods(), factory.services()
    pods.informer()
    assert factory.wait_for_cache_sync(timeout=0.01) == {}
    factory.start()
    try:
        assert factory.wait_for_cache_sync(timeout=5) == {Pod: True}
        services.informer()  # asked for after start: the next start() starts only this one
        factory.start()
        assert factory.wait_for_cache_sync(timeout=5) == {Pod: True, Service: True}
        assert len(clientset.made[("pods", "ns1")].list_calls) == 1
        assert [meta_name(p) for p in pods.lister().namespace("ns1").list()] == []
        assert [meta_name(p) for p in pods.lister().list()] == ["pods-0"]
        lw = clientset.made[("pods", "ns1")]
        assert lw.list_calls[0].label_selector == "a=b"
        eventually(lambda: len(lw.watch_calls) == 1)
        assert lw.watch_calls[0].label_selector == "a=b"
        assert tweaks
    finally:
        factory.shutdown()
    factory.shutdown()
    late = ExampleFactory(FakeClientset())
    late.shutdown()
    informer = late.pods().informer()
    late.start()
    assert not informer.is_started


def test_generic_informer_lister_and_list_watch_tweak() -> None:
    lw = ScriptedListerWatcher([pod_list("1", pod("x", rv="1"))])
    client = ScriptedClient(lw, "")
    wrapped = ListWatch.from_client(client, lambda o: dataclasses.replace(o, field_selector="f=1"))
    wrapped.list(ListOptions(resource_version="0"))
    assert lw.list_calls[0] == ListOptions(resource_version="0", field_selector="f=1")
    factory = ExampleFactory(FakeClientset())
    generic = factory.for_resource(("", "v1", "pods"))
    with pytest.raises(StatusError, match=r'^pods "nope" not found$'):
        generic.lister().get("nope")
    factory.shutdown()
