"""Verbs and object semantics over real HTTP: create, get, update, delete, conflicts, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kgen.testing import APIServer
from tests.testing.conftest import Client


def _cm(name: str, **data: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_create_get_sets_metadata(client: Client, ns: str) -> None:
    created = client.request("POST", f"/api/v1/namespaces/{ns}/configmaps", json=_cm("a", k="v"))
    assert created.status_code == 201
    body = created.json()
    meta = body["metadata"]
    assert meta["namespace"] == ns and meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) > 0
    got = client.request("GET", f"/api/v1/namespaces/{ns}/configmaps/a").json()
    assert got == body


def test_resource_version_is_global_and_increasing(client: Client, ns: str) -> None:
    a = client.request("POST", f"/api/v1/namespaces/{ns}/configmaps", json=_cm("a")).json()
    p = client.request(
        "POST",
        f"/api/v1/namespaces/{ns}/pods",
        json={"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
    ).json()
    b = client.request("POST", f"/api/v1/namespaces/{ns}/configmaps", json=_cm("b")).json()
    rvs = [int(o["metadata"]["resourceVersion"]) for o in (a, p, b)]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3


def test_already_exists_not_found_and_status_bodies(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    assert client.request("POST", path, json=_cm("dup")).status_code == 201
    again = client.request("POST", path, json=_cm("dup"))
    assert again.status_code == 409
    status = again.json()
    assert status["kind"] == "Status" and status["reason"] == "AlreadyExists"
    assert status["message"] == 'configmaps "dup" already exists'
    assert status["details"] == {"name": "dup", "kind": "configmaps"}
    missing = client.request("GET", f"{path}/nope")
    assert missing.status_code == 404
    assert missing.json()["reason"] == "NotFound"
    assert missing.json()["message"] == 'configmaps "nope" not found'
    deployment = client.request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/nope")
    assert deployment.json()["message"] == 'deployments.apps "nope" not found'
    assert deployment.json()["details"]["group"] == "apps"


def test_update_conflict_on_stale_resource_version(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    first = client.request("POST", path, json=_cm("c", v="1")).json()
    first["data"] = {"v": "2"}
    second = client.request("PUT", f"{path}/c", json=first)
    assert second.status_code == 200
    assert second.json()["data"] == {"v": "2"}
    assert int(second.json()["metadata"]["resourceVersion"]) > int(
        first["metadata"]["resourceVersion"]
    )
    first["data"] = {"v": "3"}
    stale = client.request("PUT", f"{path}/c", json=first)
    assert stale.status_code == 409
    assert stale.json()["reason"] == "Conflict"
    assert "the object has been modified" in stale.json()["message"]


def test_noop_update_keeps_resource_version(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    obj = client.request("POST", path, json=_cm("same", v="1")).json()
    again = client.request("PUT", f"{path}/same", json=obj).json()
    assert again["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


def test_generate_name_and_uid_unique(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    body = {"metadata": {"generateName": "gen-"}}
    a = client.request("POST", path, json=body).json()
    b = client.request("POST", path, json=body).json()
    assert a["metadata"]["name"].startswith("gen-") and len(a["metadata"]["name"]) == 9
    assert a["metadata"]["name"] != b["metadata"]["name"]
    assert a["metadata"]["uid"] != b["metadata"]["uid"]


def test_generation_bumps_on_spec_change_only(client: Client, ns: str) -> None:
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    body = {
        "metadata": {"name": "d"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}},
    }
    d = client.request("POST", path, json=body).json()
    assert d["metadata"]["generation"] == 1
    d["metadata"]["labels"] = {"x": "y"}
    d = client.request("PUT", f"{path}/d", json=d).json()
    assert d["metadata"]["generation"] == 1
    d["spec"]["replicas"] = 3
    d = client.request("PUT", f"{path}/d", json=d).json()
    assert d["metadata"]["generation"] == 2


def test_status_subresource_is_separate(client: Client, ns: str) -> None:
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    body = {"metadata": {"name": "s"}, "spec": {"replicas": 1}, "status": {"replicas": 9}}
    d = client.request("POST", path, json=body).json()
    assert "status" not in d
    d["status"] = {"replicas": 5}
    d["spec"]["replicas"] = 2
    updated = client.request("PUT", f"{path}/s/status", json=d).json()
    assert updated["status"] == {"replicas": 5}
    assert updated["spec"]["replicas"] == 1
    assert updated["metadata"]["generation"] == 1
    updated["status"] = {"replicas": 0}
    main = client.request("PUT", f"{path}/s", json=updated).json()
    assert main["status"] == {"replicas": 5}
    assert client.request("GET", f"{path}/s/status").json()["status"] == {"replicas": 5}


def test_scale_subresource(client: Client, ns: str) -> None:
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    body = {
        "metadata": {"name": "sc"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "w"}}},
    }
    client.request("POST", path, json=body)
    scale = client.request("GET", f"{path}/sc/scale").json()
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"]["selector"] == "app=w"
    scale["spec"]["replicas"] = 4
    assert client.request("PUT", f"{path}/sc/scale", json=scale).json()["spec"]["replicas"] == 4
    patched = client.request(
        "PATCH",
        f"{path}/sc/scale",
        data='{"spec":{"replicas":7}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.json()["spec"]["replicas"] == 7
    assert client.request("GET", f"{path}/sc").json()["spec"]["replicas"] == 7


def test_finalizers_hold_deletion(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    body = _cm("fin")
    body["metadata"]["finalizers"] = ["example.com/hold"]  # type: ignore[index]
    client.request("POST", path, json=body)
    deleting = client.request("DELETE", f"{path}/fin")
    assert deleting.status_code == 200  # kube-apiserver: 202 only with orphanDependents=false
    assert deleting.json()["metadata"]["deletionTimestamp"]
    obj = client.request("GET", f"{path}/fin").json()
    assert obj["metadata"]["deletionTimestamp"]
    obj["metadata"]["finalizers"] = []
    assert client.request("PUT", f"{path}/fin", json=obj).status_code == 200
    assert client.request("GET", f"{path}/fin").status_code == 404


def test_delete_returns_status_and_preconditions(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    obj = client.request("POST", path, json=_cm("gone")).json()
    wrong = client.request("DELETE", f"{path}/gone", json={"preconditions": {"uid": "nope"}})
    assert wrong.status_code == 409 and "Precondition failed" in wrong.json()["message"]
    done = client.request(
        "DELETE",
        f"{path}/gone",
        json={"propagationPolicy": "Background", "preconditions": {"uid": obj["metadata"]["uid"]}},
    )
    assert done.status_code == 200
    assert done.json()["status"] == "Success"
    assert done.json()["details"]["uid"] == obj["metadata"]["uid"]
    assert client.request("DELETE", f"{path}/gone").status_code == 404


def test_delete_collection_by_label(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        client.request("POST", path, json={"metadata": {"name": name, "labels": {"tier": tier}}})
    deleted = client.request("DELETE", path, params={"labelSelector": "tier=x"}).json()
    assert sorted(i["metadata"]["name"] for i in deleted["items"]) == ["a", "b"]
    left = client.request("GET", path).json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["c"]


def test_dry_run_changes_nothing(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    dry = client.request("POST", path, params={"dryRun": "All"}, json=_cm("dry"))
    assert dry.status_code == 201 and dry.json()["metadata"]["uid"]
    assert client.request("GET", f"{path}/dry").status_code == 404
    obj = client.request("POST", path, json=_cm("dry", v="1")).json()
    obj["data"] = {"v": "2"}
    assert client.request("PUT", f"{path}/dry", params={"dryRun": "All"}, json=obj).json()[
        "data"
    ] == {"v": "2"}
    assert client.request("GET", f"{path}/dry").json()["data"] == {"v": "1"}
    assert client.request("DELETE", f"{path}/dry", params={"dryRun": "All"}).status_code == 200
    assert client.request("GET", f"{path}/dry").status_code == 200


def test_cluster_scoped_custom_resource(client: Client) -> None:
    path = "/apis/example.com/v1/widgets"
    body = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 3},
    }
    created = client.request("POST", path, json=body)
    assert created.status_code == 201
    assert "namespace" not in created.json()["metadata"]
    assert client.request("GET", f"{path}/w1").json()["spec"] == {"size": 3}
    assert client.request("DELETE", f"{path}/w1").status_code == 200


def test_namespace_must_exist_and_deleting_it_empties_it(client: Client, ns: str) -> None:
    missing = client.request("POST", "/api/v1/namespaces/absent/configmaps", json=_cm("x"))
    assert missing.status_code == 404
    assert missing.json()["message"] == 'namespaces "absent" not found'
    client.request("POST", f"/api/v1/namespaces/{ns}/configmaps", json=_cm("x"))
    assert client.request("DELETE", f"/api/v1/namespaces/{ns}").status_code == 200
    assert client.request("GET", f"/api/v1/namespaces/{ns}/configmaps/x").status_code == 404


def test_chunked_request_body(client: Client, ns: str) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"metadata": {"name": "chunked"},'
        yield b' "data": {"k": "v"}}'

    created = client.request(
        "POST",
        f"/api/v1/namespaces/{ns}/configmaps",
        data=body(),
        headers={"Content-Type": "application/json"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["data"] == {"k": "v"}


def test_deleting_an_owner_collects_its_dependents(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"

    def family(owner_name: str) -> None:
        owner = client.request("POST", path, json=_cm(owner_name)).json()
        ref = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": owner_name,
            "uid": owner["metadata"]["uid"],
        }
        for child in ("a", "b"):
            body = {"metadata": {"name": f"{owner_name}-{child}", "ownerReferences": [ref]}}
            assert client.request("POST", path, json=body).status_code == 201

    def names() -> list[str]:
        return [i["metadata"]["name"] for i in client.request("GET", path).json()["items"]]

    family("bg")
    client.request("DELETE", f"{path}/bg")
    assert names() == []
    family("fg")
    client.request("DELETE", f"{path}/fg", json={"propagationPolicy": "Foreground"})
    assert names() == []
    family("or")
    client.request("DELETE", f"{path}/or", json={"propagationPolicy": "Orphan"})
    assert names() == ["or-a", "or-b"]
    orphan = client.request("GET", f"{path}/or-a").json()
    assert orphan["metadata"].get("ownerReferences", []) == []


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    def field(number: int, data: bytes) -> bytes:
        return bytes([number << 3 | 2, len(data)]) + data

    type_meta = field(1, api_version.encode()) + field(2, kind.encode())
    return b"k8s\x00" + field(1, type_meta) + field(2, raw)


def test_protobuf_bodies_of_known_kinds_only(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    headers = {"Content-Type": "application/vnd.kubernetes.protobuf"}
    name = b"\x0a\x05proto"  # ObjectMeta.name
    entry = b"\x0a\x01k\x12\x01v"  # map entry k -> v
    configmap = bytes([0x0A, len(name)]) + name + bytes([0x12, len(entry)]) + entry
    created = client.request(
        "POST", path, data=_envelope("v1", "ConfigMap", configmap), headers=headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["metadata"]["name"] == "proto" and created.json()["data"] == {"k": "v"}
    widget = client.request(
        "POST",
        "/apis/example.com/v1/widgets",
        data=_envelope("example.com/v1", "Widget", b""),
        headers=headers,
    )  # a kind with no .proto message: kube-apiserver has no protobuf form of custom resources
    assert widget.status_code == 415 and "send JSON instead" in widget.json()["message"]
    garbage = client.request("POST", path, data=b"not protobuf", headers=headers)
    assert garbage.status_code == 400 and "magic" in garbage.json()["message"]


def test_pod_binding_and_eviction(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/pods"
    client.request(
        "POST",
        path,
        json={"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
    )
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"kind": "Node", "name": "node-1"},
    }
    bound = client.request("POST", f"{path}/p/binding", json=binding)
    assert bound.status_code == 201 and bound.json()["status"] == "Success"
    assert client.request("GET", f"{path}/p").json()["spec"]["nodeName"] == "node-1"
    again = client.request("POST", f"{path}/p/binding", json=binding)
    assert (
        again.status_code == 409 and 'already assigned to node "node-1"' in again.json()["message"]
    )
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"}}
    assert client.request("POST", f"{path}/p/eviction", json=eviction).status_code == 201
    assert client.request("GET", f"{path}/p").status_code == 404
    assert client.request("GET", f"{path}/p/eviction").status_code == 405


def test_concurrent_read_modify_write_loses_no_update(server: APIServer, ns: str) -> None:
    import threading

    path = f"/api/v1/namespaces/{ns}/configmaps"
    setup = Client(server)
    setup.request("POST", path, json=_cm("counter", n="0"))

    def bump(times: int) -> None:
        worker = Client(server)
        try:
            for _ in range(times):
                while True:
                    obj = worker.request("GET", f"{path}/counter").json()
                    obj["data"]["n"] = str(int(obj["data"]["n"]) + 1)
                    code = worker.request("PUT", f"{path}/counter", json=obj).status_code
                    assert code in (200, 409)
                    if code == 200:
                        break  # a 409 means another writer won: read again
        finally:
            worker.close()

    threads = [threading.Thread(target=bump, args=(15,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert setup.request("GET", f"{path}/counter").json()["data"]["n"] == "60"
    setup.close()


_NULLABLE_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: 3}
              note: {type: string}
              owner: {type: string, nullable: true}
"""


