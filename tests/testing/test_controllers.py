"""The controllers of kgen.testing (``APIServer(controllers=True)``): namespace lifecycle and
garbage collection, over real HTTP against the real 1.35 OpenAPI documents plus cert-manager's
CRDs, and judged by kubectl over TLS."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from cryptography import x509

from kgen.testing import APIServer

from .conftest import Client, small_model
from .test_kubectl import VERSIONS, Kubectl, _binary

T = TypeVar("T")
NS = "/api/v1/namespaces"


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 10.0) -> T:
    """The first truthy answer of ``probe``, polled until ``timeout`` (the controllers run on
    threads of their own)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def _specs(specs_dir: Path) -> list[Path]:
    return [
        specs_dir / "kubernetes" / "v1.35" / "openapi-v3",
        specs_dir / "crds" / "cert-manager" / "cert-manager.crds.yaml",
    ]


@pytest.fixture(scope="module")
def server(specs_dir: Path) -> Iterator[APIServer]:
    with APIServer(specs=_specs(specs_dir), controllers=True) as running:
        yield running


@pytest.fixture
def client(server: APIServer) -> Iterator[Client]:
    c = Client(server)
    yield c
    c.close()


@pytest.fixture
def ns(client: Client, request: pytest.FixtureRequest) -> str:
    name = request.node.name.lower().replace("_", "-")[5:50].strip("-")
    created = client.request("POST", NS, json={"metadata": {"name": name}})
    assert created.status_code == 201, created.text
    return name


def _gone(client: Client, path: str) -> bool:
    return client.request("GET", path).status_code == 404


def _owner(obj: dict[str, Any], block: bool = True, controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": block,
    }


def _create(client: Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    created = client.request("POST", path, json=body)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


POD_SPEC = {"containers": [{"name": "c", "image": "nginx"}]}


def _chain(client: Client, ns: str, pods: int = 2, block: bool = True) -> dict[str, Any]:
    """A Deployment owning a ReplicaSet owning pods, made by hand. The workload controllers
    leave it as it is: the Deployment is paused, both want no replicas, and the pods (whose
    references to the ReplicaSet are not controller ones) match no selector."""
    labels = {"app": "web"}
    template = {"metadata": {"labels": labels}, "spec": POD_SPEC}
    deploy = _create(
        client,
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 0,
                "paused": True,
                "selector": {"matchLabels": labels},
                "template": template,
            },
        },
    )
    rs = _create(
        client,
        f"/apis/apps/v1/namespaces/{ns}/replicasets",
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web-1", "labels": labels, "ownerReferences": [_owner(deploy)]},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels}, "template": template},
        },
    )
    made = [
        _create(
            client,
            f"/api/v1/namespaces/{ns}/pods",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"web-1-{i}",
                    "ownerReferences": [_owner(rs, block, controller=False)],
                },
                "spec": POD_SPEC,
            },
        )
        for i in range(pods)
    ]
    return {"deploy": deploy, "rs": rs, "pods": made}


def _deleted_revisions(client: Client, ns: str, since: str) -> dict[str, int]:
    """Name to the revision of its DELETED event, for the pods, replicaset and deployment of
    :func:`_chain` (read from the watch history since ``since``)."""
    found: dict[str, int] = {}
    for path, count in (
        (f"/api/v1/namespaces/{ns}/pods", 2),
        (f"/apis/apps/v1/namespaces/{ns}/replicasets", 1),
        (f"/apis/apps/v1/namespaces/{ns}/deployments", 1),
    ):
        params = {"watch": "1", "resourceVersion": since, "timeoutSeconds": "5"}
        with client.request("GET", path, params=params, stream=True) as events:
            seen = 0
            for line in events.iter_lines():
                event = json.loads(line)
                if event["type"] == "DELETED":
                    meta = event["object"]["metadata"]
                    found[meta["name"]] = int(meta["resourceVersion"])
                    seen += 1
                    if seen == count:
                        break
    return found


# --- namespace lifecycle ----------------------------------------------------------------------


