"""The proxy subresource (pods, services, nodes) against kgen.testing with its controllers (the
kubelet gives pods their IP and readiness, the endpoints controller the services' endpoints):
kgen's typed and dynamic clients, and kubectl, ``kubectl proxy`` and the official Python
client as independent judges."""

from __future__ import annotations

import http.client
import http.server
import itertools
import json
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from kgen.client import GroupVersionResource, ResourceClient
from kgen.dynamic import DynamicClient
from kgen.dynamic.aio import AsyncDynamicClient
from kgen.rest import (
    Config,
    RESTClient,
    StatusError,
    UnexpectedResponseError,
    is_forbidden,
    is_not_found,
)
from kgen.rest.aio import AsyncRESTClient
from kgen.testing import APIServer, PortConnection, Rule, User
from tests.aio_helpers import run
from tests.testing.test_kubectl import Kubectl, _binary

PODS = GroupVersionResource("", "v1", "pods")
SERVICES = GroupVersionResource("", "v1", "services")
NODES = GroupVersionResource("", "v1", "nodes")
NODE = "kgen-node-1"
Client = ResourceClient[dict[str, Any], dict[str, Any]]
_names = itertools.count()


class _Echo(http.server.BaseHTTPRequestHandler):
    """The "container": answers every request with what it received, as JSON."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "body": body.decode(),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "served_by": self.server_name,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("X-Served-By", self.server_name)
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("X-Served-By", self.server_name)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve_http(served_by: str) -> Callable[[PortConnection], None]:
    """A port handler speaking HTTP on the forwarded socket (one connection, then it ends),
    naming ``served_by`` (and the port it answers) in its answers."""

    def handler(connection: PortConnection) -> None:
        class Named(_Echo):
            server_name = f"{served_by}:{connection.port}"

        Named(connection.socket, ("pod", 0), None)  # type: ignore[arg-type]

    return handler


@pytest.fixture(scope="module")
def server(specs_dir: Path) -> Iterator[APIServer]:
    users = {"reader-token": User("reader"), "admin-token": User("admin")}
    rules = [
        Rule(verbs=("get", "list", "create"), resources=("pods",), users=("reader",)),
        Rule(users=("admin",)),
    ]
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
        tls="self-signed",
        controllers=True,
        users=users,
        rules=rules,
        token="admin-token",
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_handlers(server: APIServer) -> Iterator[None]:
    yield
    server.containers.clear()


@pytest.fixture(scope="module")
def rest(server: APIServer) -> Iterator[RESTClient]:
    config = Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem)
    with RESTClient(config) as client:
        yield client


@pytest.fixture
def pods(rest: RESTClient) -> Client:
    return ResourceClient(rest, PODS, dict, dict, "default")


def _wait(what: str, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _running_pod(pods: Client, labels: dict[str, str] | None = None, port: int = 8080) -> str:
    """A pod declaring ``port``, once its kubelet reports it ready with an IP."""
    name = f"web-{next(_names)}"
    pods.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {
                "containers": [
                    {"name": "main", "image": "nginx", "ports": [{"containerPort": port}]}
                ]
            },
        }
    )
    _wait(f"pod {name} to run", lambda: (pods.get(name).get("status") or {}).get("podIP"))
    return name


def test_get_and_post_reach_the_pods_handler(server: APIServer, pods: Client) -> None:
    """``pods/<name>:8080/proxy/<path>``: the method, path, query, headers and body reach the
    handler registered for the pod's port; the answer comes back whole, headers included;
    the caller's credentials do not travel on."""
    name = _running_pod(pods)
    server.containers.on_port(serve_http(name), pod=name, port=8080)
    got = pods.proxy_get(name, "hello/world", port=8080, params={"q": "1", "x": ["a", "b"]})
    answer = got.json()
    assert got.status_code == 200 and got.headers["X-Served-By"] == f"{name}:8080"
    assert (answer["method"], answer["path"]) == ("GET", "/hello/world?q=1&x=a&x=b")
    assert "authorization" not in answer["headers"]
    pod_ip = pods.get(name)["status"]["podIP"]
    assert answer["headers"]["host"] == f"{pod_ip}:8080"
    posted = pods.proxy("POST", name, "/submit/", body=b"payload", headers={"X-Test": "yes"}).json()
    assert (posted["method"], posted["path"], posted["body"]) == ("POST", "/submit/", "payload")
    assert posted["headers"]["x-test"] == "yes"
    # no port: the first one the pod declares; no path: redirected to "/", as kube-apiserver does
    assert pods.proxy_get(name).json()["path"] == "/"
    assert pods.proxy("PUT", name, "/a", body={"k": 1}).json()["body"] == '{"k":1}'
    assert pods.proxy("DELETE", name, "gone").json()["method"] == "DELETE"


