"""DynamicClient against kgen.testing's API server: objects stay dicts, lists keep metadata,
and every verb behaves as the server says (4.9)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from kgen.client import GroupVersionResource, PatchType
from kgen.dynamic import DynamicClient, DynamicResourceClient
from kgen.rest import (
    RESTClient,
    StatusError,
    is_conflict,
    is_not_found,
)
from kgen.testing import APIServer

NAMESPACES = GroupVersionResource("", "v1", "namespaces")
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
DEPLOYMENTS = GroupVersionResource("apps", "v1", "deployments")
CERTIFICATES = GroupVersionResource("cert-manager.io", "v1", "certificates")


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "data": dict(data),
    }


@pytest.fixture
def dynamic(api: tuple[APIServer, RESTClient]) -> DynamicClient:
    client = DynamicClient(api[1])
    for name in ("shop", "office"):
        client.resource(NAMESPACES).create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        )
    return client


def test_create_get_and_list_unstructured(dynamic: DynamicClient) -> None:
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    created = shop.create(configmap("web", color="blue"))
    assert isinstance(created, dict)
    assert created["metadata"]["namespace"] == "shop"
    assert created["metadata"]["resourceVersion"]
    got = shop.get("web")
    assert got["data"] == {"color": "blue"}

    dynamic.resource(CONFIGMAPS).namespace("office").create(configmap("db"))
    listed = shop.list(label_selector="app=web")
    assert listed["kind"] == "ConfigMapList"
    assert listed["metadata"]["resourceVersion"]
    assert [item["metadata"]["name"] for item in listed["items"]] == ["web"]
    everywhere = dynamic.resource(CONFIGMAPS).list()
    names = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in everywhere["items"]}
    assert {("shop", "web"), ("office", "db")} <= names


def test_list_pages_keep_their_continue_token(dynamic: DynamicClient) -> None:
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    for i in range(5):
        shop.create(configmap(f"cm-{i}"))
    first = shop.list(limit=2)
    assert len(first["items"]) == 2 and first["metadata"]["continue"]
    rest = shop.list(limit=10, continue_=first["metadata"]["continue"])
    assert len(first["items"]) + len(rest["items"]) == 5


def test_update_conflicts_on_a_stale_resource_version(dynamic: DynamicClient) -> None:
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    created = shop.create(configmap("web", color="blue"))
    fresh = dict(created, data={"color": "green"})
    updated = shop.update(fresh)
    assert updated["data"] == {"color": "green"}
    stale = dict(created, data={"color": "red"})
    with pytest.raises(StatusError) as caught:
        shop.update(stale)
    assert is_conflict(caught.value)


def test_patches_and_server_side_apply(dynamic: DynamicClient) -> None:
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    shop.create(configmap("web", color="blue"))
    merged = shop.patch("web", {"data": {"size": "L"}}, PatchType.MERGE)
    assert merged["data"] == {"color": "blue", "size": "L"}
    json_patched = shop.patch("web", [{"op": "remove", "path": "/data/size"}], PatchType.JSON)
    assert json_patched["data"] == {"color": "blue"}

    intent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web"},
        "data": {"owner": "a"},
    }
    applied = shop.apply(intent, field_manager="team-a")
    assert applied["data"]["owner"] == "a"
    managers = {entry["manager"] for entry in applied["metadata"]["managedFields"]}
    assert "team-a" in managers
    rival = dict(intent, data={"owner": "b"})
    with pytest.raises(StatusError) as caught:
        shop.apply(rival, field_manager="team-b")
    assert is_conflict(caught.value)
    assert shop.apply(rival, field_manager="team-b", force=True)["data"]["owner"] == "b"
    with pytest.raises(ValueError, match="managedFields"):
        shop.apply(applied, field_manager="team-a")


def test_status_and_scale_subresources(dynamic: DynamicClient) -> None:
    deployments = dynamic.resource(DEPLOYMENTS).namespace("shop")
    deployment = deployments.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "nginx"}]},
                },
            },
        }
    )
    deployment["status"] = {"replicas": 1, "readyReplicas": 1}
    deployment["spec"]["replicas"] = 7  # ignored by the status subresource
    updated = deployments.update_status(deployment)
    assert updated["status"]["readyReplicas"] == 1
    assert updated["spec"]["replicas"] == 1

    scale = deployments.get_subresource("web", "scale", dict)
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1
    scale["spec"]["replicas"] = 3
    deployments.update_subresource("web", "scale", scale, dict)
    assert deployments.get("web")["spec"]["replicas"] == 3


def test_custom_resources_are_plain_dicts_too(dynamic: DynamicClient) -> None:
    certificates = dynamic.resource(CERTIFICATES).namespace("shop")
    created = certificates.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "site"},
            "spec": {
                "secretName": "site-tls",
                "issuerRef": {"name": "ca"},
                "dnsNames": ["a.example"],
            },
        }
    )
    assert created["spec"]["dnsNames"] == ["a.example"]
    assert [c["metadata"]["name"] for c in certificates.list()["items"]] == ["site"]


def test_watch_delivers_dict_events(dynamic: DynamicClient) -> None:
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    start = shop.list()["metadata"]["resourceVersion"]
    watch = shop.watch(resource_version=start, timeout_seconds=10)
    received: list[tuple[str, str]] = []

    def consume() -> None:
        for event in watch:
            received.append((event.type, event.object["metadata"]["name"]))
            if len(received) == 3:
                watch.stop()

    reader = threading.Thread(target=consume)
    reader.start()
    try:
        shop.create(configmap("web"))
        shop.patch("web", {"data": {"k": "v"}}, PatchType.MERGE)
        shop.delete("web")
        reader.join(timeout=10)
    finally:
        watch.stop()
        reader.join()
    assert received == [("ADDED", "web"), ("MODIFIED", "web"), ("DELETED", "web")]


def test_delete_and_delete_collection(dynamic: DynamicClient) -> None:
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    for name in ("a", "b", "c"):
        shop.create(configmap(name))
    shop.create({**configmap("keep"), "metadata": {"name": "keep", "labels": {"app": "db"}}})
    shop.delete("a", grace_period_seconds=0, propagation_policy="Background")
    with pytest.raises(StatusError) as caught:
        shop.get("a")
    assert is_not_found(caught.value)
    shop.delete_collection(label_selector="app=web")
    assert [i["metadata"]["name"] for i in shop.list()["items"]] == ["keep"]
    with pytest.raises(StatusError) as caught:
        shop.delete("a")
    assert is_not_found(caught.value)


def test_dry_run_changes_nothing(dynamic: DynamicClient) -> None:
    shop = dynamic.resource(CONFIGMAPS).namespace("shop")
    shop.create(configmap("ghost"), dry_run=True)
    with pytest.raises(StatusError) as caught:
        shop.get("ghost")
    assert is_not_found(caught.value)


def test_namespace_narrowing_keeps_resource_and_empty_means_none(dynamic: DynamicClient) -> None:
    client = dynamic.resource(CONFIGMAPS)
    narrowed = client.namespace("shop")
    assert isinstance(narrowed, DynamicResourceClient)
    assert (narrowed.resource, narrowed.target_namespace) == (CONFIGMAPS, "shop")
    assert client.namespace("").target_namespace is None
    assert client.target_namespace is None
