"""kubectl judges the workload controllers of kgen.testing (``APIServer(controllers=True)``):
``rollout status|history|undo|restart|pause|resume``, ``scale`` then ``wait``, over TLS, with
the default kubectl and kubectl 1.30."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


STATEFULSET = """
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 3
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: c
        image: postgres:16
"""


def _pods(kubectl: Kubectl, selector: str) -> list[dict[str, Any]]:
    items = kubectl.json("get", "pods", "-l", selector)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def test_kubectl_rolls_a_statefulset_out_in_order(kubectl: Kubectl) -> None:
    namespace = kubectl.namespace
    kubectl.run("apply", "-f", "-", stdin=STATEFULSET)
    done = kubectl.run("rollout", "status", "statefulset/db", "--timeout=60s").stdout
    assert "partitioned roll out complete: 3 new pods have been updated" in done
    pods = sorted(_pods(kubectl, "app=db"), key=lambda p: p["metadata"]["name"])
    assert [p["metadata"]["name"] for p in pods] == ["db-0", "db-1", "db-2"]
    created = [p["metadata"]["creationTimestamp"] for p in pods]
    assert created == sorted(created)
    sts = kubectl.json("get", "statefulset", "db")
    status = sts["status"]
    revision = status["updateRevision"]
    assert status["currentRevision"] == revision and revision.startswith("db-")
    for key in ("replicas", "readyReplicas", "currentReplicas", "updatedReplicas"):
        assert status[key] == 3, key
    for i, pod in enumerate(pods):
        labels = pod["metadata"]["labels"]
        assert labels["controller-revision-hash"] == revision
        assert labels["statefulset.kubernetes.io/pod-name"] == f"db-{i}"
        assert labels["apps.kubernetes.io/pod-index"] == str(i)
        assert pod["spec"]["hostname"] == f"db-{i}" and pod["spec"]["subdomain"] == "db"
    revisions = kubectl.json("get", "controllerrevisions")["items"]
    assert [r["metadata"]["name"] for r in revisions] == [revision]
    assert kubectl.run("get", "sts", "db").stdout.splitlines()[1].split()[1] == "3/3"

    kubectl.run("set", "image", "statefulset/db", "c=postgres:17")
    kubectl.run("rollout", "status", "statefulset/db", "--timeout=60s")
    sts = kubectl.json("get", "statefulset", "db")
    assert sts["status"]["updateRevision"] != revision
    assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"]
    images = {p["spec"]["containers"][0]["image"] for p in _pods(kubectl, "app=db")}
    assert images == {"postgres:17"}
    assert _revisions(kubectl, "statefulset/db") == ["1", "2"]
    kubectl.run("scale", "sts/db", "--replicas=1")
    kubectl.run("wait", "--for=jsonpath={.status.replicas}=1", "sts/db", "--timeout=30s")
    assert [p["metadata"]["name"] for p in _pods(kubectl, "app=db")] == ["db-0"]
    assert namespace == kubectl.namespace


def _revisions(kubectl: Kubectl, what: str) -> list[str]:
    lines = kubectl.run("rollout", "history", what).stdout.splitlines()
    return [line.split()[0] for line in lines[2:] if line.strip()]


DAEMONSET = """
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: c
        image: fluentd:1
"""


def test_kubectl_rolls_a_daemonset_out_on_every_node(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=DAEMONSET)
    done = kubectl.run("rollout", "status", "daemonset/agent", "--timeout=60s").stdout
    assert done.splitlines()[-1] == 'daemon set "agent" successfully rolled out'
    nodes = [n["metadata"]["name"] for n in kubectl.json("get", "nodes")["items"]]
    pods = _pods(kubectl, "app=agent")
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(nodes)
    status = kubectl.json("get", "daemonset", "agent")["status"]
    for key in (
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "numberReady",
        "updatedNumberScheduled",
        "numberAvailable",
    ):
        assert status[key] == len(nodes), key
    assert status["numberMisscheduled"] == 0
    row = kubectl.run("get", "ds", "agent").stdout.splitlines()[1].split()
    assert row[1:7] == [str(len(nodes))] * 5 + ["<none>"]
    kubectl.run("set", "image", "daemonset/agent", "c=fluentd:2")
    kubectl.run("rollout", "status", "daemonset/agent", "--timeout=60s")
    images = {p["spec"]["containers"][0]["image"] for p in _pods(kubectl, "app=agent")}
    assert images == {"fluentd:2"}
    assert _revisions(kubectl, "daemonset/agent") == ["1", "2"]


JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  completions: {completions}
  parallelism: 2
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
        command: ["sh", "-c", "{script}"]
"""