def test_nulls_are_dropped_unless_nullable(specs_dir: Path, tmp_path: Path) -> None:
    crd = tmp_path / "widgets.yaml"
    crd.write_text(_NULLABLE_CRD)
    swagger = specs_dir / "kubernetes" / "v1.35" / "swagger.json"
    with APIServer(specs=[swagger, crd]) as server:
        api = Client(server)
        template = {
            "metadata": {"labels": {"app": "web"}, "creationTimestamp": None},
            "spec": {
                "containers": [{"name": "c", "image": "nginx", "workingDir": None, "bogus": 1}]
            },
        }
        deployment = {
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": template,
                "minReadySeconds": None,
            },
        }
        answer = api.request(
            "POST", "/apis/apps/v1/namespaces/default/deployments", json=deployment
        )
        unknown = r"unknown field \"spec.template.spec.containers[0].bogus\""
        assert unknown in answer.headers["Warning"]  # inside list items too, as kube prunes
        created = answer.json()
        assert "bogus" not in created["spec"]["template"]["spec"]["containers"][0]
        spec = created["spec"]
        assert "minReadySeconds" not in spec
        assert "creationTimestamp" not in spec["template"]["metadata"]
        assert "workingDir" not in spec["template"]["spec"]["containers"][0]
        widget = {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": None, "note": None, "owner": None},
        }
        stored = api.request(
            "POST", "/apis/example.com/v1/namespaces/default/widgets", json=widget
        ).json()
        assert stored["spec"] == {"size": 3, "owner": None}  # pruned, then defaulted
        api.close()
