"""The patch formats and server-side apply, as functions and over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from kgen.testing import ObjectTracker, WriteOptions
from kgen.testing._patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from kgen.testing._schema import SchemaView
from tests.testing.conftest import Client, small_model

SCHEMAS = SchemaView(small_model().schemas)
POD = SCHEMAS.named("io.k8s.api.core.v1.Pod")


def test_json_patch_operations() -> None:
    doc = {"a": {"b": [1, 2]}, "c": "x"}
    patched = json_patch(
        doc,
        [
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "replace", "path": "/c", "value": "y"},
            {"op": "move", "from": "/c", "path": "/d"},
            {"op": "copy", "from": "/a/b/0", "path": "/e"},
            {"op": "remove", "path": "/a/b/1"},
            {"op": "test", "path": "/d", "value": "y"},
            {"op": "add", "path": "/f~1g", "value": True},
        ],
    )
    assert patched == {"a": {"b": [1, 3]}, "d": "y", "e": 1, "f/g": True}
    assert doc == {"a": {"b": [1, 2]}, "c": "x"}


@pytest.mark.parametrize(
    ("ops", "fragment"),
    [
        ([{"op": "test", "path": "/c", "value": "no"}], "test operation 0 failed"),
        ([{"op": "remove", "path": "/missing"}], "does not exist"),
        ([{"op": "add", "path": "/a/b/9", "value": 1}], "out of range"),
        ([{"op": "jump", "path": "/c"}], "unknown op 'jump'"),
        ({"op": "add"}, "JSON array"),
    ],
)
def test_json_patch_errors(ops: Any, fragment: str) -> None:
    with pytest.raises(PatchError, match=fragment):
        json_patch({"a": {"b": []}, "c": "x"}, ops)


def test_merge_patch_rfc7386() -> None:
    assert merge_patch({"a": "b", "c": {"d": "e", "f": "g"}}, {"a": "z", "c": {"f": None}}) == {
        "a": "z",
        "c": {"d": "e"},
    }
    assert merge_patch({"l": [1, 2]}, {"l": [3]}) == {"l": [3]}


def _pod(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"containers": list(containers)}}


def test_strategic_merge_by_key_and_directives() -> None:
    live = _pod(
        {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
        {"name": "b", "image": "b:1"},
    )
    patch = {
        "spec": {
            "containers": [
                {"name": "a", "env": [{"name": "Y", "value": "2"}]},
                {"name": "b", "$patch": "delete"},
                {"name": "c", "image": "c:1"},
            ]
        }
    }
    merged = strategic_merge_patch(live, patch, POD, SCHEMAS)
    assert merged["spec"]["containers"] == [
        {
            "name": "a",
            "image": "a:1",
            "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
        },
        {"name": "c", "image": "c:1"},
    ]
    ordered = strategic_merge_patch(
        merged,
        {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}]}},
        POD,
        SCHEMAS,
    )
    assert [c["name"] for c in ordered["spec"]["containers"]] == ["a", "c"]
    reordered = strategic_merge_patch(
        merged,
        {
            "spec": {
                "containers": [{"name": "a"}],
                "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}],
            }
        },
        POD,
        SCHEMAS,
    )
    assert [c["name"] for c in reordered["spec"]["containers"]] == ["c", "a"]
    replaced = strategic_merge_patch(
        merged, {"spec": {"containers": [{"name": "z"}, {"$patch": "replace"}]}}, POD, SCHEMAS
    )
    assert replaced["spec"]["containers"] == [{"name": "z"}]
    args = strategic_merge_patch(
        _pod({"name": "a", "args": ["1", "2"]}),
        {"spec": {"containers": [{"name": "a", "args": ["3"]}]}},
        POD,
        SCHEMAS,
    )
    assert args["spec"]["containers"][0]["args"] == ["3"]


def test_strategic_merge_over_http(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/pods"
    client.request(
        "POST", path, json={"metadata": {"name": "p"}, **_pod({"name": "a", "image": "a:1"})}
    )
    patched = client.request(
        "PATCH",
        f"{path}/p",
        json={"spec": {"containers": [{"name": "b", "image": "b:1"}]}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert patched.status_code == 200
    assert [c["name"] for c in patched.json()["spec"]["containers"]] == ["a", "b"]
    merge = client.request(
        "PATCH",
        f"{path}/p",
        json={"spec": {"containers": [{"name": "only", "image": "o"}]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert [c["name"] for c in merge.json()["spec"]["containers"]] == ["only"]
    unsupported = client.request(
        "PATCH", f"{path}/p", json={}, headers={"Content-Type": "text/plain"}
    )
    assert unsupported.status_code == 415
    failing = client.request(
        "PATCH",
        f"{path}/p",
        json=[{"op": "test", "path": "/spec/containers/0/name", "value": "x"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert failing.status_code == 422 and "test operation 0 failed" in failing.json()["message"]
    missing = client.request(
        "PATCH", f"{path}/absent", json={}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert missing.status_code == 404


def _apply(client: Client, path: str, body: str, manager: str, force: bool = False) -> Any:
    params = {"fieldManager": manager}
    if force:
        params["force"] = "true"
    return client.request(
        "PATCH",
        path,
        data=body,
        params=params,
        headers={"Content-Type": "application/apply-patch+yaml"},
    )


CM = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: applied
data:
  {data}
"""


