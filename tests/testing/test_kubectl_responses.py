"""kubectl against a server started from the real 1.35 OpenAPI v3 documents only (no discovery
documents), judging kgen.testing's exact responses (issue 12)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

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
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
        tls=(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()),
        ca_pem=ca.cert_pem.bytes(),
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
    kubectl.run("delete", "customresourcedefinitions", name, "--ignore-not-found")
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
