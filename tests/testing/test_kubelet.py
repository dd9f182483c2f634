"""The scheduler and kubelets of kgen.testing (``APIServer(controllers=True)``): nodes that
register and stay Ready, pods bound and run, graceful deletion; judged by kubectl over TLS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.client import GroupVersionResource, ResourceClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer

from .test_controllers import eventually
from .test_kubectl import VERSIONS, Kubectl, _binary

Objects = ResourceClient[dict[str, Any], dict[str, Any]]
NODES = ("node-a", "node-b")


@pytest.fixture(scope="module")
def tls_server(
    specs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[APIServer, Path]]:
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
        tls="self-signed",
        controllers=True,
        nodes=NODES,
    ) as server:
        yield server, server.write_kubeconfig(tmp_path_factory.mktemp("kubelet") / "kubeconfig")


@pytest.fixture(scope="module")
def rest(tls_server: tuple[APIServer, Path]) -> Iterator[RESTClient]:
    server = tls_server[0]
    config = Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem or b"")
    with RESTClient(config) as client:
        yield client


def _objects(rest: RESTClient, group: str, plural: str, namespace: str | None = None) -> Objects:
    return ResourceClient(rest, GroupVersionResource(group, "v1", plural), dict, dict, namespace)


def _pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}], **spec},
    }


def test_nodes_register_ready_with_their_leases(rest: RESTClient) -> None:
    nodes = _objects(rest, "", "nodes")
    registered = eventually(lambda: len(nodes.list()["items"]) == 2 or None, "nodes register")
    assert registered
    for name in NODES:
        node = nodes.get(name)
        status = node["status"]
        ready = next(c for c in status["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
        assert status["capacity"]["pods"] == "110" and status["allocatable"]["cpu"] == "4"
        assert {a["type"] for a in status["addresses"]} == {"InternalIP", "Hostname"}
        assert status["nodeInfo"]["kubeletVersion"].startswith("v1.")
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == name
        lease = eventually(lambda n=name: _lease(rest, n), f"the lease of {name}")
        assert lease["spec"]["holderIdentity"] == name and lease["spec"]["renewTime"]


def _lease(rest: RESTClient, name: str) -> dict[str, Any] | None:
    leases = _objects(rest, "coordination.k8s.io", "leases", "kube-node-lease")
    found = [item for item in leases.list()["items"] if item["metadata"]["name"] == name]
    return found[0] if found else None


def test_a_pod_is_scheduled_then_runs(rest: RESTClient) -> None:
    pods = _objects(rest, "", "pods", "default")
    pods.create(_pod("runs", initContainers=[{"name": "setup", "image": "busybox"}]))
    pod = eventually(
        lambda: ((p := pods.get("runs")).get("status", {}).get("phase") == "Running" and p) or None,
        "the pod runs",
    )
    status = pod["status"]
    assert pod["spec"]["nodeName"] in NODES
    assert status["podIP"].startswith("10.244.") and status["hostIP"].startswith("10.0.0.")
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == dict.fromkeys(
        ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"),
        "True",
    )
    (container,) = status["containerStatuses"]
    assert container["ready"] and container["started"] and container["restartCount"] == 0
    assert "running" in container["state"] and container["containerID"].startswith("containerd://")
    assert container["imageID"].startswith("docker.io/library/nginx@sha256:")
    (init,) = status["initContainerStatuses"]
    assert init["state"]["terminated"]["reason"] == "Completed"


def test_node_selectors_and_taints_decide_where_a_pod_goes(rest: RESTClient) -> None:
    pods = _objects(rest, "", "pods", "default")
    nodes = _objects(rest, "", "nodes")
    eventually(lambda: len(nodes.list()["items"]) == 2 or None, "nodes register")
    pods.create(_pod("picky", nodeSelector={"disk": "ssd"}))
    waiting = eventually(
        lambda: next(
            (
                c
                for c in pods.get("picky").get("status", {}).get("conditions", [])
                if c["type"] == "PodScheduled"
            ),
            None,
        ),
        "the pod is found unschedulable",
    )
    assert (waiting["status"], waiting["reason"]) == ("False", "Unschedulable")
    assert waiting["message"] == (
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
    )
    node_a = nodes.get("node-a")
    node_a["metadata"]["labels"]["disk"] = "ssd"
    node_a["spec"]["taints"] = [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]
    nodes.update(node_a)
    pods.create(
        _pod(
            "tolerant",
            nodeSelector={"disk": "ssd"},
            tolerations=[{"key": "dedicated", "operator": "Exists"}],
        )
    )
    assert eventually(lambda: pods.get("tolerant")["spec"].get("nodeName"), "bound") == "node-a"
    assert "nodeName" not in pods.get("picky")["spec"]  # the taint keeps it away
    node_a["metadata"].pop("resourceVersion")
    node_a["spec"]["taints"] = []
    nodes.update(node_a)
    assert eventually(lambda: pods.get("picky")["spec"].get("nodeName"), "bound") == "node-a"


def test_a_graceful_delete_marks_then_removes_the_pod(rest: RESTClient) -> None:
    pods = _objects(rest, "", "pods", "default")
    pods.create(_pod("leaving"))
    eventually(lambda: pods.get("leaving")["spec"].get("nodeName"), "bound")
    start = pods.list()["metadata"]["resourceVersion"]
    with pods.watch(resource_version=start, timeout_seconds=20) as watch:
        answer = rest.delete().abs_path("/api/v1/namespaces/default/pods/leaving").do().json()
        assert answer["metadata"]["deletionGracePeriodSeconds"] == 30
        assert answer["metadata"]["deletionTimestamp"]
        events = []
        for event in watch:
            if event.object["metadata"]["name"] == "leaving":
                events.append(event)
            if event.type == "DELETED":
                break
    assert [e.type for e in events][-2:] == ["MODIFIED", "DELETED"]
    assert events[-1].object["metadata"]["deletionGracePeriodSeconds"] == 30


def test_without_controllers_no_node_appears(specs_dir: Path) -> None:
    with APIServer(specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"]) as server:
        client = RESTClient(Config(host=server.url, bearer_token=server.token))
        assert _objects(client, "", "nodes").list()["items"] == []
        client.close()


@pytest.fixture(params=VERSIONS)
def kubectl(
    request: pytest.FixtureRequest, tls_server: tuple[APIServer, Path], tmp_path: Path
) -> Kubectl:
    version = str(request.param)
    tool = Kubectl(_binary(version), tls_server[1], "default", tmp_path)
    tool.namespace = f"kubelet-{version.replace('.', '-')}"
    tool.run("create", "namespace", tool.namespace)
    return tool


@pytest.mark.kubectl
def test_kubectl_waits_for_ready_and_sees_nodes(kubectl: Kubectl) -> None:
    nodes = kubectl.run("get", "nodes").stdout.splitlines()
    assert [line.split()[:2] for line in nodes[1:]] == [["node-a", "Ready"], ["node-b", "Ready"]]
    kubectl.run("run", "web", "--image=nginx:1.25", "--restart=Never")
    waited = kubectl.run("wait", "--for=condition=Ready", "pod/web", "--timeout=30s")
    assert "condition met" in waited.stdout
    pod = json.loads(kubectl.run("get", "pod", "web", "-o", "json").stdout)
    assert pod["status"]["phase"] == "Running"
    assert "Running" in kubectl.run("get", "pod", "web").stdout
    deleted = kubectl.run("delete", "pod", "web")
    assert deleted.stdout.strip() == 'pod "web" deleted'
    gone = kubectl.run("get", "pod", "web", check=False)
    assert 'pods "web" not found' in gone.stderr