def test_kubectl_waits_for_a_job_to_complete(kubectl: Kubectl) -> None:
    job = JOB.format(name="pi", completions=3, script="echo done")
    kubectl.run("apply", "-f", "-", stdin=job)
    waited = kubectl.run("wait", "--for=condition=complete", "job/pi", "--timeout=60s")
    assert waited.stdout.strip() == "job.batch/pi condition met"
    got = kubectl.json("get", "job", "pi")
    status = got["status"]
    assert status["succeeded"] == 3 and "active" not in status and "failed" not in status
    assert status["startTime"] <= status["completionTime"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert set(conditions) == {"SuccessCriteriaMet", "Complete"}
    assert conditions["Complete"]["reason"] == "CompletionsReached"
    assert conditions["Complete"]["message"] == "Reached expected number of succeeded pods"
    uid = got["metadata"]["uid"]
    assert got["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    pods = _pods(kubectl, "job-name=pi")
    assert len(pods) == 3
    for pod in pods:
        assert pod["status"]["phase"] == "Succeeded"
        (state,) = pod["status"]["containerStatuses"]
        assert state["state"]["terminated"]["exitCode"] == 0
        assert state["state"]["terminated"]["reason"] == "Completed"
    row = kubectl.run("get", "job", "pi").stdout.splitlines()[1].split()
    assert row[:2] == ["pi", "Complete"] or row[1] == "3/3"  # 1.30 has no STATUS column
    assert "Completed" in kubectl.run("get", "pods", "-l", "job-name=pi").stdout


def test_kubectl_sees_a_job_fail_past_its_backoff_limit(kubectl: Kubectl) -> None:
    job = JOB.format(name="bad", completions=1, script="echo no; exit 3")
    kubectl.run("apply", "-f", "-", stdin=job)
    waited = kubectl.run("wait", "--for=condition=failed", "job/bad", "--timeout=60s")
    assert waited.stdout.strip() == "job.batch/bad condition met"
    status = kubectl.json("get", "job", "bad")["status"]
    assert status["failed"] == 2 and "succeeded" not in status
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Failed"]["reason"] == "BackoffLimitExceeded"
    assert conditions["Failed"]["message"] == "Job has reached the specified backoff limit"
    codes = {
        p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]
        for p in _pods(kubectl, "job-name=bad")
    }
    assert codes == {3}


def _described_events(kubectl: Kubectl, *what: str) -> list[list[str]]:
    """The rows under ``Events:`` of ``kubectl describe``: type, reason, age, from, message."""
    text = kubectl.run("describe", *what).stdout
    lines = text.split("\nEvents:\n", 1)[1].splitlines()[2:]
    return [line.split(None, 4) for line in lines if line.strip()]


def test_kubectl_describe_shows_what_the_controllers_did(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT)
    kubectl.run("rollout", "status", "deployment/web", "--timeout=60s")
    kubectl.run("set", "image", "deployment/web", "c=nginx:2")
    kubectl.run("rollout", "status", "deployment/web", "--timeout=60s")
    sets = {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["metadata"]["name"]
        for rs in kubectl.json("get", "rs")["items"]
    }
    old, new = sets["nginx:1"], sets["nginx:2"]
    rows = _described_events(kubectl, "deployment", "web")
    assert all(r[0] == "Normal" and r[1] == "ScalingReplicaSet" for r in rows)
    assert all(r[3] == "deployment-controller" for r in rows)
    messages = [r[4] for r in rows]
    assert messages[0] == f"Scaled up replica set {old} from 0 to 2"
    assert f"Scaled up replica set {new} from 0 to 1" in messages
    assert messages[-1] == f"Scaled down replica set {old} from 1 to 0"

    rows = _described_events(kubectl, "rs", new)
    assert {r[1] for r in rows} == {"SuccessfulCreate"}
    assert all(r[3] == "replicaset-controller" and r[4].startswith("Created pod: ") for r in rows)
    rows = _described_events(kubectl, "rs", old)
    assert [r[1] for r in rows].count("SuccessfulDelete") == 2

    pod = next(p for p in _pods(kubectl, "app=web"))
    name, node = pod["metadata"]["name"], pod["spec"]["nodeName"]
    rows = _described_events(kubectl, "pod", name)
    assert [(r[1], r[3]) for r in rows] == [
        ("Scheduled", "default-scheduler"),
        ("Pulled", "kubelet"),
        ("Created", "kubelet"),
        ("Started", "kubelet"),
    ]
    assert rows[0][4] == f"Successfully assigned {kubectl.namespace}/{name} to {node}"
    assert rows[1][4] == (
        'Container image "nginx:2" already present on machine and can be accessed by the pod'
    )
    assert rows[2][4] == "Created container: c" and rows[3][4] == "Started container c"
    events = kubectl.json("get", "events", "--field-selector", f"involvedObject.name={name}")
    started = next(e for e in events["items"] if e["reason"] == "Started")
    assert started["involvedObject"]["fieldPath"] == "spec.containers{c}"
    assert started["source"] == {"component": "kubelet", "host": node}
    assert started["count"] == 1 and started["firstTimestamp"] == started["lastTimestamp"]


def test_kubectl_describe_shows_workload_events(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=STATEFULSET.replace("replicas: 3", "replicas: 2"))
    kubectl.run("rollout", "status", "statefulset/db", "--timeout=60s")
    rows = _described_events(kubectl, "statefulset", "db")
    assert [(r[1], r[3], r[4]) for r in rows] == [
        (
            "SuccessfulCreate",
            "statefulset-controller",
            f"create Pod db-{i} in StatefulSet db successful",
        )
        for i in range(2)
    ]
    kubectl.run("apply", "-f", "-", stdin=DAEMONSET)
    kubectl.run("rollout", "status", "daemonset/agent", "--timeout=60s")
    rows = _described_events(kubectl, "daemonset", "agent")
    assert rows and all(r[1] == "SuccessfulCreate" and r[3] == "daemonset-controller" for r in rows)
    kubectl.run("apply", "-f", "-", stdin=JOB.format(name="once", completions=1, script="true"))
    kubectl.run("wait", "--for=condition=complete", "job/once", "--timeout=60s")

    def job_rows() -> list[list[str]] | None:
        found = _described_events(kubectl, "job", "once")
        return found if len(found) == 2 else None

    rows = eventually(job_rows, "the job's two events")
    assert [r[1] for r in rows] == ["SuccessfulCreate", "Completed"]
    assert all(r[3] == "job-controller" for r in rows)
    assert rows[1][4] == "Job completed"
