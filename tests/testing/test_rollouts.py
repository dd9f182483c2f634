"""kubectl judges the workload controllers of kgen.testing (``APIServer(controllers=True)``):
``rollout status|history|undo|restart|pause|resume``, ``scale`` then ``wait``, over TLS, with
the default kubectl and kubectl 1.30."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from kgen.testing import APIServer

from .test_controllers import eventually
from .test_kubectl import Kubectl, _binary

pytestmark = pytest.mark.kubectl

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: nginx:1
"""


@pytest.fixture(scope="module")
def cluster(
    specs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[APIServer, Path]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("rollouts")
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
        tls=(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()),
        ca_pem=ca.cert_pem.bytes(),
        controllers=True,
    ) as server:
        yield server, server.write_kubeconfig(folder / "kubeconfig")


@pytest.fixture(params=["default", "1.30"])
def kubectl(
    request: pytest.FixtureRequest, cluster: tuple[APIServer, Path], tmp_path: Path
) -> Kubectl:
    version = str(request.param)
    if version == "default":
        binary = shutil.which("kubectl")
        if binary is None:
            pytest.skip("kubectl is not installed")
    else:
        binary = _binary(version)
    tool = Kubectl(binary, cluster[1], "default", tmp_path)
    test = request.node.originalname.removeprefix("test_kubectl_")[:40].replace("_", "-")
    tool.namespace = f"{test}-{version.replace('.', '-')}"
    tool.run("create", "namespace", tool.namespace)
    return tool


def _history(kubectl: Kubectl) -> list[str]:
    lines = kubectl.run("rollout", "history", "deployment/web").stdout.splitlines()
    return [line.split()[0] for line in lines[2:] if line.strip()]


def _image(kubectl: Kubectl) -> str:
    d = kubectl.json("get", "deployment", "web")
    return str(d["spec"]["template"]["spec"]["containers"][0]["image"])


def test_kubectl_rolls_a_deployment_out_back_and_again(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT)
    done = kubectl.run("rollout", "status", "deployment/web", "--timeout=60s").stdout
    assert done.splitlines()[-1] == 'deployment "web" successfully rolled out'
    kubectl.run("set", "image", "deployment/web", "c=nginx:2")
    done = kubectl.run("rollout", "status", "deployment/web", "--timeout=60s").stdout
    assert done.splitlines()[-1] == 'deployment "web" successfully rolled out'
    assert _history(kubectl) == ["1", "2"]
    two = kubectl.run("rollout", "history", "deployment/web", "--revision=2").stdout
    assert "nginx:2" in two
    rows = kubectl.run("get", "rs", "-l", "app=web").stdout.splitlines()
    assert sorted(row.split()[1:4] for row in rows[1:]) == [["0", "0", "0"], ["2", "2", "2"]]

    assert "rolled back" in kubectl.run("rollout", "undo", "deployment/web").stdout
    kubectl.run("rollout", "status", "deployment/web", "--timeout=60s")
    assert _image(kubectl) == "nginx:1"
    assert _history(kubectl) == ["2", "3"]  # revision 1 became 3

    kubectl.run("rollout", "restart", "deployment/web")
    kubectl.run("rollout", "status", "deployment/web", "--timeout=60s")
    assert _history(kubectl) == ["2", "3", "4"]

    kubectl.run("rollout", "pause", "deployment/web")
    kubectl.run("set", "image", "deployment/web", "c=nginx:3")
    time.sleep(0.3)  # a paused Deployment must not roll (nothing to wait for)
    assert _history(kubectl) == ["2", "3", "4"]
    d = kubectl.json("get", "deployment", "web")
    progressing = {c["type"]: c for c in d["status"]["conditions"]}["Progressing"]
    assert (progressing["status"], progressing["reason"]) == ("Unknown", "DeploymentPaused")
    kubectl.run("rollout", "resume", "deployment/web")
    kubectl.run("rollout", "status", "deployment/web", "--timeout=60s")
    assert _history(kubectl) == ["2", "3", "4", "5"]

    kubectl.run("scale", "deploy/web", "--replicas=3")
    kubectl.run("wait", "--for=jsonpath={.status.readyReplicas}=3", "deploy/web", "--timeout=30s")
    row = kubectl.run("get", "deploy", "web").stdout.splitlines()[1].split()
    assert row[1:4] == ["3/3", "3", "3"]


def test_kubectl_rollout_status_fails_past_the_progress_deadline(kubectl: Kubectl) -> None:
    stuck = DEPLOYMENT.replace("name: web", "name: stuck").replace("app: web", "app: stuck")
    stuck = stuck.replace("replicas: 2", "replicas: 1\n  progressDeadlineSeconds: 1")
    stuck = stuck.replace(
        "      containers:", "      nodeSelector: {nowhere: 'true'}\n      containers:"
    )
    kubectl.run("apply", "-f", "-", stdin=stuck)
    failed = kubectl.run("rollout", "status", "deployment/stuck", "--timeout=30s", check=False)
    assert failed.returncode == 1
    assert 'deployment "stuck" exceeded its progress deadline' in failed.stderr

    def condition() -> dict[str, str] | None:
        d = kubectl.json("get", "deployment", "stuck")
        found = {c["type"]: c for c in d["status"].get("conditions") or []}
        return found.get("Progressing")

    progressing = eventually(condition, "a Progressing condition")
    assert progressing["status"] == "False"
    assert progressing["reason"] == "ProgressDeadlineExceeded"
    assert progressing["message"].startswith('ReplicaSet "stuck-')
    assert progressing["message"].endswith('" has timed out progressing.')
