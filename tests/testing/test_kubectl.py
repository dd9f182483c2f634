"""kubectl as the judge: the oldest and newest kubectl here against the server started from the real 1.35
OpenAPI v3 documents (plus discovery for short names), over TLS with a bearer token."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kgen.testing import APIServer

pytestmark = pytest.mark.kubectl

_VERSIONED = Path("/usr/lib/google-cloud-sdk/bin")
VERSIONS = os.environ.get("KGEN_KUBECTL_VERSIONS", "1.27,1.33").split(",")
"""The kubectl versions to judge with (set KGEN_KUBECTL_VERSIONS=1.27,1.28,... for more)."""


def _binary(version: str) -> str:
    candidate = _VERSIONED / f"kubectl.{version}"
    if candidate.exists():
        return str(candidate)
    pytest.skip(f"kubectl {version} is not installed at {candidate}")


@pytest.fixture(scope="module")
def cluster(
    specs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[APIServer, Path]]:
    if shutil.which("kubectl") is None and not _VERSIONED.exists():
        pytest.skip("kubectl is not installed")
    discovery = specs_dir / "kubernetes" / "discovery"
    server = APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
        discovery=[discovery / "api__v1.json", discovery / "aggregated_v2.json"],
        tls="self-signed",
    )
    folder = tmp_path_factory.mktemp("kubectl")
    with server:
        yield server, server.write_kubeconfig(folder / "kubeconfig")


class Kubectl:
    """One kubectl binary bound to the server, in its own namespace and cache folder."""

    def __init__(self, binary: str, kubeconfig: Path, namespace: str, cache: Path) -> None:
        self.binary = binary
        self.namespace = namespace
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(cache)}
        self.cache = cache

    def argv(self, *args: str) -> list[str]:
        return [self.binary, f"--cache-dir={self.cache}", "-n", self.namespace, *args]

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.argv(*args), input=stdin, capture_output=True, text=True, env=self.env, timeout=60
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
            )
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture(params=VERSIONS, scope="module")
def kubectl(
    request: pytest.FixtureRequest,
    cluster: tuple[APIServer, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Kubectl:
    _server, kubeconfig = cluster
    version = str(request.param)
    namespace = "kubectl-" + version.replace(".", "-")
    tool = Kubectl(_binary(version), kubeconfig, "default", tmp_path_factory.mktemp("cache"))
    tool.run(
        "create",
        "-f",
        "-",
        stdin=json.dumps(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        ),
    )
    tool.namespace = namespace
    return tool


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
"""


def _manifest(text: str, **spec: Any) -> str:
    doc = yaml.safe_load(text)
    doc["spec"].update(spec)
    return yaml.safe_dump(doc)


def test_api_resources(kubectl: Kubectl) -> None:
    out = kubectl.run("api-resources").stdout
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert lines["deployments"][1:] == ["deploy", "apps/v1", "true", "Deployment"]
    assert lines["pods"][1:] == ["po", "v1", "true", "Pod"]
    assert lines["namespaces"][1:] == ["ns", "v1", "false", "Namespace"]
    namespaced = kubectl.run("api-resources", "--namespaced=false", "-o", "name").stdout.split()
    assert "nodes" in namespaced and "pods" not in namespaced


