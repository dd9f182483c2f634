"""MetadataClient against kgen.testing's API server (Kubernetes 1.30 and the cert-manager CRDs)
and against a stand-in server that ignores what it is asked and sends whole objects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from client.wire import Reply, Seen, serving

from kgen.client import GroupVersionResource, PatchType
from kgen.dynamic import DynamicClient
from kgen.meta import PartialObjectMetadata, PartialObjectMetadataList
from kgen.metadata import LIST_ACCEPT, OBJECT_ACCEPT, MetadataClient
from kgen.rest import Config, RESTClient, StatusError, UnexpectedResponseError, is_not_found
from kgen.testing import APIServer, Fake
from tests.testing.conftest import small_model

NAMESPACES = GroupVersionResource("", "v1", "namespaces")
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
DEPLOYMENTS = GroupVersionResource("apps", "v1", "deployments")
CERTIFICATES = GroupVersionResource("cert-manager.io", "v1", "certificates")


def configmap(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": {"payload": "x" * 1000},
    }


def certificate(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "labels": {"team": "edge"}},
        "spec": {"secretName": f"{name}-tls", "issuerRef": {"name": "ca"}, "dnsNames": ["a.b"]},
    }


@pytest.fixture
def clients(api: tuple[APIServer, RESTClient]) -> tuple[MetadataClient, DynamicClient]:
    dynamic = DynamicClient(api[1])
    dynamic.resource(NAMESPACES).create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    )
    return MetadataClient(api[1]), dynamic


def test_get_and_list_return_only_metadata(
    clients: tuple[MetadataClient, DynamicClient],
) -> None:
    metadata, dynamic = clients
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    full = shop.create(configmap("web", app="web"))
    shop.create(configmap("db", app="db"))

    got = metadata.resource(CONFIGMAPS).namespace("shop").get("web")
    assert isinstance(got, PartialObjectMetadata)
    assert (got.api_version, got.kind) == ("meta.k8s.io/v1", "PartialObjectMetadata")
    assert got.metadata and got.metadata.name == "web" and got.metadata.labels == {"app": "web"}
    assert got.metadata.uid == full["metadata"]["uid"]
    assert got.metadata.resource_version == full["metadata"]["resourceVersion"]

    listed = metadata.resource(CONFIGMAPS).namespace("shop").list(label_selector="app=web")
    assert isinstance(listed, PartialObjectMetadataList)
    assert listed.kind == "PartialObjectMetadataList" and listed.metadata
    assert listed.metadata.resource_version
    assert [item.metadata.name for item in listed.items if item.metadata] == ["web"]
    everywhere = metadata.resource(CONFIGMAPS).list()
    assert {("shop", "web"), ("shop", "db")} <= {
        (i.metadata.namespace, i.metadata.name) for i in everywhere.items if i.metadata
    }
    # pages keep their continue token
    page = metadata.resource(CONFIGMAPS).namespace("shop").list(limit=1)
    assert page.metadata and page.metadata.continue_ and len(page.items) == 1
    # cluster-scoped resources
    names = metadata.resource(NAMESPACES).list()
    assert "shop" in {i.metadata.name for i in names.items if i.metadata}

    with pytest.raises(StatusError) as missing:
        metadata.resource(CONFIGMAPS).namespace("shop").get("nope")
    assert is_not_found(missing.value)
    with pytest.raises(ValueError, match="name is required"):
        metadata.resource(CONFIGMAPS).namespace("shop").get("")


def test_watch_patch_delete_and_delete_collection(
    clients: tuple[MetadataClient, DynamicClient],
) -> None:
    metadata, dynamic = clients
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    meta_shop = metadata.resource(CONFIGMAPS).namespace("shop")
    start = meta_shop.list().metadata
    assert start
    with meta_shop.watch(resource_version=str(start.resource_version), timeout_seconds=10) as w:
        shop.create(configmap("a", app="web"))
        patched = meta_shop.patch("a", {"metadata": {"labels": {"seen": "yes"}}}, PatchType.MERGE)
        assert patched.kind == "PartialObjectMetadata" and patched.metadata
        assert patched.metadata.labels == {"app": "web", "seen": "yes"}
        assert shop.get("a")["data"] == {"payload": "x" * 1000}  # the rest is untouched
        meta_shop.delete("a")
        events = []
        for event in w:
            assert isinstance(event.object, PartialObjectMetadata)
            assert event.object.kind == "PartialObjectMetadata"
            events.append((event.type, event.object.metadata.name if event.object.metadata else ""))
            if len(events) == 3:
                break
    assert events == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]

    for name in ("b", "c", "d"):
        shop.create(configmap(name, app="batch" if name != "d" else "keep"))
    meta_shop.delete_collection(label_selector="app=batch")
    left = [i.metadata.name for i in meta_shop.list().items if i.metadata]
    assert left == ["d"]
    with pytest.raises(StatusError) as gone:
        meta_shop.delete("b")
    assert is_not_found(gone.value)


def test_custom_resources_and_other_groups(clients: tuple[MetadataClient, DynamicClient]) -> None:
    metadata, dynamic = clients
    dynamic.resource(CERTIFICATES).namespace("shop").create(certificate("site"))
    certificates = metadata.resource(CERTIFICATES).namespace("shop")
    got = certificates.get("site")
    assert got.kind == "PartialObjectMetadata" and got.metadata
    assert got.metadata.labels == {"team": "edge"}
    assert [i.metadata.name for i in certificates.list().items if i.metadata] == ["site"]
    start = certificates.list().metadata
    assert start and start.resource_version
    with certificates.watch(resource_version=start.resource_version, timeout_seconds=10) as w:
        certificates.patch(
            "site", [{"op": "add", "path": "/metadata/labels/tier", "value": "1"}], PatchType.JSON
        )
        event = next(iter(w))
    assert event.type == "MODIFIED" and event.object.metadata
    assert event.object.metadata.labels == {"team": "edge", "tier": "1"}
    certificates.delete("site")
    assert certificates.list().items == ()

    dynamic.resource(DEPLOYMENTS).namespace("shop").create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
    )
    deployment = metadata.resource(DEPLOYMENTS).namespace("shop").get("web")
    assert deployment.metadata and deployment.metadata.generation == 1


# -- a server that answers with whole objects ---------------------------------------------------


def _full(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}"},
        "data": {"k": "v"},
    }


def _old_server(seen: Seen) -> Reply:
    """Answers like a server that cannot transform: whole objects whatever the Accept."""
    if seen.query.get("watch") == ["true"]:
        lines = [
            {"type": "ADDED", "object": _full("a")},
            {
                "type": "BOOKMARK",
                "object": {
                    "kind": "ConfigMap",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": "9"},
                },
            },
        ]
        return Reply(body=b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    if seen.path.endswith("/configmaps"):
        listed = {
            "apiVersion": "v1",
            "kind": "ConfigMapList",
            "metadata": {"resourceVersion": "7", "continue": "next"},
            "items": [_full("a"), _full("b")],
        }
        return Reply(body=listed)
    name = seen.path.rsplit("/", 1)[-1]
    if name == "table":
        return Reply(body={"apiVersion": "meta.k8s.io/v1", "kind": "Table", "rows": []})
    if name == "nameless":
        return Reply(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {}}})
    if name == "garbage":
        return Reply(body=b"<html>not an object</html>", content_type="text/html")
    return Reply(body=_full(name))


def test_whole_objects_from_the_server_are_reduced_to_their_metadata() -> None:
    with serving(_old_server) as (server, rest):
        shop = MetadataClient(rest).resource(CONFIGMAPS).namespace("shop")
        got = shop.get("a")
        assert (got.api_version, got.kind) == ("v1", "ConfigMap")
        assert got.metadata and (got.metadata.name, got.metadata.uid) == ("a", "uid-a")

        listed = shop.list()
        assert (listed.kind, listed.metadata and listed.metadata.continue_) == (
            "ConfigMapList",
            "next",
        )
        assert [i.metadata.name for i in listed.items if i.metadata] == ["a", "b"]

        patched = shop.patch("a", {"metadata": {"labels": {"x": "y"}}}, PatchType.MERGE)
        assert patched.metadata and patched.metadata.name == "a"

        with shop.watch() as w:
            events = [(e.type, e.object.kind, e.object.metadata) for e in w]
        assert [(t, k) for t, k, _ in events] == [("ADDED", "ConfigMap"), ("BOOKMARK", "ConfigMap")]

        by_request = [(s.method, s.path, s.headers["accept"]) for s in server.requests()]
        assert by_request[:3] == [
            ("GET", "/api/v1/namespaces/shop/configmaps/a", OBJECT_ACCEPT),
            ("GET", "/api/v1/namespaces/shop/configmaps", LIST_ACCEPT),
            ("PATCH", "/api/v1/namespaces/shop/configmaps/a", OBJECT_ACCEPT),
        ]
        assert by_request[3][2] == OBJECT_ACCEPT
        assert OBJECT_ACCEPT == (
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
        )
        assert LIST_ACCEPT == (
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
        )


def test_answers_that_are_not_metadata_say_what_came_back() -> None:
    with serving(_old_server) as (_server, rest):
        shop = MetadataClient(rest).resource(CONFIGMAPS).namespace("shop")
        with pytest.raises(UnexpectedResponseError) as table:
            shop.get("table")
        assert "expected PartialObjectMetadata but the server sent meta.k8s.io/v1 Table" in str(
            table.value
        )
        assert b'"Table"' in table.value.body
        with pytest.raises(UnexpectedResponseError) as nameless:
            shop.get("nameless")
        assert "does not look like an ObjectMeta" in str(nameless.value)
        assert "v1 ConfigMap" in str(nameless.value)
        with pytest.raises(UnexpectedResponseError) as garbage:
            shop.get("garbage")
        assert "does not decode as PartialObjectMetadata" in str(garbage.value)
        assert "the server sent text/html: '<html>not an object</html>'" in str(garbage.value)
        assert garbage.value.body == b"<html>not an object</html>"
        with pytest.raises(UnexpectedResponseError, match="the server sent text/html"):
            shop.patch("garbage", {"metadata": {}}, PatchType.MERGE)
        with pytest.raises(UnexpectedResponseError, match="does not look like an ObjectMeta"):
            shop.patch("nameless", {"metadata": {}}, PatchType.MERGE)


def test_over_the_socket_free_fake_with_recorded_actions_and_reactors() -> None:
    fake = Fake(small_model())
    with fake.session() as session:
        rest = RESTClient(Config(host=fake.url, qps=-1), session=session)
        session.post(f"{fake.url}/api/v1/namespaces/default/configmaps", json=configmap("web"))
        fake.clear_actions()
        shop = MetadataClient(rest).resource(CONFIGMAPS).namespace("default")
        got = shop.get("web")
        assert got.kind == "PartialObjectMetadata" and got.metadata
        assert got.metadata.name == "web"
        shop.patch("web", {"metadata": {"labels": {"x": "y"}}}, PatchType.MERGE)
        assert [(a.verb, a.resource, a.name) for a in fake.actions] == [
            ("get", "configmaps", "web"),
            ("patch", "configmaps", "web"),
        ]
        # a reactor's answer is sent as it is: a whole object, reduced by the client
        fake.prepend_reactor("get", "configmaps", lambda action: _full(action.name))
        reacted = shop.get("other")
        assert (reacted.kind, reacted.metadata and reacted.metadata.uid) == (
            "ConfigMap",
            "uid-other",
        )