def test_every_method_and_https(server: APIServer, pods: Client) -> None:
    """PATCH, OPTIONS and HEAD are relayed too (HEAD without a body); ``https:name:port``
    speaks TLS to the pod's port, its certificate not verified, as kube-apiserver's proxy
    does."""
    name = _running_pod(pods)
    server.containers.on_port(serve_http(name), pod=name, port=8080)
    assert pods.proxy("PATCH", name, "/p", body=b"x").json()["method"] == "PATCH"
    assert pods.proxy("OPTIONS", name, "/o").json()["method"] == "OPTIONS"
    head = pods.proxy("HEAD", name, "/h")
    assert (head.status_code, head.body, head.headers["X-Served-By"]) == (200, b"", f"{name}:8080")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("pod.local").configure_cert(context)

    def tls(connection: PortConnection) -> None:
        with context.wrap_socket(connection.socket, server_side=True) as wrapped:

            class Secure(_Echo):
                server_name = "tls"

            Secure(wrapped, ("pod", 0), None)  # type: ignore[arg-type]

    server.containers.on_port(tls, pod=name, port=8443)
    got = pods.proxy_get(name, "/secure", scheme="https", port=8443).json()
    assert (got["served_by"], got["path"]) == ("tls", "/secure")


def test_one_handler_answers_port_forward_and_proxy(server: APIServer, pods: Client) -> None:
    """The port's registration is shared: port-forward to it and proxy to it reach the same
    handler."""
    name = _running_pod(pods)
    server.containers.on_port(serve_http("shared"), pod=name, port=8080)
    with pods.port_forward(name) as forwarder, forwarder.connect(8080) as stream:
        conn = http.client.HTTPConnection("pod")
        conn.sock = stream  # type: ignore[assignment]
        conn.request("GET", "/forwarded")
        assert json.loads(conn.getresponse().read())["served_by"] == "shared:8080"
    assert pods.proxy_get(name, "proxied").json()["served_by"] == "shared:8080"


def test_services_proxy_picks_a_ready_endpoint(
    server: APIServer, rest: RESTClient, pods: Client
) -> None:
    """``services/<name>[:port]/proxy``: a random ready endpoint pod of the service, on the
    endpoint's port for the service port asked for (by name or number); both pods serve."""
    labels = {"app": f"svc-{next(_names)}"}
    backends = [_running_pod(pods, labels) for _ in range(2)]
    for backend in backends:
        server.containers.on_port(serve_http(backend), pod=backend, port=8080)
    services: Client = ResourceClient(rest, SERVICES, dict, dict, "default")
    name = labels["app"]
    services.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {
                "selector": labels,
                "ports": [{"name": "web", "port": 80, "targetPort": 8080}],
            },
        }
    )
    endpoints: Client = ResourceClient(
        rest, GroupVersionResource("", "v1", "endpoints"), dict, dict, "default"
    )

    def ready() -> bool:
        try:
            subsets = endpoints.get(name).get("subsets") or []
        except StatusError:
            return False
        return sum(len(s.get("addresses") or []) for s in subsets) == 2

    _wait("both endpoints", ready)
    seen = {services.proxy_get(name, "/x", port="web").json()["served_by"] for _ in range(40)}
    assert seen == {f"{b}:8080" for b in backends}
    assert services.proxy_get(name, "/by-number", port=80).json()["path"] == "/by-number"
    with pytest.raises(StatusError) as no_port:
        services.proxy_get(name, "/x", port=81)
    assert no_port.value.code == 503
    assert f'no service port 81 found for service "{name}"' in str(no_port.value)
    with pytest.raises(StatusError) as unnamed:
        services.proxy_get(name, "/x")  # the service's only port is named
    assert f'no endpoints available for service "{name}"' in str(unnamed.value)


def test_services_without_endpoints_are_unavailable(rest: RESTClient) -> None:
    services: Client = ResourceClient(rest, SERVICES, dict, dict, "default")
    name = f"empty-{next(_names)}"
    services.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"selector": {"app": "nothing-matches"}, "ports": [{"port": 80}]},
        }
    )
    endpoints: Client = ResourceClient(
        rest, GroupVersionResource("", "v1", "endpoints"), dict, dict, "default"
    )
    _wait("the endpoints object", lambda: endpoints.list().get("items") is not None)

    def answered() -> StatusError | None:
        try:
            services.proxy_get(name, "/")
        except StatusError as err:
            return err if err.code == 503 else None
        return None

    err = _wait("a 503", answered)
    assert err.reason == "ServiceUnavailable"
    assert str(err).endswith(f'no endpoints available for service "{name}"')


