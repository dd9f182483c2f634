"""Server-side apply as kube-apiserver does it, field by field: kgen's dynamic client against
kgen.testing.APIServer on the real 1.35 OpenAPI v3 documents and the Gateway API CRD (whose
listeners and conditions are keyed lists), plus the 1.21 swagger for lists that only carry a
patch merge key. After every write, ``managedFields`` must name only fields that are stored."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgen.client import GroupVersionResource, PatchType
from kgen.dynamic import DynamicClient, DynamicResourceClient
from kgen.rest import Config, RESTClient, StatusError
from kgen.testing import APIServer

CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
DEPLOYMENTS = GroupVersionResource("apps", "v1", "deployments")
GATEWAYS = GroupVersionResource("gateway.networking.k8s.io", "v1", "gateways")
WORKFLOWS = GroupVersionResource("argoproj.io", "v1alpha1", "workflows")
NS = "default"
_names = (f"obj-{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def dynamic(specs_dir: Path) -> Iterator[DynamicClient]:
    server = APIServer(
        specs=[
            specs_dir / "kubernetes" / "v1.35" / "openapi-v3",
            specs_dir / "crds" / "gateway-api" / "gateway.networking.k8s.io_gateways.yaml",
            specs_dir / "crds" / "argo-workflows" / "argoproj.io_workflows.minimal.yaml",
        ]
    )
    with server, RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest:
        yield DynamicClient(rest)


def _client(dynamic: DynamicClient, gvr: GroupVersionResource) -> DynamicResourceClient:
    return dynamic.resource(gvr).namespace(NS)


def _cm(name: str, data: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, **meta},
    }
    if data is not None:
        obj["data"] = data
    return obj


def _deployment(name: str, containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}},
            **spec,
        },
    }


def _gateway(name: str, listeners: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name},
        "spec": {"gatewayClassName": "example", "listeners": listeners},
    }


def _owners(obj: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    return {
        (e["manager"], e["operation"], e.get("subresource", "")): e["fieldsV1"]
        for e in obj["metadata"].get("managedFields", [])
    }


def _resolve(node: Any, token: str) -> Any:
    """The child of ``node`` a FieldsV1 token names, or KeyError when it is not stored."""
    kind, rest = token[:2], token[2:]
    if kind == "f:" and isinstance(node, dict):
        return node[rest]
    if kind in ("k:", "v:") and isinstance(node, list):
        wanted = json.loads(rest)
        for item in node:
            if (kind == "v:" and item == wanted) or (
                kind == "k:"
                and isinstance(item, dict)
                and all(item.get(k) == v for k, v in wanted.items())
            ):
                return item
    raise KeyError(token)


def _check_owned_fields_are_stored(obj: dict[str, Any]) -> None:
    """Every path in every managedFields entry exists in ``obj``; no entry is empty, and
    Apply entries come first."""
    entries = obj["metadata"].get("managedFields", [])
    operations = [e["operation"] for e in entries]
    assert operations == sorted(operations), operations
    for entry in entries:
        assert entry["fieldsV1"], entry
        _walk_owned(entry["manager"], entry["fieldsV1"], obj, "")


def _walk_owned(manager: str, tree: dict[str, Any], node: Any, where: str) -> None:
    for token, child in tree.items():
        if token == ".":
            continue
        try:
            below = _resolve(node, token)
        except KeyError:
            raise AssertionError(f"{manager} owns {where}/{token}, which is not stored") from None
        _walk_owned(manager, child, below, f"{where}/{token}")


def _conflict(call: Any) -> StatusError:
    with pytest.raises(StatusError) as caught:
        call()
    assert caught.value.code == 409 and caught.value.reason == "Conflict"
    return caught.value


# --- the known bug: an empty map, then its keys ----------------------------------------------------


def test_empty_map_then_keys_keeps_the_second_apply(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    first = cms.apply(_cm(name, {}), field_manager="alice")
    assert first.get("data") in (None, {})
    assert "alice" not in {m for m, _, _ in _owners(first)}  # an empty map claims nothing
    second = cms.apply(_cm(name, {"a": "1"}), field_manager="alice")
    assert second["data"] == {"a": "1"}
    assert _owners(second)[("alice", "Apply", "")] == {"f:data": {"f:a": {}}}
    _check_owned_fields_are_stored(second)
    assert cms.get(name)["data"] == {"a": "1"}
    # applying the empty map again means "I no longer set a": it goes, nobody else owns it
    third = cms.apply(_cm(name, {}), field_manager="alice")
    assert not third.get("data")
    _check_owned_fields_are_stored(third)


def test_empty_labels_do_not_take_labels_from_another_manager(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    cms.apply(_cm(name, labels={"team": "a"}), field_manager="alice")
    after = cms.apply(_cm(name, {"k": "v"}, labels={}), field_manager="bob")
    assert after["metadata"]["labels"] == {"team": "a"}
    assert _owners(after)[("bob", "Apply", "")] == {"f:data": {"f:k": {}}}
    _check_owned_fields_are_stored(after)


# --- ownership, removal, conflicts, force ----------------------------------------------------------


def test_removal_only_of_fields_nobody_else_owns(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    cms.apply(_cm(name, {"a": "1", "b": "2"}, labels={"x": "1"}), field_manager="alice")
    shared = cms.apply(_cm(name, {"a": "1"}), field_manager="bob")
    assert _owners(shared)[("bob", "Apply", "")] == {"f:data": {"f:a": {}}}
    dropped = cms.apply(_cm(name), field_manager="alice")
    assert dropped["data"] == {"a": "1"}  # b went, a stays: bob owns it too
    assert "labels" not in dropped["metadata"]
    assert set(_owners(dropped)) == {("bob", "Apply", "")}  # alice owns nothing: no entry
    _check_owned_fields_are_stored(dropped)


def test_conflicts_name_every_manager_and_field(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    cms.apply(_cm(name, {"a": "1", "b": "1"}), field_manager="alice")
    cms.apply(_cm(name, {"c": "1"}), field_manager="bob")
    one = _conflict(lambda: cms.apply(_cm(name, {"a": "2"}), field_manager="carol"))
    assert one.status.message == 'Apply failed with 1 conflict: conflict with "alice": .data.a'
    many = _conflict(
        lambda: cms.apply(_cm(name, {"a": "2", "b": "2", "c": "2"}), field_manager="carol")
    )
    assert many.status.message == (
        'Apply failed with 3 conflicts: conflicts with "alice":\n- .data.a\n- .data.b\n'
        'conflicts with "bob":\n- .data.c'
    )
    causes = many.status.details.causes  # type: ignore[union-attr]
    assert [(c.reason, c.message, c.field) for c in causes] == [  # type: ignore[union-attr]
        ("FieldManagerConflict", 'conflict with "alice"', ".data.a"),
        ("FieldManagerConflict", 'conflict with "alice"', ".data.b"),
        ("FieldManagerConflict", 'conflict with "bob"', ".data.c"),
    ]
    assert cms.get(name)["data"] == {"a": "1", "b": "1", "c": "1"}  # nothing was written
    # the same value is no conflict: the field becomes shared
    same = cms.apply(_cm(name, {"a": "1"}), field_manager="carol")
    assert _owners(same)[("carol", "Apply", "")] == {"f:data": {"f:a": {}}}
    assert _owners(same)[("alice", "Apply", "")] == {"f:data": {"f:a": {}, "f:b": {}}}


def test_force_takes_ownership_from_the_others(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    cms.apply(_cm(name, {"a": "1", "b": "1"}), field_manager="alice")
    forced = cms.apply(_cm(name, {"a": "2"}), field_manager="bob", force=True)
    assert forced["data"] == {"a": "2", "b": "1"}
    owners = _owners(forced)
    assert owners[("alice", "Apply", "")] == {"f:data": {"f:b": {}}}
    assert owners[("bob", "Apply", "")] == {"f:data": {"f:a": {}}}
    # alice no longer owns a: dropping it from her configuration leaves bob's value alone
    assert cms.apply(_cm(name), field_manager="alice")["data"] == {"a": "2"}


def test_repeated_apply_keeps_time_and_resource_version(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    first = cms.apply(_cm(name, {"a": "1"}), field_manager="alice")
    again = cms.apply(_cm(name, {"a": "1"}), field_manager="alice")
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert again["metadata"]["managedFields"] == first["metadata"]["managedFields"]


# --- atomic and granular shapes ---------------------------------------------------------------------


def test_atomic_map_is_owned_and_replaced_whole(dynamic: DynamicClient) -> None:
    deployments = _client(dynamic, DEPLOYMENTS)
    name = next(_names)
    applied = deployments.apply(
        _deployment(name, [{"name": "web", "image": "nginx"}]), field_manager="alice"
    )
    fields = _owners(applied)[("alice", "Apply", "")]["f:spec"]
    assert fields["f:selector"] == {}  # LabelSelector is x-kubernetes-map-type: atomic
    assert fields["f:template"]["f:metadata"] == {"f:labels": {"f:app": {}}}  # labels: granular
    other = _deployment(name, [{"name": "web", "image": "nginx"}])
    other["spec"]["selector"] = {"matchLabels": {"app": name, "tier": "x"}}
    clash = _conflict(lambda: deployments.apply(other, field_manager="bob"))
    assert (
        clash.status.message
        == 'Apply failed with 1 conflict: conflict with "alice": .spec.selector'
    )


def test_atomic_spec_of_a_custom_resource(dynamic: DynamicClient) -> None:
    workflows = _client(dynamic, WORKFLOWS)
    name = next(_names)

    def workflow(**spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": name},
            "spec": spec,
        }

    applied = workflows.apply(workflow(entrypoint="main", templates=[]), field_manager="alice")
    assert _owners(applied)[("alice", "Apply", "")] == {"f:spec": {}}
    clash = _conflict(lambda: workflows.apply(workflow(parallelism=2), field_manager="bob"))
    assert clash.status.message == 'Apply failed with 1 conflict: conflict with "alice": .spec'
    forced = workflows.apply(workflow(parallelism=2), field_manager="bob", force=True)
    assert forced["spec"] == {"parallelism": 2}  # replaced whole, not merged
    assert ("alice", "Apply", "") not in _owners(forced)


def test_atomic_list_is_replaced_whole(dynamic: DynamicClient) -> None:
    deployments = _client(dynamic, DEPLOYMENTS)
    name = next(_names)
    deployments.apply(
        _deployment(name, [{"name": "web", "image": "nginx", "args": ["a", "b"]}]),
        field_manager="alice",
    )
    mine = _deployment(name, [{"name": "web", "image": "nginx", "args": ["c"]}])
    clash = _conflict(lambda: deployments.apply(mine, field_manager="bob"))
    assert clash.status.message.endswith(  # type: ignore[union-attr]
        '.spec.template.spec.containers[name="web"].args'
    )
    forced = deployments.apply(mine, field_manager="bob", force=True)
    assert forced["spec"]["template"]["spec"]["containers"][0]["args"] == ["c"]
    container = _owners(forced)[("bob", "Apply", "")]["f:spec"]["f:template"]["f:spec"]
    assert container["f:containers"]['k:{"name":"web"}']["f:args"] == {}
    _check_owned_fields_are_stored(forced)


def test_keyed_lists_merge_by_their_keys(dynamic: DynamicClient) -> None:
    deployments = _client(dynamic, DEPLOYMENTS)
    name = next(_names)
    deployments.apply(
        _deployment(
            name,
            [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}],
        ),
        field_manager="alice",
    )
    both = deployments.apply(
        _deployment(name, [{"name": "sidecar", "image": "envoy"}]), field_manager="bob"
    )
    containers = both["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web", "sidecar"]
    alice = _owners(both)[("alice", "Apply", "")]["f:spec"]["f:template"]["f:spec"]
    item = alice["f:containers"]['k:{"name":"web"}']
    assert item["."] == {} and item["f:image"] == {} and item["f:name"] == {}
    # ports are keyed by containerPort and protocol, the latter's default filling the key
    assert item["f:ports"] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
    }
    _check_owned_fields_are_stored(both)
    # alice drops her container: it goes, bob's stays
    gone = deployments.apply(
        _deployment(name, [{"name": "web2", "image": "nginx"}]), field_manager="alice"
    )
    assert [c["name"] for c in gone["spec"]["template"]["spec"]["containers"]] == [
        "sidecar",
        "web2",
    ]
    _check_owned_fields_are_stored(gone)


def test_merged_order_follows_the_applied_order(dynamic: DynamicClient) -> None:
    deployments = _client(dynamic, DEPLOYMENTS)
    name = next(_names)

    def containers(*names: str) -> list[dict[str, Any]]:
        return [{"name": n, "image": "nginx"} for n in names]

    deployments.apply(_deployment(name, containers("a", "b", "c")), field_manager="alice")
    deployments.apply(_deployment(name, containers("b")), field_manager="bob")
    reordered = deployments.apply(_deployment(name, containers("c", "a")), field_manager="alice")
    pod = reordered["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["b", "c", "a"]


def test_custom_resource_keyed_list(dynamic: DynamicClient) -> None:
    gateways = _client(dynamic, GATEWAYS)
    name = next(_names)
    http = {"name": "http", "port": 80, "protocol": "HTTP"}
    https = {"name": "https", "port": 443, "protocol": "HTTPS", "hostname": "a.example.com"}
    gateways.apply(_gateway(name, [http]), field_manager="alice")
    both = gateways.apply(_gateway(name, [https]), field_manager="bob")
    assert [item["name"] for item in both["spec"]["listeners"]] == ["http", "https"]
    bob = _owners(both)[("bob", "Apply", "")]["f:spec"]["f:listeners"]
    assert set(bob) == {'k:{"name":"https"}'}
    changed = dict(http, port=8080)
    clash = _conflict(lambda: gateways.apply(_gateway(name, [https, changed]), field_manager="bob"))
    assert clash.status.message == (
        'Apply failed with 1 conflict: conflict with "alice": .spec.listeners[name="http"].port'
    )
    gone = gateways.apply(_gateway(name, [https]), field_manager="bob")
    assert [item["name"] for item in gone["spec"]["listeners"]] == ["http", "https"]
    alice_left = gateways.apply(_gateway(name, []), field_manager="alice")
    assert [item["name"] for item in alice_left["spec"]["listeners"]] == ["https"]
    _check_owned_fields_are_stored(alice_left)


def test_set_lists_merge_by_value(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    cms.apply(_cm(name, finalizers=["example.com/a"]), field_manager="alice")
    both = cms.apply(_cm(name, finalizers=["example.com/b"]), field_manager="bob")
    assert both["metadata"]["finalizers"] == ["example.com/a", "example.com/b"]
    assert _owners(both)[("bob", "Apply", "")] == {
        "f:metadata": {"f:finalizers": {'v:"example.com/b"': {}}}
    }
    released = cms.apply(_cm(name), field_manager="alice")
    assert released["metadata"]["finalizers"] == ["example.com/b"]
    cms.apply(_cm(name), field_manager="bob")


def test_patch_merge_key_of_a_v2_schema_keys_the_list(specs_dir: Path) -> None:
    server = APIServer(specs=[specs_dir / "kubernetes" / "v1.21" / "swagger.json"])
    with server, RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest:
        deployments = DynamicClient(rest).resource(DEPLOYMENTS).namespace(NS)
        deployments.apply(_deployment("web", [{"name": "a", "image": "x"}]), field_manager="m1")
        both = deployments.apply(
            _deployment("web", [{"name": "b", "image": "y", "args": ["1"]}]), field_manager="m2"
        )
        containers = both["spec"]["template"]["spec"]["containers"]
        assert [c["name"] for c in containers] == ["a", "b"]
        m2 = _owners(both)[("m2", "Apply", "")]["f:spec"]["f:template"]["f:spec"]
        assert m2["f:containers"]['k:{"name":"b"}']["f:args"] == {}  # no strategy: atomic


# --- Update managers and before-first-apply ---------------------------------------------------------


def test_apply_after_update_by_another_manager(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    created = cms.create(_cm(name, {"a": "1"}, labels={"app": "x"}), field_manager="editor")
    entry = created["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"]) == ("editor", "Update")
    assert entry["fieldsV1"] == {
        "f:data": {".": {}, "f:a": {}},
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
    }
    clash = _conflict(lambda: cms.apply(_cm(name, {"a": "2"}), field_manager="alice"))
    assert clash.status.message == (
        'Apply failed with 1 conflict: conflict with "editor" using v1 at '
        f'{entry["time"]}: .data.a'
    )
    shared = cms.apply(_cm(name, {"a": "1"}), field_manager="alice")
    assert _owners(shared)[("editor", "Update", "")]["f:data"]["f:a"] == {}
    # an update that changes the field takes it from the applier
    shared["data"]["a"] = "3"
    updated = cms.update(shared, field_manager="editor")
    assert ("alice", "Apply", "") not in _owners(updated)
    _check_owned_fields_are_stored(updated)
    # an update that removes a field takes it from everyone
    del updated["data"]["a"]
    removed = cms.update(updated, field_manager="other")
    assert ("other", "Update", "") not in _owners(removed)  # it only removed
    _check_owned_fields_are_stored(removed)


def test_before_first_apply_owns_what_was_there(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    cms.create(_cm(name, {"a": "1"}), field_manager="editor")
    cleared = cms.patch(name, {"metadata": {"managedFields": [{}]}}, PatchType.MERGE)
    assert "managedFields" not in cleared["metadata"]
    kept = cms.patch(name, {"data": {"b": "2"}}, PatchType.MERGE, field_manager="p")
    assert set(_owners(kept)) == {("p", "Update", "")}
    cms.patch(name, {"metadata": {"managedFields": [{}]}}, PatchType.MERGE)
    clash = _conflict(lambda: cms.apply(_cm(name, {"a": "2"}), field_manager="alice"))
    assert 'conflict with "before-first-apply" using v1 at ' in (clash.status.message or "")
    applied = cms.apply(_cm(name, {"a": "1"}), field_manager="alice")
    owners = _owners(applied)
    assert owners[("before-first-apply", "Update", "")] == {
        "f:data": {".": {}, "f:a": {}, "f:b": {}}
    }
    _check_owned_fields_are_stored(applied)


def test_update_may_reset_or_replace_managed_fields(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    cms.apply(_cm(name, {"a": "1"}), field_manager="alice")
    current = cms.get(name)
    without = {**current, "metadata": dict(current["metadata"])}
    del without["metadata"]["managedFields"]
    kept = cms.update(without, field_manager="editor")  # absent: the stored entries stay
    assert set(_owners(kept)) == {("alice", "Apply", "")}
    for reset in ([], [{}]):
        body = {**kept, "metadata": {**kept["metadata"], "managedFields": reset}}
        cleared = cms.update(body, field_manager="editor")
        assert "managedFields" not in cleared["metadata"]
        kept = cms.apply(_cm(name, {"a": "1"}), field_manager="alice")
    entries = kept["metadata"]["managedFields"]
    # the first apply after a reset finds the fields owned by before-first-apply
    assert [e["manager"] for e in entries] == ["alice", "before-first-apply"]
    handed = {**kept, "metadata": {**kept["metadata"]}}
    handed["metadata"]["managedFields"] = [dict(entries[0], manager="bob")]
    replaced = cms.update(handed, field_manager="editor")
    assert set(_owners(replaced)) == {("bob", "Apply", "")}
    _check_owned_fields_are_stored(replaced)


def test_more_than_ten_updaters_are_merged_into_ancient_changes(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    cms.apply(_cm(name, {"applied": "1"}), field_manager="alice")
    for n in range(12):
        last = cms.patch(
            name, {"data": {f"k{n:02}": "v"}}, PatchType.MERGE, field_manager=f"m{n:02}"
        )
    owners = _owners(last)
    assert sum(1 for _, operation, _ in owners if operation == "Update") == 10
    assert owners[("ancient-changes", "Update", "")] == {
        "f:data": {"f:k00": {}, "f:k01": {}, "f:k02": {}}
    }
    assert ("alice", "Apply", "") in owners  # appliers are never merged
    _check_owned_fields_are_stored(last)


def test_defaults_belong_to_updaters_not_appliers(dynamic: DynamicClient) -> None:
    deployments = _client(dynamic, DEPLOYMENTS)
    created = deployments.create(
        _deployment(next(_names), [{"name": "web", "image": "nginx"}]),
        field_manager="kubectl-create",
    )
    spec = _owners(created)[("kubectl-create", "Update", "")]["f:spec"]
    assert "f:progressDeadlineSeconds" in spec and "f:revisionHistoryLimit" in spec
    container = spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert "f:imagePullPolicy" in container and "f:terminationMessagePath" in container
    applied = deployments.apply(
        _deployment(next(_names), [{"name": "web", "image": "nginx"}]), field_manager="alice"
    )
    assert applied["spec"]["progressDeadlineSeconds"] == 600  # defaulted, owned by nobody
    spec = _owners(applied)[("alice", "Apply", "")]["f:spec"]
    assert "f:progressDeadlineSeconds" not in spec
    container = spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert set(container) == {".", "f:image", "f:name"}


def test_resource_version_in_an_apply_is_a_precondition(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    first = cms.apply(_cm(name, {"a": "1"}), field_manager="alice")
    cms.apply(_cm(name, {"b": "1"}), field_manager="bob")
    stale = _cm(name, {"a": "2"}, resourceVersion=first["metadata"]["resourceVersion"])
    err = _conflict(lambda: cms.apply(stale, field_manager="alice"))
    assert "the object has been modified" in (err.status.message or "")
    current = cms.get(name)["metadata"]["resourceVersion"]
    fresh = _cm(name, {"a": "2"}, resourceVersion=current)
    assert cms.apply(fresh, field_manager="alice")["data"] == {"a": "2", "b": "1"}


def test_managed_fields_in_an_apply_are_rejected(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    body = _cm(next(_names), {"a": "1"})
    body["metadata"]["managedFields"] = [{"manager": "x"}]
    with pytest.raises(StatusError) as caught:
        cms.patch(body["metadata"]["name"], json.dumps(body), PatchType.APPLY, field_manager="m")
    assert caught.value.code == 400
    assert caught.value.status.message == "metadata.managedFields must be nil"


def test_write_options_are_validated_as_kube_apiserver_does(dynamic: DynamicClient) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    name = next(_names)
    cms.create(_cm(name, {"a": "1"}))
    cases = [
        (
            lambda: cms.patch(name, {"data": {"b": "2"}}, PatchType.MERGE, force=True),
            'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified '
            "for non-apply patch",
        ),
        (
            lambda: cms.apply(_cm(name, {"a": "1"}), field_manager="m" * 129),
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more '
            "than 128 bytes",
        ),
        (
            lambda: cms.create(_cm(next(_names)), field_manager="bell\a"),
            'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "bell\\a": '
            "invalid character U+0007 (at position 4)",
        ),
    ]
    for call, message in cases:
        with pytest.raises(StatusError) as caught:
            call()
        assert caught.value.code == 422 and caught.value.reason == "Invalid"
        assert caught.value.status.message == message


def test_scale_writes_are_owned_through_the_scale_subresource(dynamic: DynamicClient) -> None:
    deployments = _client(dynamic, DEPLOYMENTS)
    name = next(_names)
    deployments.apply(
        _deployment(name, [{"name": "web", "image": "nginx"}], replicas=2), field_manager="alice"
    )
    deployments.patch(
        name,
        {"spec": {"replicas": 5}},
        PatchType.MERGE,
        subresources=("scale",),
        field_manager="hpa",
    )
    scaled = deployments.get(name)
    owners = _owners(scaled)
    assert owners[("hpa", "Update", "scale")] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners[("alice", "Apply", "")]["f:spec"]
    entry = next(e for e in scaled["metadata"]["managedFields"] if e["manager"] == "hpa")
    again = _deployment(name, [{"name": "web", "image": "nginx"}], replicas=2)
    clash = _conflict(lambda: deployments.apply(again, field_manager="alice"))
    assert clash.status.message == (
        'Apply failed with 1 conflict: conflict with "hpa" with subresource "scale" using '
        f'apps/v1 at {entry["time"]}: .spec.replicas'
    )


# --- the status subresource --------------------------------------------------------------------------


def test_status_apply_is_owned_separately(dynamic: DynamicClient) -> None:
    deployments = _client(dynamic, DEPLOYMENTS)
    name = next(_names)
    spec = _deployment(name, [{"name": "web", "image": "nginx"}], replicas=2)
    spec["status"] = {"replicas": 7}  # not the main resource's to set
    applied = deployments.apply(spec, field_manager="alice")
    assert applied.get("status", {}).get("replicas") != 7
    assert "f:status" not in _owners(applied)[("alice", "Apply", "")]
    status = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": 9},  # not the status subresource's to set
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    reported = deployments.apply_status(status, field_manager="alice")
    assert reported["status"]["replicas"] == 2 and reported["spec"]["replicas"] == 2
    owners = _owners(reported)
    assert owners[("alice", "Apply", "status")] == {
        "f:status": {"f:readyReplicas": {}, "f:replicas": {}}
    }
    assert "f:status" not in owners[("alice", "Apply", "")]
    _check_owned_fields_are_stored(reported)
    other = dict(status, status={"replicas": 3})
    clash = _conflict(lambda: deployments.apply_status(other, field_manager="ctrl"))
    assert clash.status.message == (
        'Apply failed with 1 conflict: conflict with "alice" with subresource "status": '
        ".status.replicas"
    )
    # an update of status is an Update entry of its own; it ignores managedFields sent to it
    current = deployments.get(name)
    current["status"]["replicas"] = 3
    current["metadata"]["managedFields"] = [{}]
    updated = deployments.update_status(current, field_manager="ctrl")
    owners = _owners(updated)
    assert owners[("ctrl", "Update", "status")] == {"f:status": {"f:replicas": {}}}
    assert owners[("alice", "Apply", "status")] == {"f:status": {"f:readyReplicas": {}}}
    assert ("alice", "Apply", "") in owners
    _check_owned_fields_are_stored(updated)


def test_status_conditions_of_a_custom_resource(dynamic: DynamicClient) -> None:
    gateways = _client(dynamic, GATEWAYS)
    name = next(_names)
    gateways.apply(
        _gateway(name, [{"name": "http", "port": 80, "protocol": "HTTP"}]), field_manager="a"
    )
    condition = {
        "type": "Accepted",
        "status": "True",
        "reason": "Accepted",
        "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    status = {**_gateway(name, []), "status": {"conditions": [condition]}}
    del status["spec"]
    reported = gateways.apply_status(status, field_manager="ctrl")
    owners = _owners(reported)
    assert set(owners[("ctrl", "Apply", "status")]["f:status"]["f:conditions"]) == {
        'k:{"type":"Accepted"}'
    }
    assert reported["spec"]["listeners"][0]["name"] == "http"
    _check_owned_fields_are_stored(reported)


# --- property: random applies by three managers ------------------------------------------------------

_KEYS = st.sampled_from(["a", "b", "c", "d"])
_VALUES = st.sampled_from(["1", "2"])
_STEP = st.tuples(
    st.sampled_from(["m1", "m2", "m3"]),
    st.dictionaries(_KEYS, _VALUES, max_size=3),
    st.booleans(),
)


class _Model:
    """What server-side apply must do to a map of scalars, written from the rules alone."""

    def __init__(self) -> None:
        self.live: dict[str, str] = {}
        self.owned: dict[str, dict[str, str]] = {}

    def apply(self, manager: str, config: dict[str, str], force: bool) -> bool:
        others = {m: keys for m, keys in self.owned.items() if m != manager}
        contested = {k for k, v in config.items() if k in self.live and self.live[k] != v} & {
            k for keys in others.values() for k in keys
        }
        if contested and not force:
            return False
        for key, value in config.items():
            if self.live.get(key) != value:
                for keys in others.values():
                    keys.pop(key, None)
            self.live[key] = value
        still = {k for keys in others.values() for k in keys} | set(config)
        for key in set(self.owned.get(manager, {})) - still:
            self.live.pop(key, None)
        self.owned[manager] = dict(config)
        self.owned = {m: keys for m, keys in self.owned.items() if keys}
        return True


def _owned_keys(obj: dict[str, Any], path: tuple[str, ...]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for entry in obj["metadata"].get("managedFields", []):
        node: Any = entry["fieldsV1"]
        for token in path:
            node = node.get(token, {})
        keys = {token[2:] for token in node if token.startswith(("f:", "k:"))}
        if keys:
            out[entry["manager"]] = keys
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(_STEP, min_size=1, max_size=7))
def test_random_applies_keep_what_each_manager_applied(
    dynamic: DynamicClient, steps: list[tuple[str, dict[str, str], bool]]
) -> None:
    cms = _client(dynamic, CONFIGMAPS)
    deployments = _client(dynamic, DEPLOYMENTS)
    name = next(_names)
    data_model = _Model()
    last: dict[str, dict[str, str]] = {}
    for manager, config, force in steps:
        accepted = data_model.apply(manager, config, force)
        try:
            stored = cms.apply(_cm(name, config), field_manager=manager, force=force)
        except StatusError as err:
            assert err.code == 409 and not accepted, (steps, err)
        else:
            assert accepted, steps
            assert stored.get("data", {}) == data_model.live, steps
            owned = _owned_keys(stored, ("f:data",))
            assert owned == {m: set(keys) for m, keys in data_model.owned.items()}, steps
            assert set(stored.get("data", {})) == set().union(*owned.values()), steps
            _check_owned_fields_are_stored(stored)
        containers = [{"name": key, "image": value} for key, value in sorted(config.items())]
        try:
            stored = deployments.apply(
                _deployment(name, containers), field_manager=manager, force=force
            )
        except StatusError as err:
            assert err.code == 409, (steps, err)
            continue
        last[manager] = config
        pod = stored["spec"]["template"].get("spec", {})
        live = {c["name"]: c.get("image") for c in pod.get("containers", [])}
        for owner, keys in _owned_images(stored).items():
            for key in keys:  # nothing a manager applied and still owns goes missing
                assert live.get(key) == last[owner][key], (steps, owner, key)
        items = set().union(*_owned_items(stored).values())
        assert set(live) == items, steps  # every stored container is owned by someone
        _check_owned_fields_are_stored(stored)


_CONTAINERS = ("f:spec", "f:template", "f:spec", "f:containers")


def _owned_containers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in obj["metadata"].get("managedFields", []):
        node: Any = entry["fieldsV1"]
        for token in _CONTAINERS:
            node = node.get(token, {})
        out[entry["manager"]] = {
            json.loads(token[2:])["name"]: item for token, item in node.items()
        }
    return out


def _owned_images(obj: dict[str, Any]) -> dict[str, set[str]]:
    return {
        manager: {name for name, item in items.items() if "f:image" in item}
        for manager, items in _owned_containers(obj).items()
    }


def _owned_items(obj: dict[str, Any]) -> dict[str, set[str]]:
    return {
        manager: {name for name, item in items.items() if "." in item}
        for manager, items in _owned_containers(obj).items()
    }
