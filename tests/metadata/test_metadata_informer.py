"""Metadata informers from MetadataSharedInformerFactory against kgen.testing's API server: the
cache follows creates, updates and deletes while the server cuts watches and compacts its
history, and ends equal to the server's list."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import pytest

from kgen.cache import GenericInformer, drop_managed_fields
from kgen.client import GroupVersionResource, PatchType
from kgen.dynamic import DynamicClient
from kgen.meta import UNSET, PartialObjectMetadata, meta_name, meta_namespace, meta_resource_version
from kgen.metadata import MetadataClient, MetadataSharedInformerFactory
from kgen.rest import ListOptions, RESTClient, StatusError, is_not_found
from kgen.testing import APIServer

NAMESPACES = GroupVersionResource("", "v1", "namespaces")
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
CERTIFICATES = GroupVersionResource("cert-manager.io", "v1", "certificates")


def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def _namespace(dynamic: DynamicClient, name: str) -> None:
    dynamic.resource(NAMESPACES).create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )


def _configmap(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}}


def _server_state(dynamic: DynamicClient, resource: GroupVersionResource, ns: str) -> dict:
    listed = dynamic.resource(resource).namespace(ns).list()
    return {
        f"{i['metadata']['namespace']}/{i['metadata']['name']}": i["metadata"]["resourceVersion"]
        for i in listed["items"]
    }


def _cache_state(generic: GenericInformer, ns: str) -> dict:
    return {
        f"{meta_namespace(o)}/{meta_name(o)}": meta_resource_version(o)
        for o in generic.lister().namespace(ns).list()
    }


def test_metadata_informer_follows_the_server_through_cut_watches(
    api: tuple[APIServer, RESTClient],
) -> None:
    server, rest = api
    dynamic = DynamicClient(rest)
    _namespace(dynamic, "shop")
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    for i in range(5):
        shop.create(_configmap(f"early-{i}", app="web"))

    server.faults.close_watch(3, resource="configmaps", times=None)  # every watch: 3 events
    factory = MetadataSharedInformerFactory(MetadataClient(rest), transform=drop_managed_fields)
    with factory:
        generic = factory.for_resource(CONFIGMAPS)
        assert factory.for_resource(CONFIGMAPS).informer() is generic.informer()  # shared
        factory.start()
        assert factory.wait_for_cache_sync(timeout=10) == {CONFIGMAPS: True}
        assert _cache_state(generic, "shop") == _server_state(dynamic, CONFIGMAPS, "shop")

        cached = generic.lister().namespace("shop").get("early-0")
        assert isinstance(cached, PartialObjectMetadata) and cached.metadata
        assert cached.kind == "PartialObjectMetadata"
        assert cached.metadata.labels == {"app": "web"}
        assert not cached.metadata.managed_fields  # the factory's transform ran

        # the watch opened after the first cut waits while history is compacted under it
        server.faults.delay(1.5, verb="watch", resource="configmaps", times=1)
        for i in range(10):
            shop.create(_configmap(f"cm-{i}", app="web"))
        for i in range(0, 10, 2):
            shop.patch(f"cm-{i}", {"metadata": {"labels": {"v": "2"}}}, PatchType.MERGE)
        server.compact()  # so that watch resumes from an expired version: 410, relist
        for i in range(3):
            shop.delete(f"early-{i}")
        shop.patch("cm-1", {"metadata": {"labels": {"v": "3"}}}, PatchType.MERGE)

        eventually(
            lambda: _cache_state(generic, "shop") == _server_state(dynamic, CONFIGMAPS, "shop")
        )
        assert server.faults.fired.count(("close_watch", "watch", "configmaps")) >= 2
        lists = [path for verb, path in server.requests if verb == "GET" and "watch" not in path]
        assert sum(path.startswith("/api/v1/configmaps") for path in lists) >= 2  # relisted
        cm1 = generic.lister().namespace("shop").get("cm-1")
        assert cm1.metadata and cm1.metadata.labels == {"app": "web", "v": "3"}
        with pytest.raises(StatusError) as missing:
            generic.lister().namespace("shop").get("early-0")
        assert is_not_found(missing.value)
        assert 'configmaps "early-0" not found' in str(missing.value)
    assert generic.informer().is_stopped


def test_factory_namespace_and_tweak_list_options_on_a_custom_resource(
    api: tuple[APIServer, RESTClient],
) -> None:
    _server, rest = api
    dynamic = DynamicClient(rest)
    for ns in ("shop", "office"):
        _namespace(dynamic, ns)
        for name, team in (("site", "edge"), ("api", "core")):
            dynamic.resource(CERTIFICATES).namespace(ns).create(
                {
                    "apiVersion": "cert-manager.io/v1",
                    "kind": "Certificate",
                    "metadata": {"name": name, "labels": {"team": team}},
                    "spec": {"secretName": name, "issuerRef": {"name": "ca"}, "dnsNames": ["a"]},
                }
            )

    def edge_only(options: ListOptions) -> ListOptions:
        return dataclasses.replace(options, label_selector="team=edge")

    factory = MetadataSharedInformerFactory(
        MetadataClient(rest), namespace="shop", tweak_list_options=edge_only
    )
    with factory:
        generic = factory.for_resource(CERTIFICATES)
        factory.start()
        assert factory.wait_for_cache_sync(timeout=10) == {CERTIFICATES: True}
        assert sorted(_cache_state(generic, "shop")) == ["shop/site"]
        assert _cache_state(generic, "office") == {}
        dynamic.resource(CERTIFICATES).namespace("shop").patch(
            "api", {"metadata": {"labels": {"team": "edge"}}}, PatchType.MERGE
        )
        eventually(lambda: sorted(_cache_state(generic, "shop")) == ["shop/api", "shop/site"])
    with pytest.raises(TypeError, match="GroupVersionResource"):
        factory.for_resource("certificates")


def test_factory_default_caches_compact_metadata_and_none_keeps_everything(
    api: tuple[APIServer, RESTClient],
) -> None:
    _server, rest = api
    dynamic = DynamicClient(rest)
    _namespace(dynamic, "lean")
    for i in range(2):
        dynamic.resource(CONFIGMAPS).namespace("lean").create(_configmap(f"c{i}", app="web"))

    def cached(factory: MetadataSharedInformerFactory) -> list[PartialObjectMetadata]:
        with factory:
            generic = factory.for_resource(CONFIGMAPS)
            factory.start()
            assert factory.wait_for_cache_sync(timeout=10) == {CONFIGMAPS: True}
            objs = generic.lister().namespace("lean").list()
        return sorted(objs, key=meta_name)

    lean = cached(MetadataSharedInformerFactory(MetadataClient(rest)))
    assert [o.metadata and o.metadata.managed_fields for o in lean] == [UNSET, UNSET]
    first, second = (o.metadata for o in lean)
    assert first and second and first.labels and second.labels
    assert next(iter(first.labels)) is next(iter(second.labels))  # shared, not copies
    assert first.labels["app"] is second.labels["app"]

    whole = cached(MetadataSharedInformerFactory(MetadataClient(rest), transform=None))
    assert all(o.metadata and o.metadata.managed_fields for o in whole)