def test_nodes_proxy_reaches_the_kubelet_port(server: APIServer, rest: RESTClient) -> None:
    """``nodes/<name>/proxy``: the kubelet's port (10250, from the node's daemonEndpoints)
    unless another is named."""
    server.containers.on_node_port(serve_http("kubelet"), node=NODE)
    nodes: Client = ResourceClient(rest, NODES, dict, dict)
    assert nodes.proxy_get(NODE, "healthz").json()["served_by"] == "kubelet:10250"
    assert nodes.proxy_get(NODE, "metrics", port=9100).json()["served_by"] == "kubelet:9100"
    with pytest.raises(StatusError) as missing:
        nodes.proxy_get("no-such-node", "healthz")
    assert is_not_found(missing.value)


def test_errors_as_kube_apiserver_gives_them(
    server: APIServer, specs_dir: Path, pods: Client
) -> None:
    """No such pod: 404; a pod without an IP: 400 ``address not allowed``; a port nothing
    answers: 503 naming it; a bad name: 400; a user without ``pods/proxy``: 403."""
    with pytest.raises(StatusError) as missing:
        pods.proxy_get("no-such-pod", "/")
    assert is_not_found(missing.value) and 'pods "no-such-pod" not found' in str(missing.value)
    unscheduled = f"pending-{next(_names)}"
    pods.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": unscheduled},
            "spec": {"nodeName": "no-such-node", "containers": [{"name": "c", "image": "x"}]},
        }
    )
    with pytest.raises(StatusError) as no_ip:
        pods.proxy_get(unscheduled, "/")
    assert no_ip.value.code == 400 and "address not allowed" in str(no_ip.value)
    name = _running_pod(pods)
    with pytest.raises(StatusError) as refused:
        pods.proxy_get(name, "/", port=81)
    assert refused.value.code == 503
    assert "error trying to reach service: dial tcp" in str(refused.value)
    assert "connection refused" in str(refused.value)
    with pytest.raises(StatusError) as bad:
        pods.proxy_get("ftp:" + name + ":80", "/")
    assert bad.value.code == 400 and "invalid pod request" in str(bad.value)
    with pytest.raises(ValueError, match=r"'\.\.'"):
        pods.proxy_get(name, "../../secrets")
    reader = Config(host=server.url, bearer_token="reader-token", ca_data=server.ca_pem)
    with RESTClient(reader) as client:
        as_reader: Client = ResourceClient(client, PODS, dict, dict, "default")
        with pytest.raises(StatusError) as denied:
            as_reader.proxy_get(name, "/")
        assert is_forbidden(denied.value) and "pods/proxy" in str(denied.value)


def test_a_handler_that_fails_gives_a_clear_503(server: APIServer, pods: Client) -> None:
    name = _running_pod(pods)

    def broken(connection: PortConnection) -> None:
        connection.socket.recv(100)
        raise RuntimeError("the container crashed")

    server.containers.on_port(broken, pod=name, port=8080)
    with pytest.raises(StatusError) as failed:
        pods.proxy_get(name, "/")
    assert failed.value.code == 503 and "the container crashed" in str(failed.value)


def test_the_pods_own_error_status_comes_back_as_a_status_error(
    server: APIServer, pods: Client
) -> None:
    name = _running_pod(pods)

    def not_found(connection: PortConnection) -> None:
        connection.socket.recv(65536)
        connection.socket.sendall(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\nConnection: close\r\n\r\nno such page"
        )

    def teapot(connection: PortConnection) -> None:
        connection.socket.recv(65536)
        connection.socket.sendall(b"HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n")

    server.containers.on_port(not_found, pod=name, port=8080)
    with pytest.raises(StatusError) as err:
        pods.proxy_get(name, "/")
    assert is_not_found(err.value) and "get pods" in str(err.value)
    server.containers.on_port(teapot, pod=name, port=8080)
    with pytest.raises(UnexpectedResponseError, match="418"):
        pods.proxy_get(name, "/")


def test_the_dynamic_client_proxies(server: APIServer, rest: RESTClient, pods: Client) -> None:
    name = _running_pod(pods)
    server.containers.on_port(serve_http("dynamic"), pod=name, port=8080)
    dynamic = DynamicClient(rest).resource(PODS).namespace("default")
    got = dynamic.proxy("POST", name, "/dyn", port=8080, body=b"hi").json()
    assert (got["served_by"], got["path"], got["body"]) == ("dynamic:8080", "/dyn", "hi")


