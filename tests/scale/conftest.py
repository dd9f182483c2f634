"""One HTTPS API server (certificates from kgen.cert) for the kgen.scale tests: Kubernetes
1.30 with the Prometheus CRD (a custom resource whose scale subresource reads
``.spec.shards``), a REST client trusting its CA, and the workloads every test scales."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from client.wire import no_leaked_threads  # noqa: F401 - autouse fixture

from kgen.cert import generate_self_signed_ca, generate_serving_cert
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer


@pytest.fixture(scope="session")
def scale_server(specs_dir: Path) -> Iterator[APIServer]:
    ca = generate_self_signed_ca("kgen-scale-tests")
    leaf = generate_serving_cert(ca, "127.0.0.1", alternate_dns=["localhost"])
    server = APIServer(
        specs=[
            specs_dir / "kubernetes" / "v1.30" / "swagger.json",
            specs_dir / "crds" / "prometheus-operator" / "monitoring.coreos.com_prometheuses.yaml",
        ],
        tls=(leaf.cert_pem, leaf.key_pem),
        ca_pem=ca.cert_pem,
    )
    with server:
        yield server


@pytest.fixture
def rest(scale_server: APIServer) -> Iterator[RESTClient]:
    config = Config(
        host=scale_server.url,
        bearer_token=scale_server.token,
        ca_data=scale_server.ca_pem or b"",
        qps=-1,
    )
    with RESTClient(config) as client:
        yield client


def _pod_template(app: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.25"}]},
    }


def workload(kind: str, name: str, replicas: int) -> dict[str, Any]:
    """A valid manifest of ``kind`` (Deployment, StatefulSet, ReplicaSet,
    ReplicationController or Prometheus) with ``replicas`` (shards for Prometheus)."""
    meta = {"name": name, "labels": {"app": name}}
    if kind == "Prometheus":
        return {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": kind,
            "metadata": meta,
            "spec": {"shards": replicas},
        }
    if kind == "ReplicationController":
        spec: dict[str, Any] = {"replicas": replicas, "selector": {"app": name}}
        return {"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": spec}
    spec = {"replicas": replicas, "selector": {"matchLabels": {"app": name}}}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    spec["template"] = _pod_template(name)
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}
