"""ResourceClient over real HTTP: the path, method, query, headers and body of every verb
(behaviour 1.5 / 1.6), and decoding of what the server answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kgen.client import GroupVersionResource, PatchType, ResourceClient
from kgen.meta import ManagedFieldsEntry, ObjectMeta, Preconditions, Status
from kgen.rest import RESTClient, StatusError, is_not_found

from .models import Scale, Widget, WidgetList, widget
from .wire import Reply, Seen, serving, status_reply

WIDGETS = GroupVersionResource("example.com", "v1", "widgets")
PODS = GroupVersionResource("", "v1", "pods")

STORED: dict[str, Any] = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "web", "namespace": "ns1", "resourceVersion": "7"},
    "spec": {"size": 3},
}
LISTED = {
    "apiVersion": "example.com/v1",
    "kind": "WidgetList",
    "metadata": {"resourceVersion": "9", "continue": "next-page"},
    "items": [STORED],
}


def echo(seen: Seen) -> Reply:
    """Answer every write with the stored object and every collection GET with a list."""
    if seen.method == "GET" and seen.path.endswith("widgets"):
        return Reply(body=LISTED)
    return Reply(body=STORED)


def client(rest: RESTClient, namespace: str | None = "ns1") -> ResourceClient[Widget, WidgetList]:
    return ResourceClient(rest, WIDGETS, Widget, WidgetList, namespace)


def query(seen: Seen) -> dict[str, str]:
    return {key: values[-1] for key, values in seen.query.items()}


def test_get_addresses_the_named_object_and_decodes_it() -> None:
    with serving(echo) as (server, rest):
        got = client(rest).get("web", resource_version="5")
    seen = server.last()
    assert (seen.method, seen.path) == ("GET", "/apis/example.com/v1/namespaces/ns1/widgets/web")
    assert query(seen) == {"resourceVersion": "5"}
    assert isinstance(got, Widget)
    assert isinstance(got.metadata, ObjectMeta)
    assert got.metadata.resource_version == "7"
    assert got.spec == {"size": 3}


def test_core_group_lives_under_api_v1() -> None:
    with serving(echo) as (server, rest):
        ResourceClient(rest, PODS, Widget, WidgetList, "default").get("p")
    assert server.last().path == "/api/v1/namespaces/default/pods/p"


def test_list_sends_every_option_and_the_timeout_as_go_duration() -> None:
    with serving(echo) as (server, rest):
        got = client(rest).list(
            label_selector="app=web",
            field_selector="status.phase=Running",
            limit=50,
            continue_="tok",
            resource_version="0",
            resource_version_match="NotOlderThan",
            timeout_seconds=21,
        )
    seen = server.last()
    assert (seen.method, seen.path) == ("GET", "/apis/example.com/v1/namespaces/ns1/widgets")
    assert query(seen) == {
        "labelSelector": "app=web",
        "fieldSelector": "status.phase=Running",
        "limit": "50",
        "continue": "tok",
        "resourceVersion": "0",
        "resourceVersionMatch": "NotOlderThan",
        "timeoutSeconds": "21",
        "timeout": "21s",
    }
    assert isinstance(got, WidgetList)
    assert got.metadata and got.metadata.continue_ == "next-page"
    assert [item.metadata.name for item in got.items if item.metadata] == ["web"]


def test_collection_calls_ignore_the_config_timeout_other_verbs_keep_it() -> None:
    """A config timeout would cut long watches and lists short: they only use their own."""
    with serving(echo, timeout=30) as (server, rest):
        widgets = client(rest)
        widgets.list()
        widgets.delete_collection()
        widgets.get("web")
        widgets.list(timeout_seconds=5)
    listed, deleted, got, timed = server.requests()
    assert "timeout" not in listed.query and "timeout" not in deleted.query
    assert query(got) == {"timeout": "30s"}
    assert query(timed) == {"timeoutSeconds": "5", "timeout": "5s"}


def test_empty_list_options_send_no_query() -> None:
    with serving(echo) as (server, rest):
        client(rest).list()
    assert server.last().query == {}


@pytest.mark.parametrize(
    ("namespace", "path"),
    [
        ("", "/apis/example.com/v1/widgets"),  # namespaced client, all namespaces (1.6.2)
        (None, "/apis/example.com/v1/widgets"),  # cluster-scoped
        ("team-a", "/apis/example.com/v1/namespaces/team-a/widgets"),
    ],
)
def test_namespace_segment_only_when_non_empty(namespace: str | None, path: str) -> None:
    with serving(echo) as (server, rest):
        client(rest, namespace).list()
        client(rest, namespace).delete_collection()
    assert [seen.path for seen in server.requests()] == [path, path]


def test_watch_streams_decoded_events() -> None:
    modified = {**STORED, "metadata": {**STORED["metadata"], "resourceVersion": "8"}}
    frames = b"".join(
        json.dumps({"type": kind, "object": obj}).encode() + b"\n"
        for kind, obj in (("ADDED", STORED), ("MODIFIED", modified))
    )

    with (
        serving(lambda seen: Reply(body=frames)) as (server, rest),
        client(rest).watch(
            resource_version="7", timeout_seconds=30, allow_watch_bookmarks=True
        ) as watch,
    ):
        events = [(e.type, e.object) for e in watch]
    seen = server.last()
    assert query(seen) == {
        "watch": "true",
        "resourceVersion": "7",
        "timeoutSeconds": "30",
        "timeout": "30s",
        "allowWatchBookmarks": "true",
    }
    assert [kind for kind, _ in events] == ["ADDED", "MODIFIED"]
    assert all(isinstance(obj, Widget) for _, obj in events)
    assert events[1][1].metadata.resource_version == "8"  # type: ignore[union-attr]


def test_create_posts_the_object_with_write_options() -> None:
    with serving(echo) as (server, rest):
        got = client(rest).create(
            widget(size=3), dry_run=True, field_manager="me", field_validation="Strict"
        )
    seen = server.last()
    assert (seen.method, seen.path) == ("POST", "/apis/example.com/v1/namespaces/ns1/widgets")
    assert query(seen) == {"dryRun": "All", "fieldManager": "me", "fieldValidation": "Strict"}
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "web", "namespace": "ns1"},
        "spec": {"size": 3},
    }
    assert got.metadata and got.metadata.resource_version == "7"


@pytest.mark.parametrize(
    ("verb", "path"),
    [
        ("update", "/apis/example.com/v1/namespaces/ns1/widgets/web"),
        ("update_status", "/apis/example.com/v1/namespaces/ns1/widgets/web/status"),
    ],
)
def test_update_puts_the_object_under_its_name(verb: str, path: str) -> None:
    with serving(echo) as (server, rest):
        getattr(client(rest), verb)(widget(size=4), field_manager="me")
    seen = server.last()
    assert (seen.method, seen.path) == ("PUT", path)
    assert query(seen) == {"fieldManager": "me"}
    assert seen.json()["spec"] == {"size": 4}


def test_update_without_a_name_fails_before_sending() -> None:
    with serving(echo) as (server, rest), pytest.raises(ValueError, match=r"metadata\.name"):
        client(rest).update(Widget(spec={"size": 1}))
    assert server.requests() == []


@pytest.mark.parametrize("patch_type", list(PatchType))
def test_patch_sends_the_patch_type_as_content_type(patch_type: PatchType) -> None:
    with serving(echo) as (server, rest):
        client(rest).patch("web", b'{"spec":{"size":5}}', patch_type)
    seen = server.last()
    assert (seen.method, seen.path) == ("PATCH", "/apis/example.com/v1/namespaces/ns1/widgets/web")
    assert seen.headers["content-type"] == patch_type.value
    assert seen.body == b'{"spec":{"size":5}}'


def test_patch_encodes_python_data_and_targets_subresources() -> None:
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 2}]
    with serving(echo) as (server, rest):
        client(rest).patch(
            "web",
            ops,
            PatchType.JSON,
            subresources=("scale",),
            field_manager="me",
            force=False,
            dry_run=True,
        )
    seen = server.last()
    assert seen.path == "/apis/example.com/v1/namespaces/ns1/widgets/web/scale"
    assert seen.json() == ops
    assert query(seen) == {"fieldManager": "me", "force": "false", "dryRun": "All"}


@pytest.mark.parametrize(
    ("verb", "path"),
    [
        ("apply", "/apis/example.com/v1/namespaces/ns1/widgets/web"),
        ("apply_status", "/apis/example.com/v1/namespaces/ns1/widgets/web/status"),
    ],
)
def test_apply_is_a_server_side_apply_patch(verb: str, path: str) -> None:
    with serving(echo) as (server, rest):
        got = getattr(client(rest), verb)(widget(size=2), field_manager="ctl", force=True)
    seen = server.last()
    assert (seen.method, seen.path) == ("PATCH", path)
    assert seen.headers["content-type"] == "application/apply-patch+yaml"
    assert query(seen) == {"fieldManager": "ctl", "force": "true"}
    assert seen.json()["metadata"] == {"name": "web", "namespace": "ns1"}
    assert isinstance(got, Widget)


@pytest.mark.parametrize(
    ("obj", "manager", "message"),
    [
        (None, "ctl", "must not be None"),
        (Widget(spec={}), "ctl", "metadata.name"),
        (widget(), "", "field_manager"),
        (
            Widget(metadata=ObjectMeta(name="web", managed_fields=(ManagedFieldsEntry(),))),
            "ctl",
            "managedFields",
        ),
    ],
)
def test_apply_validates_before_sending(obj: Any, manager: str, message: str) -> None:
    with serving(echo) as (server, rest), pytest.raises(ValueError, match=message):
        client(rest).apply(obj, field_manager=manager)
    assert server.requests() == []


def test_delete_sends_delete_options_as_body() -> None:
    with serving(lambda seen: Reply(body={"kind": "Status", "status": "Success"})) as (
        server,
        rest,
    ):
        client(rest).delete(
            "web",
            grace_period_seconds=0,
            propagation_policy="Foreground",
            preconditions=Preconditions(uid="u-1", resource_version="7"),
            dry_run=True,
        )
    seen = server.last()
    assert (seen.method, seen.path) == ("DELETE", "/apis/example.com/v1/namespaces/ns1/widgets/web")
    assert seen.json() == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "gracePeriodSeconds": 0,
        "propagationPolicy": "Foreground",
        "preconditions": {"uid": "u-1", "resourceVersion": "7"},
        "dryRun": ["All"],
    }


def test_delete_collection_sends_list_options_as_query_and_delete_options_as_body() -> None:
    with serving(echo) as (server, rest):
        client(rest).delete_collection(
            label_selector="app=web", timeout_seconds=90, propagation_policy="Background"
        )
    seen = server.last()
    assert (seen.method, seen.path) == ("DELETE", "/apis/example.com/v1/namespaces/ns1/widgets")
    assert query(seen) == {"labelSelector": "app=web", "timeoutSeconds": "90", "timeout": "1m30s"}
    assert seen.json() == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Background",
    }


def test_subresource_helpers_use_their_own_result_types() -> None:
    scale = {"metadata": {"name": "web"}, "spec": {"replicas": 3}}

    def handler(seen: Seen) -> Reply:
        if seen.path.endswith("/eviction"):
            return Reply(201, {"kind": "Status", "status": "Success"})
        return Reply(body=scale)

    with serving(handler) as (server, rest):
        widgets = client(rest)
        got = widgets.get_subresource("web", "scale", Scale)
        updated = widgets.update_subresource("web", "scale", Scale(spec={"replicas": 4}), Scale)
        evicted = widgets.create_subresource(
            "web", "eviction", {"apiVersion": "policy/v1", "kind": "Eviction"}, Status
        )
        patched = widgets.patch_subresource(
            "web", "scale", {"spec": {"replicas": 5}}, PatchType.MERGE, Scale, field_manager="me"
        )
    get, put, post, patch = server.requests()
    base = "/apis/example.com/v1/namespaces/ns1/widgets/web"
    assert (get.method, get.path) == ("GET", f"{base}/scale")
    assert (put.method, put.path, put.json()) == ("PUT", f"{base}/scale", {"spec": {"replicas": 4}})
    assert (post.method, post.path) == ("POST", f"{base}/eviction")
    assert isinstance(got, Scale) and got.spec == {"replicas": 3}
    assert isinstance(updated, Scale)
    assert evicted.status == "Success"
    assert (patch.method, patch.path, patch.json()) == (
        "PATCH",
        f"{base}/scale",
        {"spec": {"replicas": 5}},
    )
    assert patch.headers["content-type"] == PatchType.MERGE.value
    assert query(patch) == {"fieldManager": "me"}
    assert isinstance(patched, Scale) and patched.spec == {"replicas": 3}


def test_subresource_helpers_refuse_an_empty_namespace() -> None:
    """A namespaced client for all namespaces cannot address one object's subresource."""
    with serving(echo) as (server, rest), pytest.raises(ValueError, match="empty namespace"):
        client(rest, "").get_subresource("web", "scale", Scale)
    assert server.requests() == []


def test_stream_yields_the_body_of_a_log_request() -> None:
    lines = b"".join(f"line {i}\n".encode() for i in range(1000))
    with serving(lambda seen: Reply(body=lines, content_type="text/plain")) as (server, rest):
        pods = ResourceClient(rest, PODS, Widget, WidgetList, "default")
        received = b"".join(pods.stream("web-0", "log", params={"container": "app"}))
    seen = server.last()
    assert (seen.method, seen.path) == ("GET", "/api/v1/namespaces/default/pods/web-0/log")
    assert query(seen) == {"container": "app"}
    assert received == lines


def test_server_errors_surface_as_status_errors() -> None:
    with (
        serving(lambda seen: status_reply(404, "NotFound", 'widgets "web" not found')) as (
            _,
            rest,
        ),
        pytest.raises(StatusError) as caught,
    ):
        client(rest).get("web")
    assert is_not_found(caught.value)
    assert 'widgets "web" not found' in str(caught.value)


def test_a_body_that_is_neither_model_nor_mapping_is_refused() -> None:
    with serving(echo) as (server, rest), pytest.raises(TypeError, match="request body"):
        client(rest).create_subresource("web", "eviction", 42, Status)
    assert server.requests() == []