def test_deleting_a_namespace_empties_it_then_removes_it(client: Client, ns: str) -> None:
    _create(client, f"{NS}/{ns}/configmaps", {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    _create(client, f"{NS}/{ns}/pods", {"metadata": {"name": "web"}, "spec": POD_SPEC})
    _create(
        client,
        f"/apis/cert-manager.io/v1/namespaces/{ns}/issuers",
        {"metadata": {"name": "selfsigned"}, "spec": {"selfSigned": {}}},
    )
    since = client.request("GET", f"{NS}/{ns}").json()["metadata"]["resourceVersion"]
    answer = client.request("DELETE", f"{NS}/{ns}")
    assert answer.status_code == 200
    marked = answer.json()
    assert marked["status"]["phase"] == "Terminating"
    assert marked["metadata"]["deletionTimestamp"]
    assert marked["spec"]["finalizers"] == ["kubernetes"]
    eventually(lambda: _gone(client, f"{NS}/{ns}"), "the namespace goes")
    for path in (
        f"{NS}/{ns}/configmaps",
        f"{NS}/{ns}/pods",
        f"{NS}/{ns}/serviceaccounts",
        f"/apis/cert-manager.io/v1/namespaces/{ns}/issuers",
    ):
        assert client.request("GET", path).json()["items"] == []
    params = {"watch": "1", "resourceVersion": since, "fieldSelector": f"metadata.name={ns}"}
    seen = []
    with client.request("GET", NS, params=params, stream=True) as events:
        for line in events.iter_lines():
            seen.append(json.loads(line))
            if seen[-1]["type"] == "DELETED":
                break
    assert seen[0]["type"] == "MODIFIED"  # marked Terminating first
    assert seen[-1]["type"] == "DELETED"
    conditions = {c["type"]: c for c in seen[-1]["object"]["status"]["conditions"]}
    assert conditions["NamespaceContentRemaining"]["reason"] == "ContentRemoved"
    assert seen[-1]["object"]["spec"]["finalizers"] == []


def test_a_finalizer_on_content_holds_the_namespace(client: Client, ns: str) -> None:
    _create(
        client,
        f"{NS}/{ns}/configmaps",
        {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}},
    )
    assert client.request("DELETE", f"{NS}/{ns}").status_code == 200

    def conditions() -> dict[str, Any] | None:
        status = client.request("GET", f"{NS}/{ns}").json()["status"]
        found = {c["type"]: c for c in status.get("conditions", [])}
        return found if "NamespaceFinalizersRemaining" in found else None

    found = eventually(conditions, "the deletion conditions are written")
    assert [found[t]["status"] for t in found] == ["False", "False", "False", "True", "True"]
    assert found["NamespaceContentRemaining"]["reason"] == "SomeResourcesRemain"
    assert (
        found["NamespaceContentRemaining"]["message"]
        == "Some resources are remaining: configmaps. has 1 resource instances"
    )
    assert found["NamespaceFinalizersRemaining"]["reason"] == "SomeFinalizersRemain"
    assert found["NamespaceFinalizersRemaining"]["message"] == (
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource "
        "instances"
    )
    assert found["NamespaceDeletionContentFailure"]["reason"] == "ContentDeleted"
    held = client.request("GET", f"{NS}/{ns}/configmaps/held").json()
    assert held["metadata"]["deletionTimestamp"]
    again = client.request("DELETE", f"{NS}/{ns}")
    assert again.status_code == 200 and again.json()["status"]["phase"] == "Terminating"

    refused = client.request("POST", f"{NS}/{ns}/configmaps", json={"metadata": {"name": "new"}})
    assert refused.status_code == 403
    assert refused.content == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
        b'"configmaps \\"new\\" is forbidden: unable to create new content in namespace '
        + ns.encode()
        + b' because it is being terminated","reason":"Forbidden","details":{"name":"new",'
        b'"kind":"configmaps","causes":[{"reason":"NamespaceTerminating","message":'
        b'"namespace '
        + ns.encode()
        + b' is being terminated","field":"metadata.namespace"}]},"code":403}\n'
    )
    released = client.request(
        "PATCH",
        f"{NS}/{ns}/configmaps/held",
        data=json.dumps({"metadata": {"finalizers": None}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert released.status_code == 200, released.text
    eventually(lambda: _gone(client, f"{NS}/{ns}"), "the namespace goes once released")


def test_namespaces_get_a_default_service_account_and_the_root_ca(
    client: Client, server: APIServer, ns: str
) -> None:
    for name in ("default", "kube-system", "kube-public", "kube-node-lease", ns):
        eventually(
            lambda name=name: client.request("GET", f"{NS}/{name}/serviceaccounts/default").ok,
            f"{name} has its default ServiceAccount",
        )
        cm = eventually(
            lambda name=name: client.request("GET", f"{NS}/{name}/configmaps/kube-root-ca.crt")
            .json()
            .get("data"),
            f"{name} has kube-root-ca.crt",
        )
        ca = x509.load_pem_x509_certificate(cm["ca.crt"].encode())
        assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    root_ca = f"{NS}/{ns}/configmaps/kube-root-ca.crt"
    published = client.request("GET", root_ca).json()["data"]
    changed = client.request(
        "PATCH",
        root_ca,
        data=json.dumps({"data": {"ca.crt": "tampered"}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert changed.ok
    eventually(
        lambda: client.request("GET", root_ca).json()["data"] == published, "the CA is put back"
    )
    removed = client.request("DELETE", f"{NS}/{ns}/serviceaccounts/default")
    assert removed.status_code == 200
    eventually(
        lambda: client.request("GET", f"{NS}/{ns}/serviceaccounts/default").ok,
        "the default ServiceAccount is put back",
    )


def test_lifecycle_admission(client: Client) -> None:
    immortal = client.request("DELETE", f"{NS}/kube-system")
    assert immortal.status_code == 403
    assert immortal.json()["message"] == (
        'namespaces "kube-system" is forbidden: this namespace may not be deleted'
    )
    missing = client.request("POST", f"{NS}/nowhere/configmaps", json={"metadata": {"name": "a"}})
    assert missing.status_code == 404
    assert missing.json()["message"] == 'namespaces "nowhere" not found'


def test_the_namespace_finalize_subresource_writes_only_spec_finalizers(
    client: Client, ns: str
) -> None:
    current = client.request("GET", f"{NS}/{ns}").json()
    current["spec"]["finalizers"] = []
    assert client.request("PUT", f"{NS}/{ns}", json=current).json()["spec"]["finalizers"] == [
        "kubernetes"
    ]  # a plain update keeps them
    made = _create(client, NS, {"metadata": {"name": f"{ns}-2"}, "spec": {"finalizers": ["a/b"]}})
    assert made["spec"]["finalizers"] == ["a/b", "kubernetes"]
    client.request("PUT", f"{NS}/{ns}-2/finalize", json={**made, "spec": {"finalizers": []}})
    client.request("DELETE", f"{NS}/{ns}-2")
    assert _gone(client, f"{NS}/{ns}-2")  # nothing held it
    current["spec"]["finalizers"] = ["kubernetes", "example.com/extra"]
    current["metadata"]["labels"] = {"ignored": "yes"}
    answer = client.request("PUT", f"{NS}/{ns}/finalize", json=current)
    assert answer.status_code == 200, answer.text
    stored = client.request("GET", f"{NS}/{ns}").json()
    assert stored["spec"]["finalizers"] == ["kubernetes", "example.com/extra"]
    assert "labels" not in stored["metadata"]
    client.request("DELETE", f"{NS}/{ns}")
    held = eventually(
        lambda: (lambda n: n if n["spec"]["finalizers"] == ["example.com/extra"] else None)(
            client.request("GET", f"{NS}/{ns}").json()
        ),
        "the controller removes its own finalizer only",
    )
    held["spec"]["finalizers"] = []
    assert client.request("PUT", f"{NS}/{ns}/finalize", json=held).status_code == 200
    assert _gone(client, f"{NS}/{ns}")


# --- garbage collection -----------------------------------------------------------------------


def test_background_deletion_collects_the_chain(client: Client, ns: str) -> None:
    chain = _chain(client, ns)
    answer = client.request("DELETE", f"/apis/apps/v1/namespaces/{ns}/deployments/web")
    assert answer.status_code == 200 and answer.json()["kind"] == "Status"
    assert _gone(client, f"/apis/apps/v1/namespaces/{ns}/deployments/web")
    eventually(
        lambda: client.request("GET", f"{NS}/{ns}/pods").json()["items"] == [],
        "the pods are collected",
    )
    assert _gone(client, f"/apis/apps/v1/namespaces/{ns}/replicasets/web-1")
    assert len(chain["pods"]) == 2


def test_foreground_deletion_removes_dependents_first(client: Client, ns: str) -> None:
    _chain(client, ns)
    since = client.request("GET", f"{NS}/{ns}/pods").json()["metadata"]["resourceVersion"]
    answer = client.request(
        "DELETE",
        f"/apis/apps/v1/namespaces/{ns}/deployments/web",
        json={"propagationPolicy": "Foreground"},
    )
    assert answer.status_code == 200
    marked = answer.json()
    assert marked["kind"] == "Deployment"
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert marked["metadata"]["deletionTimestamp"]
    eventually(
        lambda: _gone(client, f"/apis/apps/v1/namespaces/{ns}/deployments/web"),
        "the deployment goes last",
    )
    deleted = _deleted_revisions(client, ns, since)
    assert set(deleted) == {"web", "web-1", "web-1-0", "web-1-1"}
    assert max(deleted["web-1-0"], deleted["web-1-1"]) < deleted["web-1"] < deleted["web"]


def test_blocking_dependents_hold_a_foreground_owner(client: Client, ns: str) -> None:
    chain = _chain(client, ns, pods=1)
    rs = chain["rs"]
    free = _create(
        client,
        f"{NS}/{ns}/configmaps",
        {
            "metadata": {
                "name": "free",
                "finalizers": ["example.com/hold"],
                "ownerReferences": [_owner(rs, block=False)],
            }
        },
    )
    blocker = _create(
        client,
        f"{NS}/{ns}/configmaps",
        {
            "metadata": {
                "name": "blocker",
                "finalizers": ["example.com/hold"],
                "ownerReferences": [_owner(rs, block=True)],
            }
        },
    )
    client.request(
        "DELETE",
        f"/apis/apps/v1/namespaces/{ns}/replicasets/web-1",
        json={"propagationPolicy": "Foreground"},
    )
    eventually(lambda: _gone(client, f"{NS}/{ns}/pods/web-1-0"), "the pod is collected")
    for name in (free, blocker):
        got = client.request("GET", f"{NS}/{ns}/configmaps/{name['metadata']['name']}").json()
        assert got["metadata"]["deletionTimestamp"]  # deleted, held by its own finalizer
    held = client.request("GET", f"/apis/apps/v1/namespaces/{ns}/replicasets/web-1").json()
    assert held["metadata"]["finalizers"] == ["foregroundDeletion"]
    patch = json.dumps({"metadata": {"finalizers": None}})
    headers = {"Content-Type": "application/merge-patch+json"}
    client.request("PATCH", f"{NS}/{ns}/configmaps/blocker", data=patch, headers=headers)
    eventually(
        lambda: _gone(client, f"/apis/apps/v1/namespaces/{ns}/replicasets/web-1"),
        "the owner goes once its blocking dependent has",
    )
    assert client.request("GET", f"{NS}/{ns}/configmaps/free").ok  # never waited for
    client.request("PATCH", f"{NS}/{ns}/configmaps/free", data=patch, headers=headers)


def test_orphan_deletion_keeps_dependents_without_the_reference(client: Client, ns: str) -> None:
    chain = _chain(client, ns)
    other = _create(client, f"{NS}/{ns}/configmaps", {"metadata": {"name": "other-owner"}})
    keep = {**_owner(other, block=False), "controller": False}
    pod = client.request("GET", f"{NS}/{ns}/pods/web-1-0").json()
    pod["metadata"]["ownerReferences"].append(keep)
    assert client.request("PUT", f"{NS}/{ns}/pods/web-1-0", json=pod).ok
    answer = client.request(
        "DELETE",
        f"/apis/apps/v1/namespaces/{ns}/replicasets/web-1",
        json={"propagationPolicy": "Orphan"},
    )
    assert answer.status_code == 200
    assert answer.json()["metadata"]["finalizers"] == ["orphan"]
    eventually(
        lambda: _gone(client, f"/apis/apps/v1/namespaces/{ns}/replicasets/web-1"),
        "the orphaning owner goes",
    )
    pods = {
        p["metadata"]["name"]: p for p in client.request("GET", f"{NS}/{ns}/pods").json()["items"]
    }
    assert set(pods) == {"web-1-0", "web-1-1"}
    assert "ownerReferences" not in pods["web-1-1"]["metadata"]
    assert pods["web-1-0"]["metadata"]["ownerReferences"] == [keep]
    assert chain["deploy"]["metadata"]["name"] == "web"


def test_dangling_owner_references(client: Client, ns: str) -> None:
    rs = _chain(client, ns, pods=0)["rs"]
    live = _owner(rs, controller=False)  # not a controller one: the ReplicaSet would release it
    ghost = {**live, "name": "ghost", "uid": "00000000-0000-4000-8000-000000000000"}
    stale = {**live, "uid": "00000000-0000-4000-8000-000000000001"}  # right name, old uid
    for name, refs in (("ghost", [ghost]), ("stale", [stale]), ("mixed", [ghost, live])):
        _create(
            client,
            f"{NS}/{ns}/pods",
            {"metadata": {"name": name, "ownerReferences": refs}, "spec": POD_SPEC},
        )
    eventually(lambda: _gone(client, f"{NS}/{ns}/pods/ghost"), "a pod with no owner goes")
    eventually(lambda: _gone(client, f"{NS}/{ns}/pods/stale"), "a pod with a stale owner goes")
    mixed = eventually(
        lambda: (lambda p: p if len(p["metadata"]["ownerReferences"]) == 1 else None)(
            client.request("GET", f"{NS}/{ns}/pods/mixed").json()
        ),
        "the dangling reference is dropped",
    )
    assert mixed["metadata"]["ownerReferences"] == [live]


def test_without_controllers_the_store_is_bare() -> None:
    with APIServer(small_model()) as bare:
        client = Client(bare)
        try:
            _create(client, NS, {"metadata": {"name": "plain"}})
            gone = client.request("DELETE", f"{NS}/plain")
            assert gone.status_code == 200 and gone.json()["status"]["phase"] == "Terminating"
            assert _gone(client, f"{NS}/plain")  # at once
            assert client.request("GET", f"{NS}/default/configmaps").json()["items"] == []
        finally:
            client.close()


def _controller_threads() -> int:
    names = ("kgen-namespace-controller", "kgen-garbage-collector")
    return sum(t.name in names for t in threading.enumerate())


def test_controllers_run_between_start_and_stop() -> None:
    before = _controller_threads()
    server = APIServer(small_model(), controllers=True)
    assert _controller_threads() == before
    for _ in range(2):  # a server started again runs them again
        with server:
            assert _controller_threads() == before + 2
        assert _controller_threads() == before


@pytest.mark.parametrize("flags", [(), ("--no-controllers",)], ids=["default", "no-controllers"])
def test_testserver_runs_controllers_unless_told_not_to(
    specs_dir: Path, flags: tuple[str, ...]
) -> None:
    spec = str(specs_dir / "kubernetes" / "v1.35" / "openapi-v3")
    command = [sys.executable, "-m", "kgen", "testserver", "--spec", spec, *flags]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        while "press Ctrl-C" not in process.stdout.readline():
            pass
        session = requests.Session()
        session.trust_env = False
        root_ca = f"{url}{NS}/default/configmaps/kube-root-ca.crt"
        if flags:
            assert session.get(root_ca, timeout=10).status_code == 404
            session.post(f"{url}{NS}", json={"metadata": {"name": "x"}}, timeout=10)
            session.delete(f"{url}{NS}/x", timeout=10)
            assert session.get(f"{url}{NS}/x", timeout=10).status_code == 404  # at once
        else:
            eventually(lambda: session.get(root_ca, timeout=10).ok, "kube-root-ca.crt appears")
        session.close()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped")


# --- kubectl as the judge ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(
    specs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[APIServer, Path]]:
    server = APIServer(
        specs=_specs(specs_dir),
        tls="self-signed",
        controllers=True,
    )
    with server:
        yield server, server.write_kubeconfig(tmp_path_factory.mktemp("ctl") / "kubeconfig")


@pytest.fixture(params=VERSIONS)
def kubectl(
    request: pytest.FixtureRequest,
    tls_server: tuple[APIServer, Path],
    tmp_path: Path,
) -> Kubectl:
    version = str(request.param)
    tool = Kubectl(_binary(version), tls_server[1], "default", tmp_path)
    test = request.node.name.split("[")[0].removeprefix("test_kubectl_").replace("_", "-")[:30]
    tool.namespace = f"{test}-{version.replace('.', '-')}"
    tool.run("create", "namespace", tool.namespace)
    return tool


@pytest.mark.kubectl
def test_kubectl_delete_namespace_waits_until_it_is_gone(
    kubectl: Kubectl, tls_server: tuple[APIServer, Path]
) -> None:
    server = tls_server[0]
    cm = eventually(
        lambda: kubectl.run("get", "cm", "kube-root-ca.crt", "-o", "json", check=False).stdout,
        "kube-root-ca.crt is published",
    )
    assert json.loads(cm)["data"]["ca.crt"] == (server.ca_pem or b"").decode()
    kubectl.run("create", "configmap", "settings", "--from-literal=a=1")
    done = kubectl.run("delete", "namespace", kubectl.namespace)
    assert done.stdout.strip() == f'namespace "{kubectl.namespace}" deleted'
    missing = kubectl.run("get", "namespace", kubectl.namespace, check=False)
    assert f'namespaces "{kubectl.namespace}" not found' in missing.stderr  # gone on return


@pytest.mark.kubectl
def test_kubectl_cascade_foreground_and_orphan(
    kubectl: Kubectl, tls_server: tuple[APIServer, Path]
) -> None:
    server, kubeconfig = tls_server
    ca = kubeconfig.parent / "ca.pem"
    ca.write_bytes(server.ca_pem or b"")
    client = Client(server)
    client.session.verify = str(ca)
    try:
        _chain(client, kubectl.namespace)
        kubectl.run("delete", "replicaset", "web-1", "--cascade=orphan")
        pods = kubectl.json("get", "pods")["items"]
        assert len(pods) == 2 and all("ownerReferences" not in p["metadata"] for p in pods)
        kubectl.run("delete", "pods", "--all")
        client.request("DELETE", f"/apis/apps/v1/namespaces/{kubectl.namespace}/deployments/web")
        _chain(client, kubectl.namespace)
        kubectl.run("delete", "deployment", "web", "--cascade=foreground")
        # kubectl returned once the deployment was gone, which it is only after its dependents
        assert kubectl.json("get", "pods")["items"] == []
        assert kubectl.json("get", "replicasets")["items"] == []
    finally:
        client.close()


@pytest.mark.kubectl
def test_kubectl_replace_raw_finalize_releases_a_stuck_namespace(
    kubectl: Kubectl, tmp_path: Path
) -> None:
    held = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]},
    }
    kubectl.run("create", "-f", "-", stdin=json.dumps(held))
    kubectl.run("delete", "namespace", kubectl.namespace, "--wait=false")
    stuck = eventually(  # the controller has had its say (else the replace may conflict)
        lambda: (lambda n: n if len(n["status"].get("conditions", [])) == 5 else None)(
            kubectl.json("get", "namespace", kubectl.namespace)
        ),
        "the namespace controller writes its conditions",
    )
    assert stuck["status"]["phase"] == "Terminating"
    assert stuck["spec"]["finalizers"] == ["kubernetes"]
    stuck["spec"]["finalizers"] = []
    body = tmp_path / "ns.json"
    body.write_text(json.dumps(stuck))
    kubectl.run(
        "replace", "--raw", f"/api/v1/namespaces/{kubectl.namespace}/finalize", "-f", str(body)
    )
    missing = kubectl.run("get", "namespace", kubectl.namespace, check=False)
    assert f'namespaces "{kubectl.namespace}" not found' in missing.stderr
