"""The server on real CRDs, and the ``kgen testserver`` command driven by kubectl."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kgen.testing import APIServer


@pytest.fixture(scope="module")
def crd_server(specs_dir: Path) -> Iterator[APIServer]:
    crds = sorted(p for p in (specs_dir / "crds").rglob("*.yaml"))
    with APIServer(specs=crds) as server:
        yield server


def _session(server: APIServer) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {server.token}"
    return session


def test_all_real_crds_are_served(crd_server: APIServer) -> None:
    with _session(crd_server) as session:
        groups = {
            g["name"] for g in session.get(crd_server.url + "/apis", timeout=10).json()["groups"]
        }
        assert {
            "cert-manager.io",
            "gateway.networking.k8s.io",
            "monitoring.coreos.com",
            "argoproj.io",
        } <= groups
        resources = session.get(
            crd_server.url + "/apis/gateway.networking.k8s.io/v1", timeout=10
        ).json()
        names = {r["name"] for r in resources["resources"]}
        assert {"gateways", "gateways/status", "gatewayclasses", "httproutes"} <= names
        index = session.get(crd_server.url + "/openapi/v3", timeout=10).json()["paths"]
        url = index["apis/gateway.networking.k8s.io/v1"]["serverRelativeURL"]
        document = session.get(crd_server.url + url, timeout=10).json()
        assert any(name.endswith("Gateway") for name in document["components"]["schemas"])


def test_custom_resource_lifecycle_with_status_and_pruning(crd_server: APIServer) -> None:
    base = crd_server.url + "/apis/gateway.networking.k8s.io/v1"
    gateway = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "gw"},
        "spec": {
            "gatewayClassName": "example",
            "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
            "bogus": 1,
        },
        "status": {"conditions": []},
    }
    with _session(crd_server) as session:
        created = session.post(f"{base}/namespaces/default/gateways", json=gateway, timeout=10)
        assert created.status_code == 201, created.text
        body = created.json()
        assert "bogus" not in body["spec"] and "status" not in body
        assert created.headers["Warning"] == '299 - "unknown field \\"spec.bogus\\""'
        body["status"] = {
            "conditions": [
                {
                    "type": "Accepted",
                    "status": "True",
                    "reason": "Ok",
                    "message": "",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                }
            ]
        }
        status = session.put(f"{base}/namespaces/default/gateways/gw/status", json=body, timeout=10)
        assert (
            status.status_code == 200
            and status.json()["status"]["conditions"][0]["type"] == "Accepted"
        )
        strict = session.post(
            f"{base}/namespaces/default/gateways",
            params={"fieldValidation": "Strict"},
            json={**gateway, "metadata": {"name": "gw2"}},
            timeout=10,
        )
        assert strict.status_code == 400
        assert strict.json()["message"] == 'strict decoding error: unknown field "spec.bogus"'


def test_bad_bodies_get_clear_errors(crd_server: APIServer) -> None:
    base = crd_server.url + "/apis/cert-manager.io/v1/namespaces/default/issuers"
    with _session(crd_server) as session:
        malformed = session.post(
            base, data=b"{not json", headers={"Content-Type": "application/json"}, timeout=10
        )
        assert malformed.status_code == 400 and "not valid JSON" in malformed.json()["message"]
        bad_yaml = session.post(
            base, data=b"a: [", headers={"Content-Type": "application/yaml"}, timeout=10
        )
        assert bad_yaml.status_code == 400 and "YAML" in bad_yaml.json()["message"]
        wrong_kind = session.post(
            base,
            json={
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": "x"},
            },
            timeout=10,
        )
        assert wrong_kind.status_code == 400
        assert (
            wrong_kind.json()["message"]
            == "the kind in the data (Certificate) does not match the expected kind (Issuer)"
        )
        wrong_version = session.post(
            base, json={"apiVersion": "v1", "kind": "Issuer", "metadata": {"name": "x"}}, timeout=10
        )
        assert (
            "does not match the expected API version (cert-manager.io/v1)"
            in wrong_version.json()["message"]
        )
        bad_name = session.post(base, json={"metadata": {"name": "UPPER"}}, timeout=10)
        assert bad_name.status_code == 422
        assert bad_name.json()["details"]["causes"][0]["field"] == "metadata.name"
        bad_label = session.post(
            base, json={"metadata": {"name": "ok", "labels": {"bad key!": "v"}}}, timeout=10
        )
        assert bad_label.status_code == 422 and "invalid label key" in bad_label.json()["message"]
        huge = session.post(base, data=b" " * (3 * 1024 * 1024 + 1), timeout=10)
        assert huge.status_code == 413
        assert session.get(base, timeout=10).json()["items"] == []


def _kubectl() -> str:
    candidate = Path("/usr/lib/google-cloud-sdk/bin/kubectl.1.33")
    if not candidate.exists():
        pytest.skip("kubectl 1.33 is not installed")
    return str(candidate)


@pytest.mark.kubectl
def test_testserver_command_serves_kubectl_and_stops_on_ctrl_c(
    specs_dir: Path, tmp_path: Path
) -> None:
    kubectl = _kubectl()
    kubeconfig = tmp_path / "kubeconfig"
    crd = specs_dir / "crds" / "cert-manager" / "cert-manager.crds.yaml"
    command = [
        sys.executable,
        "-m",
        "kgen",
        "testserver",
        "--spec",
        str(crd),
        "--kubeconfig-out",
        str(kubeconfig),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("kgen test API server listening on http://127.0.0.1:")
        while "press Ctrl-C" not in process.stdout.readline():
            pass
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
        issuer = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: selfsigned\nspec:\n  selfSigned: {}\n"
        created = subprocess.run(
            [kubectl, f"--cache-dir={tmp_path}/cache", "create", "-f", "-"],
            input=issuer,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert (
            created.stdout.strip() == "clusterissuer.cert-manager.io/selfsigned created"
        ), created.stderr
        got = subprocess.run(
            [kubectl, f"--cache-dir={tmp_path}/cache", "get", "clusterissuers", "-o", "name"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert got.stdout.strip() == "clusterissuer.cert-manager.io/selfsigned"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped")


def test_testserver_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    done = subprocess.run(
        [sys.executable, "-m", "kgen", "testserver", "--spec", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "bad.yaml" in done.stderr


def test_schema_types_required_fields_and_defaults(crd_server: APIServer) -> None:
    base = crd_server.url + "/apis/gateway.networking.k8s.io/v1/namespaces/default"
    with _session(crd_server) as session:
        no_class = session.post(
            f"{base}/gateways",
            json={"metadata": {"name": "g"}, "spec": {"listeners": []}},
            timeout=10,
        )
        assert no_class.status_code == 422
        assert {
            "field": "spec.gatewayClassName",
            "reason": "FieldValueRequired",
            "message": "Required value",
        } in no_class.json()["details"]["causes"]
        wrong_type = session.post(
            f"{base}/gateways",
            json={
                "metadata": {"name": "g"},
                "spec": {
                    "gatewayClassName": 7,
                    "listeners": [{"name": "l", "port": 80, "protocol": "HTTP"}],
                },
            },
            timeout=10,
        )
        assert wrong_type.status_code == 422
        assert (
            'spec.gatewayClassName: Invalid value: "integer": spec.gatewayClassName in body must be of type string: "integer"'
            in wrong_type.json()["message"]
        )
        route = session.post(
            f"{base}/httproutes",
            json={"metadata": {"name": "r"}, "spec": {"parentRefs": [{"name": "gw"}]}},
            timeout=10,
        )
        assert route.status_code == 201, route.text
        parent = route.json()["spec"]["parentRefs"][0]
        assert parent["group"] == "gateway.networking.k8s.io" and parent["kind"] == "Gateway"


def test_swagger_v2_input_is_served_as_given(specs_dir: Path) -> None:
    swagger = specs_dir / "kubernetes" / "v1.30" / "swagger.json"
    with APIServer(specs=[swagger]) as server, _session(server) as session:
        assert session.get(server.url + "/openapi/v2", timeout=30).content == swagger.read_bytes()
        pod = {
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
        created = session.post(server.url + "/api/v1/namespaces/default/pods", json=pod, timeout=10)
        assert created.status_code == 201, created.text
        assert created.json()["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
        container = created.json()["spec"]["containers"][0]
        assert (
            container["imagePullPolicy"] == "Always"
            and container["terminationMessagePolicy"] == "File"
        )
        assert created.json()["spec"]["restartPolicy"] == "Always"
        apps = session.get(server.url + "/apis/apps/v1", timeout=10).json()
        assert {"deployments", "deployments/scale", "deployments/status"} <= {
            r["name"] for r in apps["resources"]
        }


def test_crd_printer_columns_and_scale_paths(crd_server: APIServer) -> None:
    table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    base = crd_server.url + "/apis/cert-manager.io/v1/namespaces/default/certificates"
    certificate = {
        "metadata": {"name": "web"},
        "spec": {"secretName": "web-tls", "issuerRef": {"name": "ca"}, "dnsNames": ["example.com"]},
    }
    with _session(crd_server) as session:
        created = session.post(base, json=certificate, timeout=10).json()
        created["status"] = {"conditions": [{"type": "Ready", "status": "True", "message": "ok"}]}
        session.put(f"{base}/web/status", json=created, timeout=10)
        table = session.get(base, headers={"Accept": table_accept}, timeout=10).json()
        names = [c["name"] for c in table["columnDefinitions"]]
        assert names == ["Name", "Ready", "Secret", "Issuer", "Status", "Age"]
        assert table["rows"][0]["cells"][:5] == ["web", "True", "web-tls", "ca", "ok"]
        shards = crd_server.url + "/apis/monitoring.coreos.com/v1/namespaces/default/prometheuses"
        prometheus = {"metadata": {"name": "p"}, "spec": {"shards": 2}}
        assert session.post(shards, json=prometheus, timeout=10).status_code == 201
        scale = session.get(f"{shards}/p/scale", timeout=10).json()
        assert scale["spec"]["replicas"] == 2
        scale["spec"]["replicas"] = 5
        assert session.put(f"{shards}/p/scale", json=scale, timeout=10).status_code == 200
        assert session.get(f"{shards}/p", timeout=10).json()["spec"]["shards"] == 5


def test_crd_created_at_run_time_is_served_and_removed(specs_dir: Path) -> None:
    import yaml

    v3 = specs_dir / "kubernetes" / "v1.35" / "openapi-v3"
    crd = yaml.safe_load(
        (
            specs_dir / "crds" / "gateway-api" / "gateway.networking.k8s.io_gatewayclasses.yaml"
        ).read_text()
    )
    with APIServer(specs=[v3]) as server, _session(server) as session:
        crds = server.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        classes = server.url + "/apis/gateway.networking.k8s.io/v1/gatewayclasses"
        assert session.get(classes, timeout=10).status_code == 404
        assert session.post(crds, json=crd, timeout=10).status_code == 201
        stored = session.get(f"{crds}/{crd['metadata']['name']}", timeout=10).json()
        established = {c["type"]: c["status"] for c in stored["status"]["conditions"]}
        assert established == {"NamesAccepted": "True", "Established": "True"}
        gateway_class = {
            "metadata": {"name": "example"},
            "spec": {"controllerName": "example.com/gateway"},
        }
        assert session.post(classes, json=gateway_class, timeout=10).status_code == 201
        groups = session.get(server.url + "/apis", timeout=10).json()["groups"]
        assert "gateway.networking.k8s.io" in {g["name"] for g in groups}
        index = session.get(server.url + "/openapi/v3", timeout=10).json()["paths"]
        assert "apis/gateway.networking.k8s.io/v1" in index
        assert session.delete(f"{crds}/{crd['metadata']['name']}", timeout=10).status_code == 200
        assert session.get(classes, timeout=10).status_code == 404
        groups = session.get(server.url + "/apis", timeout=10).json()["groups"]
        assert "gateway.networking.k8s.io" not in {g["name"] for g in groups}


def test_crds_given_at_start_are_listed_as_objects(specs_dir: Path) -> None:
    v3 = specs_dir / "kubernetes" / "v1.35" / "openapi-v3"
    crds = specs_dir / "crds" / "cert-manager" / "cert-manager.crds.yaml"
    with APIServer(specs=[v3, crds]) as server, _session(server) as session:
        listed = session.get(
            server.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", timeout=10
        ).json()
        names = {item["metadata"]["name"] for item in listed["items"]}
        assert "certificates.cert-manager.io" in names and len(names) == 6
        assert all(
            {c["type"]: c["status"] for c in item["status"]["conditions"]}["Established"] == "True"
            for item in listed["items"]
        )
        certificates = server.url + "/apis/cert-manager.io/v1/namespaces/default/certificates"
        assert session.get(certificates, timeout=10).status_code == 200


def test_custom_resources_refuse_strategic_merge_patch(crd_server: APIServer) -> None:
    """As kube-apiserver: a custom resource has no patch strategies, so a strategic merge patch
    gets 415 naming the patch types it takes; JSON and merge patches work."""
    base = crd_server.url + "/apis/cert-manager.io/v1/namespaces/default/issuers"
    issuer = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "smp", "labels": {"a": "1"}},
        "spec": {"selfSigned": {}},
    }
    with _session(crd_server) as session:
        assert session.post(base, json=issuer, timeout=10).status_code == 201
        patch = {"metadata": {"labels": {"b": "2"}}}
        strategic = session.patch(
            f"{base}/smp",
            json=patch,
            headers={"Content-Type": "application/strategic-merge-patch+json"},
            timeout=10,
        )
        assert strategic.status_code == 415
        status = strategic.json()
        assert status["reason"] == "UnsupportedMediaType"
        assert "application/merge-patch+json" in status["message"]
        assert "application/strategic-merge-patch+json;" not in status["message"]
        merged = session.patch(
            f"{base}/smp",
            json=patch,
            headers={"Content-Type": "application/merge-patch+json"},
            timeout=10,
        )
        assert merged.status_code == 200
        assert merged.json()["metadata"]["labels"] == {"a": "1", "b": "2"}
