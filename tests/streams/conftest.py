"""A TLS test server on the real 1.35 OpenAPI documents, pods to exec into, and what listens
on their ports (a real HTTP server, an echo handler)."""

from __future__ import annotations

import http.server
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kgen.client import GroupVersionResource, ResourceClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer, PortConnection

PODS = GroupVersionResource("", "v1", "pods")
_names = itertools.count()


@pytest.fixture(scope="module")
def server(specs_dir: Any) -> Iterator[APIServer]:
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
        tls="self-signed",
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


class _Hello(http.server.BaseHTTPRequestHandler):
    """The "container": answers every GET with its path and a header naming it."""

    def do_GET(self) -> None:
        body = f"hello from {self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", "the-container")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def container() -> Iterator[tuple[str, int]]:
    """A real HTTP server on a free loopback port, playing the pod's web server."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield "127.0.0.1", httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def echo(connection: PortConnection) -> None:
    """Sends back every byte, upper-cased, until the client's side ends."""
    while data := connection.socket.recv(65536):
        connection.socket.sendall(data.upper())
