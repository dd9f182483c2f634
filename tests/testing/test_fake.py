"""The socket-free fake: requests adapter, recorded actions, reactors, and ObjectTracker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kgen.testing import Action, APIError, Fake, ListOptions, ObjectTracker
from tests.testing.conftest import small_model


def _pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c"}]},
    }


def test_session_reaches_the_fake_and_actions_are_recorded() -> None:
    fake = Fake(small_model())
    with fake.session() as session:
        base = fake.url + "/api/v1/namespaces/default/pods"
        assert session.post(base, json=_pod("a")).status_code == 201
        assert session.post(base, json=_pod("b")).status_code == 201
        listed = session.get(base).json()
    assert [p["metadata"]["name"] for p in listed["items"]] == ["a", "b"]
    assert [(a.verb, a.resource, a.namespace) for a in fake.actions] == [
        ("create", "pods", "default"),
        ("create", "pods", "default"),
        ("list", "pods", "default"),
    ]
    assert fake.actions[0].object()["metadata"]["name"] == "a"
    fake.clear_actions()
    assert fake.actions == []


def test_prepended_reactor_wins_and_tracker_is_unchanged() -> None:
    fake = Fake(small_model())

    def deny(action: Action) -> Any:
        raise APIError(403, "Forbidden", "no pods for you")

    fake.add_reactor("*", "*", lambda action: None)
    fake.prepend_reactor("create", "pods", deny)
    with fake.session() as session:
        denied = session.post(fake.url + "/api/v1/namespaces/default/pods", json=_pod("x"))
        assert denied.status_code == 403 and denied.json()["message"] == "no pods for you"
        assert session.get(fake.url + "/api/v1/namespaces/default/pods").json()["items"] == []
    assert [a.verb for a in fake.actions] == ["create", "list"]


def test_reactor_on_subresource_only() -> None:
    fake = Fake(small_model())
    fake.prepend_reactor(
        "update", "pods/status", lambda action: {"kind": "Pod", "intercepted": True}
    )
    with fake.session() as session:
        base = fake.url + "/api/v1/namespaces/default/pods"
        pod = session.post(base, json=_pod("p")).json()
        assert session.put(f"{base}/p/status", json=pod).json() == {
            "kind": "Pod",
            "intercepted": True,
        }
        pod["metadata"]["labels"] = {"x": "y"}
        assert session.put(f"{base}/p", json=pod).json()["metadata"]["labels"] == {"x": "y"}


def test_watch_through_the_adapter_and_watch_reactor() -> None:
    fake = Fake(small_model())
    with fake.session() as session:
        base = fake.url + "/api/v1/namespaces/default/configmaps"
        session.post(base, json={"metadata": {"name": "w"}})
        with session.get(
            base, params={"watch": "true", "timeoutSeconds": "1"}, stream=True
        ) as response:
            events = [json.loads(line) for line in response.iter_lines() if line]
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w")]
        fake.prepend_reactor(
            "watch",
            "configmaps",
            lambda action: [{"type": "DELETED", "object": {"kind": "ConfigMap"}}],
        )
        with session.get(base, params={"watch": "true"}, stream=True) as response:
            assert [json.loads(line)["type"] for line in response.iter_lines() if line] == [
                "DELETED"
            ]


def test_tracker_add_get_list_watch_delete() -> None:
    tracker = ObjectTracker(small_model())
    pods = tracker.resource("", "v1", "pods")
    tracker.add(_pod("a", app="x"))
    tracker.add({"apiVersion": "v1", "kind": "PodList", "items": [_pod("b", app="y")]})
    listed = tracker.list(pods, "default", ListOptions(label_selector="app=x"))
    assert [p["metadata"]["name"] for p in listed["items"]] == ["a"]
    got = tracker.get(pods, "default", "a")
    got["metadata"]["labels"]["app"] = "mutated"  # callers own their copies
    assert tracker.get(pods, "default", "a")["metadata"]["labels"]["app"] == "x"
    with tracker.watch(
        pods,
        "default",
        ListOptions(resource_version=listed["metadata"]["resourceVersion"], timeout_seconds=2),
    ) as events:
        tracker.delete(pods, "default", "a")
        event = next(events)
    assert event["type"] == "DELETED" and event["object"]["metadata"]["name"] == "a"
    with pytest.raises(APIError) as missing:
        tracker.get(pods, "default", "a")
    assert missing.value.code == 404


def test_tracker_errors_match_the_server() -> None:
    tracker = ObjectTracker(small_model())
    pods = tracker.resource("", "v1", "pods")
    tracker.create(pods, "default", _pod("dup"))
    with pytest.raises(APIError) as exists:
        tracker.create(pods, "default", _pod("dup"))
    assert exists.value.reason == "AlreadyExists"
    with pytest.raises(APIError) as missing:
        tracker.update(pods, "default", _pod("absent"))
    assert missing.value.reason == "NotFound"
    other = _pod("elsewhere")
    other["metadata"]["namespace"] = "b"
    with pytest.raises(APIError) as mismatch:
        tracker.create(pods, "a", other)
    assert mismatch.value.code == 400
    with pytest.raises(APIError) as unknown:
        tracker.resource("", "v1", "nothings")
    assert unknown.value.code == 404
