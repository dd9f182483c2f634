"""Informers over real HTTP on loopback: the wire shape of list and watch (scenario S25)."""

from __future__ import annotations

import dataclasses
from typing import Any

from kgen.cache import ResourceEventHandlerFuncs, SharedInformerFactory, TypedInformer
from kgen.client import GroupVersionResource, ResourceClient
from kgen.meta import meta_name
from kgen.rest import Config, ListOptions, RESTClient

from .helpers import eventually
from .objects import Pod, PodList
from .recording_server import RecordingServer

PODS = GroupVersionResource("", "v1", "pods")


class Clientset:
    """The part of a generated clientset the pod informer needs."""

    def __init__(self, rest: RESTClient) -> None:
        self.rest = rest

    def pods(self, namespace: str) -> ResourceClient[Pod, PodList]:
        return ResourceClient(self.rest, PODS, Pod, PodList, namespace)


class PodInformer(TypedInformer[Pod]):
    object_type = Pod
    lister_resource = "pod"

    def client_for(self, client: Any, namespace: str) -> Any:
        return client.pods(namespace)


def pod_json(name: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns1", "resourceVersion": rv}}


def test_factory_informer_wire_requests_s25() -> None:
    list_body = {"metadata": {"resourceVersion": "42"}, "items": [pod_json("a", "40")]}

    def tweak(options: ListOptions) -> ListOptions:
        return dataclasses.replace(options, label_selector="a=b")

    with RecordingServer(list_body) as server, RESTClient(Config(host=server.url)) as rest:
        factory = SharedInformerFactory(Clientset(rest), namespace="ns1", tweak_list_options=tweak)
        pods = PodInformer(factory, factory.namespace, factory.tweak_list_options)
        added: list[str] = []
        pods.informer().add_event_handler(
            ResourceEventHandlerFuncs(add_func=lambda obj: added.append(meta_name(obj)))
        )
        factory.start()
        try:
            assert factory.wait_for_cache_sync(timeout=10) == {Pod: True}
            eventually(lambda: len(server.recorded()) == 2, timeout=10)
            server.send("ADDED", pod_json("b", "43"))
            eventually(lambda: added == ["a", "b"], timeout=10)
            assert meta_name(pods.lister().namespace("ns1").get("b")) == "b"
        finally:
            factory.shutdown()
    (list_path, list_query), (watch_path, watch_query) = server.recorded()[:2]
    assert list_path == watch_path == "/api/v1/namespaces/ns1/pods"
    assert list_query == {"labelSelector": "a=b", "limit": "500", "resourceVersion": "0"}
    timeout = int(watch_query.pop("timeoutSeconds"))
    assert 300 <= timeout <= 600
    minutes, seconds = divmod(timeout, 60)
    assert watch_query == {
        "allowWatchBookmarks": "true",
        "labelSelector": "a=b",
        "resourceVersion": "42",
        "timeout": f"{minutes}m{seconds}s",
        "watch": "true",
    }
