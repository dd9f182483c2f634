"""kubectl's typed clients as the judge of the protobuf request bodies and responses: the default
kubectl (which sends ``application/vnd.kubernetes.protobuf`` from 1.32 on) and kubectl 1.30
(which still sends JSON) create objects with ``create deployment|service clusterip|job|cronjob``,
``run`` and ``expose``; each object is then read back as JSON and its fields compared with what
the command asked for, and kubectl's own ``-v=8`` log says which body it sent (``run`` and
``expose`` build unstructured objects and send JSON from every version)."""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kgen.testing import APIServer
from tests.testing.test_kubectl import Kubectl, cluster  # noqa: F401  (the shared server)

pytestmark = pytest.mark.kubectl

PROTOBUF = "application/vnd.kubernetes.protobuf"
_VERSIONED = Path("/usr/lib/google-cloud-sdk/bin")
BINARIES = {"default": "kubectl", "1.30": str(_VERSIONED / "kubectl.1.30")}


def _minor(binary: str) -> int:
    version = subprocess.run(
        [binary, "version", "--client", "-o", "json"], capture_output=True, text=True, check=True
    )
    return int(re.sub(r"\D.*", "", json.loads(version.stdout)["clientVersion"]["minor"]))


@pytest.fixture(params=sorted(BINARIES), scope="module")
def kubectl(
    request: pytest.FixtureRequest,
    cluster: tuple[APIServer, Path],  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Kubectl:
    binary = shutil.which(BINARIES[str(request.param)])
    if binary is None:
        pytest.skip(f"{BINARIES[str(request.param)]} is not installed")
    _server, kubeconfig = cluster
    namespace = "proto-" + str(request.param).replace(".", "-")
    tool = Kubectl(binary, kubeconfig, "default", tmp_path_factory.mktemp("cache"))
    tool.run("create", "namespace", namespace)
    tool.namespace = namespace
    return tool


def _sent(kubectl: Kubectl, *args: str) -> str:
    """Run ``kubectl -v=8 <args>``; the Content-Type of the body of its (one) POST."""
    log = kubectl.run("-v=8", *args).stderr
    after = log[log.index("POST") :]
    found = re.search(r"Content-Type: ([^\s\"]+)", after)
    assert found is not None, log
    return found.group(1)


def _expected(kubectl: Kubectl) -> str:
    return PROTOBUF if _minor(kubectl.binary) >= 32 else "application/json"


def _zeros(kubectl: Kubectl, **fields: int) -> dict[str, int]:
    """The Go zero values a protobuf body carries and the JSON read back then shows (a Go client
    writes every non-pointer number; see docs/coverage/testing.md), none for a JSON body."""
    return fields if _expected(kubectl) == PROTOBUF else {}


def _container(obj: dict[str, Any], *path: str) -> dict[str, Any]:
    spec = obj["spec"]
    for step in path:
        spec = spec[step]["spec"]
    containers = spec["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def test_create_deployment_and_expose(kubectl: Kubectl) -> None:
    body = _sent(
        kubectl, "create", "deployment", "web", "--image=nginx:1.25", "--replicas=3", "--port=80"
    )
    assert body == _expected(kubectl)
    web = kubectl.json("get", "deployment", "web")
    assert web["spec"]["replicas"] == 3
    assert web["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert web["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    container = _container(web, "template")
    assert container["name"] == "nginx" and container["image"] == "nginx:1.25"
    port = {"containerPort": 80, "protocol": "TCP", **_zeros(kubectl, hostPort=0)}
    assert container["ports"] == [port]
    assert web["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}
    # replicas is a pointer in Go: a 0 on the wire is kept, not taken for "unset" (then 1)
    _sent(kubectl, "create", "deployment", "idle", "--image=nginx", "--replicas=0")
    assert kubectl.json("get", "deployment", "idle")["spec"]["replicas"] == 0

    body = _sent(
        kubectl, "expose", "deployment", "web", "--port=8080", "--target-port=80", "--name=websvc"
    )
    assert body == "application/json"  # expose and run write through kubectl's dynamic client
    service = kubectl.json("get", "service", "websvc")
    assert service["spec"]["selector"] == {"app": "web"}
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"port": 8080, "protocol": "TCP", "targetPort": 80}]
    assert ipaddress.ip_address(service["spec"]["clusterIP"]) in ipaddress.ip_network(
        "10.96.0.0/12"
    )


def test_create_service_clusterip(kubectl: Kubectl) -> None:
    body = _sent(kubectl, "create", "service", "clusterip", "svc", "--tcp=80:8080", "--tcp=53:dns")
    assert body == _expected(kubectl)
    service = kubectl.json("get", "service", "svc")
    assert service["metadata"]["labels"] == {"app": "svc"}
    assert service["spec"]["selector"] == {"app": "svc"}
    ports = {p["port"]: p for p in service["spec"]["ports"]}
    want = {"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}
    assert ports[80] == want | _zeros(kubectl, nodePort=0)
    assert ports[53]["targetPort"] == "dns"  # IntOrString holding a string
    headless = kubectl.run("create", "service", "clusterip", "hl", "--clusterip=None")
    assert headless.stdout.strip() == "service/hl created"
    assert kubectl.json("get", "service", "hl")["spec"]["clusterIP"] == "None"


def test_create_job_and_cronjob(kubectl: Kubectl) -> None:
    body = _sent(kubectl, "create", "job", "once", "--image=busybox", "--", "sh", "-c", "echo hi")
    assert body == _expected(kubectl)
    job = kubectl.json("get", "job", "once")
    container = _container(job, "template")
    assert container["image"] == "busybox" and container["command"] == ["sh", "-c", "echo hi"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] == 6 and job["spec"]["completions"] == 1

    body = _sent(
        kubectl,
        "create",
        "cronjob",
        "tick",
        "--image=busybox",
        "--schedule=*/5 * * * *",
        "--restart=OnFailure",
        "--",
        "date",
    )
    assert body == _expected(kubectl)
    cronjob = kubectl.json("get", "cronjob", "tick")
    assert cronjob["spec"]["schedule"] == "*/5 * * * *"
    assert cronjob["spec"]["concurrencyPolicy"] == "Allow" and cronjob["spec"]["suspend"] is False
    container = _container(cronjob, "jobTemplate", "template")
    assert container["command"] == ["date"] and container["image"] == "busybox"
    template = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert template["restartPolicy"] == "OnFailure"

    body = _sent(kubectl, "create", "job", "manual", "--from=cronjob/tick")
    assert body == _expected(kubectl)
    manual = kubectl.json("get", "job", "manual")
    assert manual["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    (owner,) = manual["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"]) == (
        "CronJob",
        "tick",
        cronjob["metadata"]["uid"],
    )
    assert _container(manual, "template")["command"] == ["date"]


def test_run_pod(kubectl: Kubectl) -> None:
    body = _sent(
        kubectl,
        "run",
        "single",
        "--image=nginx:1.25",
        "--port=8080",
        "--labels=app=single,tier=web",
        "--env=MODE=test",
        "--restart=Never",
        "--",
        "nginx",
        "-g",
        "daemon off;",
    )
    assert body == "application/json"
    pod = kubectl.json("get", "pod", "single")
    assert pod["metadata"]["labels"] == {"app": "single", "tier": "web"}
    container = _container(pod)
    assert container["name"] == "single" and container["image"] == "nginx:1.25"
    assert container["args"] == ["nginx", "-g", "daemon off;"]
    assert container["env"] == [{"name": "MODE", "value": "test"}]
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["status"]["phase"] == "Pending"
