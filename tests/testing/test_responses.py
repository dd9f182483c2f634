"""kube-apiserver's exact responses (issue 12): uids, DELETE bodies, CRD create, error bytes."""

from __future__ import annotations

import datetime
import importlib.util
import json
from pathlib import Path
from typing import Any

import requests
import yaml

from kgen.testing import APIServer
from tests.testing.conftest import Client, small_model


def _first_uids(seed: int | None) -> list[str]:
    """The uids of the ``default`` namespace and of the first ConfigMap of a fresh server."""
    server = APIServer(small_model()) if seed is None else APIServer(small_model(), seed=seed)
    with server:
        client = Client(server)
        try:
            namespace = client.request("GET", "/api/v1/namespaces/default").json()
            created: Any = client.request(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                json={"metadata": {"generateName": "cm-"}},
            ).json()
        finally:
            client.close()
    return [namespace["metadata"]["uid"], created["metadata"]["uid"], created["metadata"]["name"]]


def test_uids_differ_between_servers_by_default() -> None:
    first, second = _first_uids(None), _first_uids(None)
    assert first[0] != second[0] and first[1] != second[1]


def test_an_explicit_seed_makes_uids_and_generated_names_reproducible() -> None:
    assert _first_uids(7) == _first_uids(7)
    assert _first_uids(7)[:2] != _first_uids(8)[:2]


