"""kubectl ``apply --server-side`` as the judge of kgen.testing's server-side apply: two field
managers on one object, over TLS, with the oldest and newest kubectl here (the fixtures of
test_kubectl: the server on the real 1.35 OpenAPI v3 documents)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.testing import test_kubectl as judge
from tests.testing.test_kubectl import Kubectl

pytestmark = pytest.mark.kubectl
cluster = judge.cluster
kubectl = judge.kubectl


def _cm(name: str, data: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata: {data}\n"


def _apply(tool: Kubectl, manifest: str, manager: str, *extra: str, check: bool = True) -> Any:
    return tool.run(
        "apply",
        "--server-side",
        f"--field-manager={manager}",
        *extra,
        "-f",
        "-",
        stdin=manifest,
        check=check,
    )


def _owners(tool: Kubectl, kind: str, name: str) -> dict[str, Any]:
    obj = tool.json("get", kind, name, "--show-managed-fields")
    return {e["manager"]: e["fieldsV1"] for e in obj["metadata"].get("managedFields", [])}


def test_conflict_is_printed_and_force_takes_the_field(kubectl: Kubectl) -> None:
    _apply(kubectl, _cm("owned", "{a: '1', b: '1'}"), "alice")
    clash = _apply(kubectl, _cm("owned", "{a: '2'}"), "bob", check=False)
    assert clash.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "alice": .data.a' in clash.stderr
    assert "Please review the fields above--they currently have other managers" in clash.stderr
    assert kubectl.json("get", "cm", "owned")["data"] == {"a": "1", "b": "1"}
    forced = _apply(kubectl, _cm("owned", "{a: '2'}"), "bob", "--force-conflicts")
    assert forced.stdout.strip() == "configmap/owned serverside-applied"
    assert kubectl.json("get", "cm", "owned")["data"] == {"a": "2", "b": "1"}
    assert _owners(kubectl, "cm", "owned") == {
        "alice": {"f:data": {"f:b": {}}},
        "bob": {"f:data": {"f:a": {}}},
    }


def test_dropped_field_goes_unless_another_manager_owns_it(kubectl: Kubectl) -> None:
    _apply(kubectl, _cm("dropping", "{a: '1', b: '1', c: '1'}"), "alice")
    _apply(kubectl, _cm("dropping", "{c: '1'}"), "bob")
    _apply(kubectl, _cm("dropping", "{a: '1'}"), "alice")
    assert kubectl.json("get", "cm", "dropping")["data"] == {"a": "1", "c": "1"}


def test_empty_map_then_keys(kubectl: Kubectl) -> None:
    _apply(kubectl, _cm("empty", "{}"), "alice")
    _apply(kubectl, _cm("empty", "{a: '1'}"), "alice")
    assert kubectl.json("get", "cm", "empty")["data"] == {"a": "1"}
    assert _owners(kubectl, "cm", "empty")["alice"] == {"f:data": {"f:a": {}}}


def test_containers_merge_by_name(kubectl: Kubectl) -> None:
    def deployment(container: str, image: str) -> str:
        return (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: keyed\nspec:\n"
            "  selector:\n    matchLabels: {app: keyed}\n  template:\n    metadata:\n"
            "      labels: {app: keyed}\n    spec:\n      containers:\n"
            f"      - name: {container}\n        image: {image}\n"
        )

    _apply(kubectl, deployment("web", "nginx"), "alice")
    _apply(kubectl, deployment("sidecar", "envoy"), "bob")
    pod = kubectl.json("get", "deploy", "keyed")["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["web", "sidecar"]
    clash = _apply(kubectl, deployment("web", "httpd"), "bob", check=False)
    assert 'conflict with "alice": .spec.template.spec.containers[name="web"].image' in clash.stderr
    _apply(kubectl, deployment("web2", "nginx"), "alice")
    pod = kubectl.json("get", "deploy", "keyed")["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["sidecar", "web2"]