def test_the_streamed_answer_of_unknown_length(server: APIServer, pods: Client) -> None:
    """An answer without Content-Length (read to the end of the connection) is relayed as it
    comes."""
    name = _running_pod(pods)

    def streaming(connection: PortConnection) -> None:
        connection.socket.recv(65536)
        connection.socket.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        for i in range(50):
            connection.socket.sendall(f"line {i}\n".encode())

    server.containers.on_port(streaming, pod=name, port=8080)
    body = pods.proxy_get(name, "/").body.decode()
    assert body.splitlines() == [f"line {i}" for i in range(50)]


# --- independent judges -----------------------------------------------------------------------

KUBECTLS = ("1.30", "1.33")


@pytest.mark.kubectl
@pytest.mark.parametrize("version", KUBECTLS)
def test_kubectl_get_raw(server: APIServer, pods: Client, version: str, tmp_path: Path) -> None:
    """``kubectl get --raw /api/v1/namespaces/default/pods/<name>:8080/proxy/hello``."""
    name = _running_pod(pods)
    server.containers.on_port(serve_http("raw"), pod=name, port=8080)
    kubectl = Kubectl(
        _binary(version), server.write_kubeconfig(tmp_path / "kubeconfig"), "default", tmp_path
    )
    path = f"/api/v1/namespaces/default/pods/{name}:8080/proxy/hello?a=b"
    answer = json.loads(kubectl.run("get", "--raw", path).stdout)
    assert (answer["served_by"], answer["path"]) == ("raw:8080", "/hello?a=b")
    missing = kubectl.run(
        "get", "--raw", "/api/v1/namespaces/default/pods/nope/proxy/", check=False
    )
    assert missing.returncode != 0 and "NotFound" in missing.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.kubectl
def test_kubectl_proxy(server: APIServer, pods: Client, tmp_path: Path) -> None:
    """``kubectl proxy --port=N``: a plain GET to it reaches the pod's handler through the
    server's proxy subresource."""
    name = _running_pod(pods)
    server.containers.on_port(serve_http("via-kubectl-proxy"), pod=name, port=8080)
    kubectl = Kubectl(
        _binary("1.33"), server.write_kubeconfig(tmp_path / "kubeconfig"), "default", tmp_path
    )
    port = _free_port()
    process = subprocess.Popen(
        kubectl.argv("proxy", f"--port={port}"),
        env=kubectl.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def answer() -> Any:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", f"/api/v1/namespaces/default/pods/{name}/proxy/through")
                response = conn.getresponse()
                return response.status, json.loads(response.read())
            except (ConnectionRefusedError, json.JSONDecodeError):
                return None

        status, body = _wait("kubectl proxy to answer", answer)
        assert status == 200 and body["served_by"] == "via-kubectl-proxy:8080"
        assert body["path"] == "/through"
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_official_client_proxy(server: APIServer, pods: Client, tmp_path: Path) -> None:
    """``CoreV1Api.connect_get_namespaced_pod_proxy_with_path`` and the POST one."""
    kubernetes = pytest.importorskip("kubernetes")
    name = _running_pod(pods)
    server.containers.on_port(serve_http("official"), pod=name, port=8080)
    api_client = kubernetes.config.new_client_from_config(
        str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    )
    try:
        core = kubernetes.client.CoreV1Api(api_client)
        got = core.connect_get_namespaced_pod_proxy_with_path(
            f"{name}:8080", "default", "judged", _preload_content=False
        )
        answer = json.loads(got.data)
        assert (answer["served_by"], answer["path"]) == ("official:8080", "/judged")
        posted = core.connect_post_namespaced_pod_proxy_with_path(
            name, "default", "p", _preload_content=False
        )
        assert json.loads(posted.data)["method"] == "POST"
    finally:
        api_client.close()


def test_the_async_clients_proxy(server: APIServer, pods: Client) -> None:
    """The asyncio flavour (``kgen.client.aio``, the dynamic client's): the same requests, the
    same answers and the same errors, with nothing left open."""
    name = _running_pod(pods)
    server.containers.on_port(serve_http(name), pod=name, port=8080)
    config = Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem)

    async def main() -> None:
        async with AsyncRESTClient(config) as rest:
            async_pods = AsyncDynamicClient(rest).resource(PODS).namespace("default")
            got = await async_pods.proxy_get(name, "a/b", port=8080, params={"q": ["1", "2"]})
            assert got.status_code == 200 and got.headers["X-Served-By"] == f"{name}:8080"
            assert got.json()["path"] == "/a/b?q=1&q=2"
            posted = await async_pods.proxy("POST", name, "/in", body={"k": 1})
            assert (posted.json()["method"], posted.json()["body"]) == ("POST", '{"k":1}')
            with pytest.raises(StatusError) as missing:
                await async_pods.proxy_get("no-such-pod", "x")
            assert is_not_found(missing.value)
            with pytest.raises(ValueError, match="may not contain"):
                await async_pods.proxy_get(name, "../escape")

    run(main)