def _status(name: str, kind: str, uid: str, group: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details.update(kind=kind, uid=uid)
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def test_delete_answers_a_status_for_kinds_that_do_not_return_the_object(
    client: Client, ns: str
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    uid = client.request("POST", path, json={"metadata": {"name": "c"}}).json()["metadata"]["uid"]
    deleted = client.request("DELETE", f"{path}/c")
    assert deleted.status_code == 200
    assert deleted.json() == _status("c", "configmaps", uid)
    assert list(deleted.json()["details"]) == ["name", "kind", "uid"]
    widget = client.request(
        "POST", "/apis/example.com/v1/widgets", json={"metadata": {"name": "w"}}
    )
    gone = client.request("DELETE", "/apis/example.com/v1/widgets/w").json()
    assert gone == _status("w", "widgets", widget.json()["metadata"]["uid"], "example.com")
    assert list(gone["details"]) == ["name", "group", "kind", "uid"]


def test_deleting_a_pod_answers_the_pod_marked_for_deletion(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/pods"
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    created = client.request("POST", path, json=pod).json()
    deleted = client.request("DELETE", f"{path}/p")
    assert deleted.status_code == 200
    body = deleted.json()
    assert body["kind"] == "Pod" and body["apiVersion"] == "v1"
    assert body["metadata"]["uid"] == created["metadata"]["uid"]
    assert body["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    # not bound to a node: deleted at once, grace period 0
    assert body["metadata"]["deletionGracePeriodSeconds"] == 0
    assert body["metadata"]["deletionTimestamp"]
    assert client.request("GET", f"{path}/p").status_code == 404


def test_a_bound_pod_is_answered_with_its_grace_period(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/pods"
    for name, options, grace in (("a", {}, 30), ("b", {"gracePeriodSeconds": 5}, 5)):
        spec = {"nodeName": "n1", "terminationGracePeriodSeconds": 30, "containers": []}
        client.request("POST", path, json={"metadata": {"name": name}, "spec": spec})
        before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        meta = client.request("DELETE", f"{path}/{name}", json=options).json()["metadata"]
        assert meta["deletionGracePeriodSeconds"] == grace
        stamp = datetime.datetime.strptime(meta["deletionTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
        due = stamp.replace(tzinfo=datetime.UTC) - before
        assert grace <= due.total_seconds() <= grace + 2
    queried = client.request("POST", path, json={"metadata": {"name": "q"}, "spec": spec})
    assert queried.status_code == 201
    meta = client.request("DELETE", f"{path}/q", params={"gracePeriodSeconds": "7"}).json()
    assert meta["metadata"]["deletionGracePeriodSeconds"] == 7
    client.request("POST", path, json={"metadata": {"name": "r"}, "spec": spec})
    bad = client.request("DELETE", f"{path}/r", params={"gracePeriodSeconds": "soon"})
    assert bad.status_code == 400 and "gracePeriodSeconds" in bad.json()["message"]
    assert client.request("GET", f"{path}/r").status_code == 200


def test_deleting_a_namespace_answers_it_terminating(client: Client) -> None:
    client.request("POST", "/api/v1/namespaces", json={"metadata": {"name": "going"}})
    body = client.request("DELETE", "/api/v1/namespaces/going").json()
    assert body["kind"] == "Namespace" and body["status"]["phase"] == "Terminating"
    assert body["metadata"]["deletionTimestamp"]
    assert client.request("GET", "/api/v1/namespaces/going").status_code == 404


def test_finalizers_answer_the_object_and_202_only_when_not_orphaning(
    client: Client, ns: str
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("held", "cascading"):
        body = {"metadata": {"name": name, "finalizers": ["example.com/hold"]}}
        client.request("POST", path, json=body)
    held = client.request("DELETE", f"{path}/held")
    assert held.status_code == 200 and held.json()["metadata"]["deletionGracePeriodSeconds"] == 0
    cascading = client.request("DELETE", f"{path}/cascading", json={"orphanDependents": False})
    assert cascading.status_code == 202 and cascading.json()["kind"] == "ConfigMap"


def test_a_created_crd_is_answered_established_and_deleted_terminating(specs_dir: Path) -> None:
    extensions = specs_dir / "kubernetes" / "v1.35" / "openapi-v3"
    manifest = specs_dir / "crds" / "gateway-api" / "gateway.networking.k8s.io_gatewayclasses.yaml"
    crd = yaml.safe_load(manifest.read_text())
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    with APIServer(specs=[extensions / "apis__apiextensions.k8s.io__v1_openapi.json"]) as server:
        client = Client(server)
        try:
            created = client.request("POST", path, json=crd)
            assert created.status_code == 201
            status = created.json()["status"]
            assert status["acceptedNames"]["kind"] == "GatewayClass"
            assert status["acceptedNames"]["shortNames"] == ["gc"]
            assert status["storedVersions"] == ["v1"]
            conditions = {c["type"]: c for c in status["conditions"]}
            assert {t: c["status"] for t, c in conditions.items()} == {
                "NamesAccepted": "True",
                "Established": "True",
            }
            assert list(conditions["Established"])[:3] == ["type", "status", "lastTransitionTime"]
            deleted = client.request("DELETE", f"{path}/{crd['metadata']['name']}").json()
            assert deleted["kind"] == "CustomResourceDefinition"
            assert deleted["metadata"]["deletionTimestamp"]
            assert "customresourcecleanup.apiextensions.k8s.io" in deleted["metadata"]["finalizers"]
            terminating = [c for c in deleted["status"]["conditions"] if c["type"] == "Terminating"]
            assert terminating[0]["reason"] == "InstanceDeletionPending"
        finally:
            client.close()


def test_error_bodies_are_kube_apiservers_bytes(client: Client, ns: str) -> None:
    missing = client.request("GET", f"/api/v1/namespaces/{ns}/configmaps/a&b")
    assert missing.status_code == 404
    assert missing.content == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"configmaps \\"a\\u0026b\\" not found","reason":"NotFound",'
        b'"details":{"name":"a\\u0026b","kind":"configmaps"},"code":404}\n'
    )
    assert missing.headers["Content-Length"] == str(len(missing.content))
    nowhere = client.request("GET", "/api/v1/nowhere")
    assert nowhere.content == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"the server could not find the requested resource","reason":"NotFound",'
        b'"details":{},"code":404}\n'
    )
    path = "/apis/apps/v1/namespaces/" + ns + "/deployments"
    client.request("POST", path, json={"metadata": {"name": "d"}})
    taken = client.request("POST", path, json={"metadata": {"name": "d"}})
    assert taken.content == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"deployments.apps \\"d\\" already exists","reason":"AlreadyExists",'
        b'"details":{"name":"d","group":"apps","kind":"deployments"},"code":409}\n'
    )
    anonymous = requests.get(client.server.url + "/api/v1/namespaces", timeout=10)
    assert anonymous.content == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"Unauthorized","reason":"Unauthorized","code":401}\n'
    )
    invalid = client.request("POST", f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {}})
    body = invalid.json()
    assert invalid.status_code == 422 and invalid.content.endswith(b',"code":422}\n')
    assert list(body) == [
        "kind",
        "apiVersion",
        "metadata",
        "status",
        "message",
        "reason",
        "details",
        "code",
    ]
    cause = body["details"]["causes"][0]
    assert list(cause) == ["reason", "message", "field"]
    assert not cause["message"].startswith(cause["field"])


def test_builtin_short_names_and_categories_come_with_kgen(client: Client) -> None:
    """The small model declares no short names for deployments: they come from kgen's table."""
    apps = client.request("GET", "/apis/apps/v1").json()
    deployments = next(r for r in apps["resources"] if r["name"] == "deployments")
    assert deployments["shortNames"] == ["deploy"] and deployments["categories"] == ["all"]
    core = client.request("GET", "/api/v1").json()
    configmaps = next(r for r in core["resources"] if r["name"] == "configmaps")
    assert configmaps["shortNames"] == ["cm"] and "categories" not in configmaps
    widgets = client.request("GET", "/apis/example.com/v1").json()["resources"][0]
    assert "shortNames" not in widgets and widgets["categories"] == ["all"]


def test_the_shipped_name_table_is_what_the_generator_writes(specs_dir: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "tools" / "builtin_names.py"
    spec = importlib.util.spec_from_file_location("builtin_names", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = json.loads(module.OUTPUT.read_text())
    assert module.build(specs_dir) == shipped
    assert shipped["resources"]["apps/deployments"] == {
        "shortNames": ["deploy"],
        "categories": ["all"],
    }


def test_a_held_pod_keeps_its_grace_period_marks(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/pods"
    pod = {
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]},
        "spec": {"nodeName": "n1", "containers": []},
    }
    client.request("POST", path, json=pod)
    answered = client.request("DELETE", f"{path}/held", json={"gracePeriodSeconds": 9})
    assert answered.status_code == 200
    assert answered.json()["metadata"]["deletionGracePeriodSeconds"] == 9
    stored = client.request("GET", f"{path}/held").json()["metadata"]
    assert stored["deletionGracePeriodSeconds"] == 9 and stored["finalizers"]