def test_server_side_apply_ownership(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/applied"
    created = _apply(client, path, CM.format(data="a: '1'\n  b: '2'"), "alice")
    assert created.status_code == 201
    managed = created.json()["metadata"]["managedFields"]
    assert managed == [
        {
            "manager": "alice",
            "operation": "Apply",
            "apiVersion": "v1",
            "time": managed[0]["time"],
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:a": {}, "f:b": {}}},
        }
    ]
    same_value = _apply(client, path, CM.format(data="a: '1'"), "bob")
    assert same_value.status_code == 200
    clash = _apply(client, path, CM.format(data="a: 'other'"), "bob")
    assert clash.status_code == 409
    status = clash.json()
    assert status["reason"] == "Conflict"
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "alice": .data.a'
    assert status["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".data.a"}
    ]
    forced = _apply(client, path, CM.format(data="a: 'other'"), "bob", force=True).json()
    assert forced["data"] == {"a": "other", "b": "2"}
    owners = {m["manager"]: m["fieldsV1"] for m in forced["metadata"]["managedFields"]}
    assert owners == {"alice": {"f:data": {"f:b": {}}}, "bob": {"f:data": {"f:a": {}}}}
    # alice stops applying b: it is removed since nobody else owns it
    dropped = _apply(client, path, CM.format(data="{}").replace("  {}", "  {}"), "alice").json()
    assert dropped["data"] == {"a": "other"}
    no_manager = client.request(
        "PATCH",
        path,
        data=CM.format(data="a: '1'"),
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert no_manager.status_code == 422
    assert no_manager.json()["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for '
        "apply patch"
    )


def test_update_takes_ownership_from_appliers(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    _apply(client, f"{path}/applied", CM.format(data="a: '1'"), "alice")
    obj = client.request("GET", f"{path}/applied").json()
    obj["data"]["a"] = "changed"
    updated = client.request(
        "PUT", f"{path}/applied", params={"fieldManager": "editor"}, json=obj
    ).json()
    owners = {
        (m["manager"], m["operation"]): m["fieldsV1"] for m in updated["metadata"]["managedFields"]
    }
    assert owners[("editor", "Update")] == {"f:data": {"f:a": {}}}
    assert ("alice", "Apply") not in owners


def test_repeated_identical_apply_changes_nothing() -> None:
    ticks = iter(f"2026-01-01T00:00:{n:02d}Z" for n in range(60))
    tracker = ObjectTracker(small_model(), clock=lambda: next(ticks))
    info = tracker.resource("", "v1", "configmaps")
    options = WriteOptions(field_manager="alice")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    first = tracker.patch(info, "default", "c", "application/apply-patch+yaml", body, options)
    again = tracker.patch(info, "default", "c", "application/apply-patch+yaml", body, options)
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert again["metadata"]["managedFields"] == first["metadata"]["managedFields"]
    body["data"] = {"a": "2"}
    changed = tracker.patch(info, "default", "c", "application/apply-patch+yaml", body, options)
    assert (
        changed["metadata"]["managedFields"][0]["time"]
        != first["metadata"]["managedFields"][0]["time"]
    )
