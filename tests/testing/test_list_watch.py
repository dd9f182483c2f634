"""list (selectors, paging, resourceVersion semantics) and watch (history, 410, bookmarks,
initial events, timeouts) over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from kgen.testing import APIServer
from tests.testing.conftest import Client


def _pod(name: str, labels: dict[str, str] | None = None, node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": spec}


def _names(listed: dict[str, Any]) -> list[str]:
    return [item["metadata"]["name"] for item in listed["items"]]


def _events(client: Client, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    response = client.request("GET", path, params={"watch": "true", **params}, stream=True)
    assert response.status_code == 200, response.text
    with response:
        for line in response.iter_lines():
            if line:
                yield json.loads(line)


def test_label_and_field_selectors(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/pods"
    client.request("POST", path, json=_pod("a", {"app": "web", "tier": "fe"}, node="n1"))
    client.request("POST", path, json=_pod("b", {"app": "web", "tier": "be"}))
    client.request("POST", path, json=_pod("c", {"app": "db"}, node="n1"))

    def names(**params: str) -> list[str]:
        response = client.request("GET", path, params=params)
        assert response.status_code == 200, response.text
        return _names(response.json())

    assert names(labelSelector="app=web") == ["a", "b"]
    assert names(labelSelector="app=web,tier!=fe") == ["b"]
    assert names(labelSelector="tier in (fe,be)") == ["a", "b"]
    assert names(labelSelector="!tier") == ["c"]
    assert names(fieldSelector="spec.nodeName=n1") == ["a", "c"]
    assert names(fieldSelector="spec.nodeName=") == ["b"]
    assert names(fieldSelector="metadata.name!=a,status.phase=Pending") == ["b", "c"]
    bad = client.request("GET", path, params={"fieldSelector": "spec.image=x"})
    assert (
        bad.status_code == 400 and bad.json()["message"] == "field label not supported: spec.image"
    )
    bad_label = client.request("GET", path, params={"labelSelector": "app in (a"})
    assert bad_label.status_code == 400 and "unable to parse" in bad_label.json()["message"]


def test_list_across_namespaces(client: Client, ns: str) -> None:
    client.request(
        "POST", f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "everywhere"}}
    )
    listed = client.request(
        "GET", "/api/v1/configmaps", params={"fieldSelector": f"metadata.namespace={ns}"}
    ).json()
    assert listed["kind"] == "ConfigMapList" and _names(listed) == ["everywhere"]


def test_paging_is_a_consistent_snapshot(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for i in range(5):
        client.request("POST", path, json={"metadata": {"name": f"cm{i}"}})
    first = client.request("GET", path, params={"limit": 2}).json()
    assert _names(first) == ["cm0", "cm1"]
    assert first["metadata"]["remainingItemCount"] == 3
    client.request("DELETE", f"{path}/cm3")
    client.request("POST", path, json={"metadata": {"name": "cm9"}})
    second = client.request(
        "GET", path, params={"limit": 2, "continue": first["metadata"]["continue"]}
    ).json()
    assert _names(second) == ["cm2", "cm3"]
    third = client.request(
        "GET", path, params={"limit": 2, "continue": second["metadata"]["continue"]}
    ).json()
    assert _names(third) == ["cm4"] and "continue" not in third["metadata"]
    assert third["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_expired_continue_token_gets_410(server: APIServer, client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for i in range(3):
        client.request("POST", path, json={"metadata": {"name": f"x{i}"}})
    first = client.request("GET", path, params={"limit": 1}).json()
    client.request("POST", path, json={"metadata": {"name": "later"}})
    server.compact()
    expired = client.request(
        "GET", path, params={"limit": 1, "continue": first["metadata"]["continue"]}
    )
    assert expired.status_code == 410
    assert expired.json()["reason"] == "Expired"
    garbage = client.request("GET", path, params={"continue": "%%%"})
    assert garbage.status_code == 400


def test_list_resource_version_semantics(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    client.request("POST", path, json={"metadata": {"name": "one"}})
    listed = client.request("GET", path).json()
    rv = listed["metadata"]["resourceVersion"]
    client.request("POST", path, json={"metadata": {"name": "two"}})
    exact = client.request(
        "GET", path, params={"resourceVersion": rv, "resourceVersionMatch": "Exact"}
    ).json()
    assert _names(exact) == ["one"] and exact["metadata"]["resourceVersion"] == rv
    newer = client.request(
        "GET", path, params={"resourceVersion": rv, "resourceVersionMatch": "NotOlderThan"}
    ).json()
    assert _names(newer) == ["one", "two"]
    assert _names(client.request("GET", path, params={"resourceVersion": "0"}).json()) == [
        "one",
        "two",
    ]
    too_new = client.request("GET", path, params={"resourceVersion": str(int(rv) + 10_000)})
    assert too_new.status_code == 504
    assert too_new.json()["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
    forbidden = client.request("GET", path, params={"resourceVersionMatch": "Exact"})
    assert forbidden.status_code == 422


def test_watch_from_resource_version(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = client.request("GET", path).json()["metadata"]["resourceVersion"]
    created = client.request(
        "POST", path, json={"metadata": {"name": "w"}, "data": {"a": "1"}}
    ).json()
    created["data"] = {"a": "2"}
    client.request("PUT", f"{path}/w", json=created)
    client.request("DELETE", f"{path}/w")
    events = list(_events(client, path, resourceVersion=rv, timeoutSeconds=1))
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[1]["object"]["data"] == {"a": "2"}
    revisions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert revisions == sorted(revisions)


def test_watch_without_resource_version_replays_current_state(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    client.request("POST", path, json={"metadata": {"name": "old"}})
    events = list(_events(client, path, timeoutSeconds=1))
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "old")]


def test_watch_with_selector_sees_objects_leave_and_enter(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = client.request("GET", path).json()["metadata"]["resourceVersion"]
    obj = client.request(
        "POST", path, json={"metadata": {"name": "s", "labels": {"on": "yes"}}}
    ).json()
    obj["metadata"]["labels"] = {"on": "no"}
    obj = client.request("PUT", f"{path}/s", json=obj).json()
    obj["metadata"]["labels"] = {"on": "yes"}
    client.request("PUT", f"{path}/s", json=obj)
    events = list(
        _events(client, path, resourceVersion=rv, labelSelector="on=yes", timeoutSeconds=1)
    )
    assert [e["type"] for e in events] == ["ADDED", "DELETED", "ADDED"]


def test_watch_too_old_resource_version_gets_410_event(
    server: APIServer, client: Client, ns: str
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = client.request("GET", path).json()["metadata"]["resourceVersion"]
    for i in range(60):  # the fixture's window is 50 events
        client.request("POST", path, json={"metadata": {"name": f"f{i}"}})
    events = list(_events(client, path, resourceVersion=rv))
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith(f"too old resource version: {rv} (")


def test_bookmarks_and_initial_events(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    client.request("POST", path, json={"metadata": {"name": "i1"}})
    client.request("POST", path, json={"metadata": {"name": "i2"}})
    params = {
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
        "allowWatchBookmarks": "true",
        "timeoutSeconds": 1,
    }
    events = list(_events(client, path, **params))
    assert [e["type"] for e in events[:3]] == ["ADDED", "ADDED", "BOOKMARK"]
    end = events[2]["object"]
    assert end["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert end["kind"] == "ConfigMap"
    # the fixture sends a periodic bookmark every 0.3 s
    assert any(
        e["type"] == "BOOKMARK" and "annotations" not in e["object"]["metadata"] for e in events[3:]
    )
    invalid = client.request("GET", path, params={"watch": "true", "sendInitialEvents": "true"})
    assert invalid.status_code == 422


def test_watch_across_namespaces_and_cluster_scope(client: Client, ns: str) -> None:
    rv = client.request("GET", "/apis/example.com/v1/widgets").json()["metadata"]["resourceVersion"]
    client.request("POST", "/apis/example.com/v1/widgets", json={"metadata": {"name": f"w-{ns}"}})
    client.request("POST", f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "c"}})
    widgets = list(
        _events(client, "/apis/example.com/v1/widgets", resourceVersion=rv, timeoutSeconds=1)
    )
    assert [e["object"]["metadata"]["name"] for e in widgets] == [f"w-{ns}"]
    maps = list(_events(client, "/api/v1/configmaps", resourceVersion=rv, timeoutSeconds=1))
    assert [e["object"]["metadata"]["name"] for e in maps] == ["c"]


def test_idle_watch_ends_when_the_client_goes_away(server: APIServer, ns: str) -> None:
    before = set(threading.enumerate())
    watcher = Client(server)
    response = watcher.request(
        "GET", f"/api/v1/namespaces/{ns}/configmaps", params={"watch": "true"}, stream=True
    )
    assert response.status_code == 200
    serving = [t for t in threading.enumerate() if t not in before]
    assert serving, "a request thread serves the watch"
    response.close()
    watcher.close()
    deadline = time.monotonic() + 5
    while any(t.is_alive() for t in serving) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.is_alive() for t in serving)
