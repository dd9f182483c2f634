"""A TLS test server on the real 1.35 OpenAPI documents, and pods to exec into."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

from kgen.client import GroupVersionResource, ResourceClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer

PODS = GroupVersionResource("", "v1", "pods")
_names = itertools.count()


@pytest.fixture(scope="module")
def server(specs_dir: Any) -> Iterator[APIServer]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
        tls=(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()),
        ca_pem=ca.cert_pem.bytes(),
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_handlers(server: APIServer) -> Iterator[None]:
    yield
    server.containers.clear()


@pytest.fixture(scope="module")
def rest(server: APIServer) -> Iterator[RESTClient]:
    assert server.ca_pem is not None
    config = Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem)
    with RESTClient(config) as client:
        yield client


@pytest.fixture
def pods(rest: RESTClient) -> ResourceClient[dict[str, Any], dict[str, Any]]:
    return ResourceClient(rest, PODS, dict, dict, "default")


MakePod = Callable[..., str]


@pytest.fixture
def make_pod(pods: ResourceClient[dict[str, Any], dict[str, Any]]) -> MakePod:
    """Create a pod with the given container names (default one, ``main``); returns its name."""

    def make(*containers: str, init: tuple[str, ...] = (), command: list[str] | None = None) -> str:
        name = f"pod-{next(_names)}"
        spec: dict[str, Any] = {
            "containers": [
                {"name": c, "image": "busybox", **({"command": command} if command else {})}
                for c in containers or ("main",)
            ]
        }
        if init:
            spec["initContainers"] = [{"name": c, "image": "busybox"} for c in init]
        pods.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
        return name

    return make