def test_create_get_and_output_formats(kubectl: Kubectl) -> None:
    assert (
        kubectl.run("create", "-f", "-", stdin=DEPLOYMENT).stdout.strip()
        == "deployment.apps/web created"
    )
    table = kubectl.run("get", "deploy").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:4] == ["web", "0/2", "0", "0"]
    wide = kubectl.run("get", "deploy", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[5:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1].split()[5:] == ["nginx", "nginx:1.25", "app=web"]
    obj = kubectl.json("get", "deployment", "web")
    assert obj["spec"]["replicas"] == 2 and obj["metadata"]["namespace"] == kubectl.namespace
    assert obj["spec"]["strategy"]["type"] == "RollingUpdate"  # defaulted, as on a real cluster
    assert obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    as_yaml = yaml.safe_load(kubectl.run("get", "deploy/web", "-o", "yaml").stdout)
    assert as_yaml["metadata"]["uid"] == obj["metadata"]["uid"]
    again = kubectl.run("create", "-f", "-", stdin=DEPLOYMENT, check=False)
    assert again.returncode == 1
    assert 'deployments.apps "web" already exists' in again.stderr
    missing = kubectl.run("get", "deploy", "nope", check=False)
    assert 'deployments.apps "nope" not found' in missing.stderr


REPLICASET = """
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: sel}
spec:
  replicas: 0
  selector:
    matchLabels: {app: sel}
    matchExpressions:
    - {key: tier, operator: In, values: [web, api]}
    - {key: canary, operator: DoesNotExist}
  template:
    metadata:
      labels: {app: sel, tier: web}
    spec:
      containers: [{name: c, image: busybox}]
"""

CRONJOB = """
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
"""


def test_wide_selector_columns_are_kubes_formatted_label_selectors(kubectl: Kubectl) -> None:
    kubectl.run("create", "-f", "-", stdin=REPLICASET)
    kubectl.run("create", "-f", "-", stdin=CRONJOB)
    rs = kubectl.run("get", "rs", "sel", "-o", "wide").stdout.splitlines()
    assert rs[0].split()[-1] == "SELECTOR"
    # requirements sorted by key, set values sorted, as metav1.FormatLabelSelector prints them
    assert rs[1].endswith(" app=sel,!canary,tier in (api,web)")
    cron = kubectl.run("get", "cronjob", "nightly", "-o", "wide").stdout.splitlines()
    assert cron[0].split()[-1] == "SELECTOR"
    assert cron[1].split()[-1] == "<none>"  # the job template's selector, unset here


def test_client_side_apply(kubectl: Kubectl) -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: '1'\n"
    assert kubectl.run("apply", "-f", "-", stdin=cm).stdout.strip() == "configmap/applied created"
    assert kubectl.run("apply", "-f", "-", stdin=cm).stdout.strip() == "configmap/applied unchanged"
    changed = cm.replace("a: '1'", "b: '2'")
    assert (
        kubectl.run("apply", "-f", "-", stdin=changed).stdout.strip()
        == "configmap/applied configured"
    )
    obj = kubectl.json("get", "cm", "applied")
    assert obj["data"] == {"b": "2"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]


def test_server_side_apply_conflicts_and_force(kubectl: Kubectl) -> None:
    name = "ssa"
    manifest = DEPLOYMENT.replace("name: web", f"name: {name}", 1)
    first = kubectl.run("apply", "--server-side", "-f", "-", stdin=manifest)
    assert first.stdout.strip() == f"deployment.apps/{name} serverside-applied"
    kubectl.run("scale", f"deploy/{name}", "--replicas=5")
    clash = kubectl.run(
        "apply", "--server-side", "-f", "-", stdin=_manifest(manifest, replicas=3), check=False
    )
    assert clash.returncode == 1
    assert "Apply failed with 1 conflict" in clash.stderr and ".spec.replicas" in clash.stderr
    kubectl.run(
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        "-",
        stdin=_manifest(manifest, replicas=3),
    )
    obj = kubectl.json("get", "deploy", name, "--show-managed-fields")
    assert obj["spec"]["replicas"] == 3
    managers = {(m["manager"], m["operation"]) for m in obj["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers


def test_patch_types(kubectl: Kubectl) -> None:
    kubectl.run("create", "-f", "-", stdin=DEPLOYMENT.replace("name: web", "name: patched", 1))
    kubectl.run("patch", "deploy", "patched", "--type", "merge", "-p", '{"spec":{"replicas":4}}')
    kubectl.run(
        "patch",
        "deploy",
        "patched",
        "--type",
        "json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":6}]',
    )
    sidecar = '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}'
    kubectl.run("patch", "deploy", "patched", "--type", "strategic", "-p", sidecar)
    obj = kubectl.json("get", "deploy", "patched")
    assert obj["spec"]["replicas"] == 6
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == [
        "nginx",
        "sidecar",
    ]
    bad = kubectl.run(
        "patch",
        "deploy",
        "patched",
        "--type",
        "json",
        "-p",
        '[{"op":"remove","path":"/nope"}]',
        check=False,
    )
    assert bad.returncode == 1


def test_delete_and_wait(kubectl: Kubectl) -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: doomed\n"
    kubectl.run("create", "-f", "-", stdin=cm)
    kubectl.run("annotate", "cm", "doomed", "ready=yes")
    met = kubectl.run(
        "wait", "--for=jsonpath={.metadata.annotations.ready}=yes", "cm/doomed", "--timeout=10s"
    )
    assert "condition met" in met.stdout
    assert kubectl.run("delete", "cm", "doomed").stdout.strip() == 'configmap "doomed" deleted'
    gone = kubectl.run("wait", "--for=delete", "cm/doomed", "--timeout=5s", check=False)
    assert gone.returncode == 0, gone.stderr
    assert "NotFound" in kubectl.run("get", "cm", "doomed", check=False).stderr


def test_get_watch(kubectl: Kubectl) -> None:
    kubectl.run(
        "create", "-f", "-", stdin="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\n"
    )
    watcher = subprocess.Popen(
        kubectl.argv("get", "cm", "watched", "-w", "-o", "name"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=kubectl.env,
    )
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline().strip() == "configmap/watched"
        kubectl.run("label", "cm", "watched", "seen=yes")
        assert watcher.stdout.readline().strip() == "configmap/watched"
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
        if watcher.stdout:
            watcher.stdout.close()
        if watcher.stderr:
            watcher.stderr.close()


def test_explain(kubectl: Kubectl) -> None:
    out = kubectl.run("explain", "deployment.spec.replicas").stdout
    assert "KIND:" in out and "Deployment" in out
    assert "replicas" in out and "integer" in out


def test_bad_input_is_reported(kubectl: Kubectl) -> None:
    bad_name = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n"
    result = kubectl.run("create", "-f", "-", stdin=bad_name, check=False)
    assert result.returncode == 1
    assert 'ConfigMap "Bad_Name" is invalid' in result.stderr
    unknown = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\nbogus: 1\n"
    strict = kubectl.run("create", "-f", "-", stdin=unknown, check=False)
    assert strict.returncode == 1 and 'unknown field "bogus"' in strict.stderr


def test_imperative_commands_send_protobuf(kubectl: Kubectl) -> None:
    kubectl.run("create", "configmap", "literal", "--from-literal=a=b", "--from-literal=c=d")
    assert kubectl.json("get", "cm", "literal")["data"] == {"a": "b", "c": "d"}
    kubectl.run("create", "secret", "generic", "pw", "--from-literal=pw=hunter2")
    secret = kubectl.json("get", "secret", "pw")
    assert secret["data"] == {"pw": "aHVudGVyMg=="} and secret["type"] == "Opaque"
    kubectl.run("create", "serviceaccount", "robot")
    assert kubectl.json("get", "sa", "robot")["metadata"]["name"] == "robot"
    assert kubectl.run("auth", "can-i", "delete", "pods").stdout.strip() == "yes"
    namespace = f"{kubectl.namespace}-extra"
    assert (
        kubectl.run("create", "namespace", namespace).stdout.strip()
        == f"namespace/{namespace} created"
    )
    created = kubectl.json("get", "namespace", namespace)
    assert created["status"]["phase"] == "Active" and "generation" not in created["metadata"]


def test_crd_installed_at_run_time(kubectl: Kubectl, specs_dir: Path) -> None:
    crd = specs_dir / "crds" / "gateway-api" / "gateway.networking.k8s.io_gatewayclasses.yaml"
    name = "gatewayclasses.gateway.networking.k8s.io"
    kubectl.run("apply", "-f", str(crd))
    met = kubectl.run("wait", "--for", "condition=established", f"crd/{name}", "--timeout=10s")
    assert "condition met" in met.stdout
    assert kubectl.run("get", "crd").stdout.splitlines()[0].split() == ["NAME", "CREATED", "AT"]
    gateway_class = "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: ex\nspec:\n  controllerName: example.com/gw\n"
    kubectl.run("apply", "-f", "-", stdin=gateway_class)
    table = kubectl.run("get", "gatewayclasses").stdout.splitlines()
    assert table[0].split() == ["NAME", "CONTROLLER", "ACCEPTED", "AGE"]
    assert table[1].split()[:2] == ["ex", "example.com/gw"]
    kubectl.run("delete", "crd", name)
    assert "NotFound" in kubectl.run("get", "gatewayclasses", check=False).stderr


def test_kubectl_asks_for_a_table_and_gets_one(kubectl: Kubectl) -> None:
    kubectl.run(
        "create", "-f", "-", stdin="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: printed\n"
    )
    verbose = kubectl.run("get", "cm", "printed", "-v=8")
    log = verbose.stderr.replace('\\"', '"')  # newer kubectl logs bodies as quoted strings
    assert "as=Table;v=v1;g=meta.k8s.io" in log  # what kubectl asks for
    assert '"kind":"Table","apiVersion":"meta.k8s.io/v1"' in log  # what it got
    assert verbose.stdout.split()[:4] == ["NAME", "DATA", "AGE", "printed"]
    # without server-side printing kubectl asks for the objects themselves
    plain = kubectl.run("get", "cm", "printed", "--server-print=false", "-v=8")
    assert "as=Table" not in plain.stderr
    assert '"kind":"ConfigMap"' in plain.stderr.replace('\\"', '"')
    assert plain.stdout.split()[:3] == ["NAME", "AGE", "printed"]  # kubectl's own printer
    assert kubectl.run("get", "cm", "printed", "-o", "name").stdout.strip() == "configmap/printed"


def test_get_events_prints_kubes_event_columns(kubectl: Kubectl) -> None:
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.1"},
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{c}"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container  ",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2020-01-01T00:00:00Z",
        "lastTimestamp": "2020-01-01T00:00:00Z",
        "count": 4,
    }
    kubectl.run("create", "-f", "-", stdin=json.dumps(event))
    table = kubectl.run("get", "events").stdout.splitlines()
    assert table[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    row = table[1].split()
    assert row[1:4] == ["Warning", "BackOff", "pod/web"]
    assert table[1].endswith("Back-off restarting failed container")  # trimmed
    wide = kubectl.run("get", "events", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-7:] == [
        "SUBOBJECT",
        "SOURCE",
        "MESSAGE",
        "FIRST",
        "SEEN",
        "COUNT",
        "NAME",
    ]
    assert wide[1].split()[-2:] == ["4", "web.1"]
    assert wide[1].split()[0] == wide[1].split()[-3]  # last seen = first seen: one timestamp
    assert "spec.containers{c}" in wide[1] and "kubelet, node-1" in wide[1]
    assert kubectl.run("get", "events", "-o", "name").stdout.strip() == "event/web.1"
