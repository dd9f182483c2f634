"""kubectl against a server started from the real 1.35 OpenAPI v3 documents and one CRD only (no
discovery documents), judging kgen.testing's exact responses (issue 12)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.rest import Config, RESTClient
from kgen.testing import APIServer
from tests.testing.test_kubectl import _VERSIONED, VERSIONS, Kubectl, _binary

pytestmark = pytest.mark.kubectl


@pytest.fixture(scope="module")
def cluster(
    specs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[APIServer, Path]]:
    if shutil.which("kubectl") is None and not _VERSIONED.exists():
        pytest.skip("kubectl is not installed")
    server = APIServer(
        specs=[
            specs_dir / "kubernetes" / "v1.35" / "openapi-v3",
            specs_dir / "crds" / "gateway-api" / "gateway.networking.k8s.io_gatewayclasses.yaml",
        ],
        tls="self-signed",
    )
    with server:
        yield server, server.write_kubeconfig(tmp_path_factory.mktemp("kubectl") / "config")


@pytest.fixture(params=VERSIONS, scope="module")
def kubectl(
    request: pytest.FixtureRequest,
    cluster: tuple[APIServer, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Kubectl:
    version = str(request.param)
    tool = Kubectl(_binary(version), cluster[1], "default", tmp_path_factory.mktemp("cache"))
    namespace = "responses-" + version.replace(".", "-")
    tool.run("create", "namespace", namespace)
    tool.namespace = namespace
    return tool


@pytest.fixture(scope="module")
def rest(cluster: tuple[APIServer, Path]) -> Iterator[RESTClient]:
    server = cluster[0]
    config = Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem or b"")
    with RESTClient(config) as client:
        yield client


OBJECTS: dict[str, dict[str, Any]] = {
    "pod": {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    },
    "service": {"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}},
    "serviceaccount": {"apiVersion": "v1", "kind": "ServiceAccount"},
    "storageclass": {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "provisioner": "example.com/disk",
    },
    "configmap": {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}},
}
"""One object of each kind the test deletes; names are filled in."""

PATHS = {
    "pod": ("", "v1", "pods", True),
    "service": ("", "v1", "services", True),
    "serviceaccount": ("", "v1", "serviceaccounts", True),
    "storageclass": ("storage.k8s.io", "v1", "storageclasses", False),
    "configmap": ("", "v1", "configmaps", True),
}


def _create(kubectl: Kubectl, kind: str, name: str) -> None:
    manifest = {**OBJECTS[kind], "metadata": {"name": name}}
    kubectl.run("create", "-f", "-", stdin=json.dumps(manifest))


@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_delete_bodies_per_kind(kubectl: Kubectl, rest: RESTClient, kind: str) -> None:
    name = f"{kind[:4]}-{kubectl.namespace.rsplit('-', 1)[-1]}"
    _create(kubectl, kind, name)
    out = kubectl.run("delete", kind, name).stdout
    assert out.startswith(kind) and f'"{name}" deleted' in out
    _create(kubectl, kind, name)
    group, version, plural, namespaced = PATHS[kind]
    request = rest.delete().group_version(group, version).resource(plural).name(name)
    if namespaced:
        request = request.namespace(kubectl.namespace)
    body = request.do().json()
    if kind == "configmap":
        assert body["kind"] == "Status" and body["status"] == "Success"
        assert body["details"]["name"] == name and body["details"]["kind"] == "configmaps"
    else:
        assert body["kind"] == OBJECTS[kind]["kind"]
        assert body["metadata"]["name"] == name
    if kind == "pod":
        assert body["metadata"]["deletionGracePeriodSeconds"] == 0
        assert body["metadata"]["deletionTimestamp"]
    assert kubectl.run("get", kind, name, check=False).returncode != 0


def test_crd_create_answers_established_and_kubectl_wait_sees_it(
    kubectl: Kubectl, specs_dir: Path
) -> None:
    manifest = specs_dir / "crds" / "gateway-api" / "gateway.networking.k8s.io_grpcroutes.yaml"
    name = "grpcroutes.gateway.networking.k8s.io"
    kubectl.run("delete", "crd", name, "--ignore-not-found")
    created = json.loads(kubectl.run("create", "-f", str(manifest), "-o", "json").stdout)
    conditions = {c["type"]: c["status"] for c in created["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert created["status"]["acceptedNames"]["kind"] == "GRPCRoute"
    assert created["status"]["storedVersions"]
    waited = kubectl.run(
        "wait",
        "--for",
        "condition=established",
        f"customresourcedefinition/{name}",
        "--timeout=20s",
    )
    assert "condition met" in waited.stdout


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
        },
    },
}


def test_short_names_and_categories_without_discovery_documents(kubectl: Kubectl) -> None:
    resources = kubectl.run("api-resources").stdout.splitlines()[1:]
    columns = {line.split()[0]: line.split() for line in resources}
    assert columns["pods"][1] == "po" and columns["deployments"][1] == "deploy"
    assert columns["customresourcedefinitions"][1] == "crd,crds"
    namespaces = kubectl.run("get", "ns", "-o", "name").stdout.split()
    assert f"namespace/{kubectl.namespace}" in namespaces and "namespace/default" in namespaces
    kubectl.run("create", "-f", "-", stdin=json.dumps(DEPLOYMENT))
    _create(kubectl, "pod", "lone")
    _create(kubectl, "service", "front")
    assert kubectl.run("get", "deploy", "-o", "name").stdout.split() == ["deployment.apps/web"]
    assert kubectl.run("get", "po", "-o", "name").stdout.split() == ["pod/lone"]
    scaled = kubectl.run("scale", "deploy/web", "--replicas=2").stdout
    assert "deployment.apps/web scaled" in scaled
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 2
    everything = kubectl.run("get", "all", "-o", "name").stdout.split()
    assert {"pod/lone", "service/front", "deployment.apps/web"} <= set(everything)
    assert not any(name.startswith("configmap/") for name in everything)


def test_a_crds_short_names_and_categories_come_from_the_crd(kubectl: Kubectl) -> None:
    suffix = kubectl.namespace.rsplit("-", 1)[-1]
    gateway_class = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": f"example-{suffix}"},
        "spec": {"controllerName": "example.com/gateway"},
    }
    kubectl.run("create", "-f", "-", stdin=json.dumps(gateway_class))
    by_short_name = kubectl.run("get", "gc", "-o", "name").stdout.split()
    by_category = kubectl.run("get", "gateway-api", "-o", "name").stdout.split()
    expected = f"gatewayclass.gateway.networking.k8s.io/example-{suffix}"
    assert expected in by_short_name and expected in by_category
