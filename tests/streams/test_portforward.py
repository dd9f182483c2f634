"""kgen's port-forward against the test server over TLS: local listeners as kubectl gives them,
in-process streams, several ports, concurrency, a large transfer, errors and clean shutdown."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kgen.client import ResourceClient
from kgen.rest import Config, RESTClient, StatusError, is_bad_request, is_forbidden, is_not_found
from kgen.streams import V4 as PROTOCOL
from kgen.streams import (
    PortForwardError,
    PortStream,
    StreamError,
    open_port_forward,
    open_websocket,
)
from kgen.testing import APIServer, PortConnection, Rule, User
from tests.streams.conftest import PODS, MakePod, echo

Pods = ResourceClient[dict[str, Any], dict[str, Any]]


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("X-Served-By", ""), response.read()
    finally:
        conn.close()


def _round_trip(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            assert chunk, f"connection ended after {len(received)} bytes"
            received += chunk
        return received


def test_http_through_a_local_listener(
    server: APIServer, pods: Pods, make_pod: MakePod, container: tuple[str, int]
) -> None:
    """``kubectl port-forward pod :80``: a real HTTP request to the local port reaches the
    container's server and its answer comes back whole."""
    name = make_pod()
    server.containers.forward(pod=name, port=80, to=container)
    with pods.port_forward(name, [":80"]) as forward:
        local = forward.local_port(80)
        assert local != 80 and forward.ports[0].address == "127.0.0.1"
        assert _get(local, "/index.html") == (200, "the-container", b"hello from /index.html\n")
        assert _get(local, "/again") == (200, "the-container", b"hello from /again\n")
    assert forward.errors == []


def test_in_process_stream_serves_http_client(
    server: APIServer, pods: Pods, make_pod: MakePod, container: tuple[str, int]
) -> None:
    """``connect(port)`` gives a socket-like stream ``http.client`` can talk through."""
    name = make_pod()
    server.containers.forward(pod=name, port=8080, to=container)
    stream = pods.port_forward(name).connect(8080)
    assert isinstance(stream, PortStream) and stream.port == 8080
    conn = http.client.HTTPConnection("pod")
    conn.sock = stream  # type: ignore[assignment]
    conn.request("GET", "/in-process")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"hello from /in-process\n")
    conn.close()


def test_recv_into_and_recv_view(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    """Socket-like reads into a caller's buffer (``nbytes`` honoured) and views of the message
    itself, continuing where the last read stopped."""
    name = make_pod()
    server.containers.on_port(echo, pod=name, port=7)
    with pods.port_forward(name).connect(7) as stream:
        stream.sendall(b"hello world")
        buffer = bytearray(8)
        assert stream.recv_into(buffer, 3) == 3 and buffer[:3] == b"HEL"
        assert stream.recv_into(memoryview(buffer)[3:]) == 5 and buffer == b"HELLO WO"
        view = stream.recv_view(100)
        assert isinstance(view, memoryview) and view == b"RLD"
        stream.sendall(b"x")
        assert stream.recv(100) == b"X"


def test_two_ports_at_once(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    """Two listeners of one forwarder reach two ports of the pod, each its own handler."""

    def banner(connection: PortConnection) -> None:
        connection.socket.sendall(f"port {connection.port} of {connection.name}\n".encode())

    name = make_pod()
    server.containers.on_port(echo, pod=name, port=80)
    server.containers.on_port(banner, pod=name, port=9090)
    with pods.port_forward(name, ["0:80", ":9090"]) as forward:
        assert [p.remote_port for p in forward.ports] == [80, 9090]
        assert _round_trip(forward.local_port(80), b"shout") == b"SHOUT"
        with socket.create_connection(("127.0.0.1", forward.local_port(9090))) as sock:
            assert sock.makefile("rb").read() == f"port 9090 of {name}\n".encode()


def test_concurrent_connections(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    """Connections accepted at once each get their own WebSocket and their own bytes back."""
    name = make_pod()
    server.containers.on_port(echo, pod=name, port=80)
    results: dict[int, bytes] = {}
    with pods.port_forward(name, [":80"]) as forward:
        local = forward.local_port(80)

        def client(i: int) -> None:
            results[i] = _round_trip(local, f"client {i} ".encode() * 2000)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == {i: f"CLIENT {i} ".encode() * 2000 for i in range(8)}


def test_large_transfer_both_ways(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    """12 MiB up through the listener (the handler checksums it), 12 MiB down (checksummed)."""
    size = 12 * 1024 * 1024
    block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB

    def checksum_then_send(connection: PortConnection) -> None:
        digest, received = hashlib.sha256(), 0
        while received < size and (data := connection.socket.recv(1 << 20)):
            digest.update(data)
            received += len(data)
        connection.socket.sendall(digest.hexdigest().encode() + b"\n")
        for _ in range(size // len(block)):
            connection.socket.sendall(block)

    name = make_pod()
    server.containers.on_port(checksum_then_send, pod=name, port=5000)
    upload = bytes(range(256)) * (size // 256)
    with (
        pods.port_forward(name, [":5000"]) as forward,
        socket.create_connection(("127.0.0.1", forward.local_port(5000))) as sock,
    ):
        sender = threading.Thread(target=sock.sendall, args=(upload,))
        sender.start()
        reader = sock.makefile("rb")
        assert reader.readline().decode().strip() == hashlib.sha256(upload).hexdigest()
        down = hashlib.sha256()
        total = 0
        while chunk := reader.read1(1 << 20):
            down.update(chunk)
            total += len(chunk)
        sender.join()
    assert total == size
    assert down.hexdigest() == hashlib.sha256(block * (size // len(block))).hexdigest()


def test_missing_pod_is_not_found(pods: Pods, make_pod: MakePod) -> None:
    with pytest.raises(StatusError) as missing:
        pods.port_forward("no-such-pod", [80])
    assert is_not_found(missing.value) and 'pods "no-such-pod" not found' in str(missing.value)
    name = make_pod()
    forward = pods.port_forward(name)
    pods.delete(name)
    with pytest.raises(StatusError) as gone:
        forward.connect(80)
    assert is_not_found(gone.value)


def test_a_port_nothing_answers_is_a_clear_error(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    """As a pod's closed port: the error channel carries the kubelet's message, in process
    (``recv`` raises it) and through a listener (the local connection ends, the error is
    kept)."""
    name = make_pod()
    server.containers.on_port(echo, pod=name, port=80)
    forward = pods.port_forward(name, [":81"])
    with forward.connect(81) as stream, pytest.raises(PortForwardError) as refused:
        stream.recv()
    assert refused.value.port == 81
    assert f"error forwarding port 81 to pod default/{name}, uid " in refused.value.message
    assert "failed to connect to localhost:81" in refused.value.message
    assert "connection refused" in refused.value.message
    with forward:
        with socket.create_connection(("127.0.0.1", forward.local_port(81))) as sock:
            assert sock.recv(100) == b""
        deadline = time.monotonic() + 10
        while not forward.errors and time.monotonic() < deadline:
            time.sleep(0.01)
    assert isinstance(forward.errors[0], PortForwardError)
    assert "error forwarding port 81" in str(forward.errors[0])


def test_a_failing_handler_is_reported(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    def broken(connection: PortConnection) -> None:
        connection.socket.sendall(b"partial")
        raise RuntimeError("the container crashed")

    name = make_pod()
    server.containers.on_port(broken, pod=name, port=80)
    with pods.port_forward(name).connect(80) as stream:
        assert stream.recv() == b"partial"
        with pytest.raises(PortForwardError, match="the container crashed"):
            stream.recv()


def test_ports_are_required_and_checked(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    """The kubelet's checks of the query, and kubectl's port syntax on the client."""
    name = make_pod()
    path = f"/api/v1/namespaces/default/pods/{name}/portforward"
    with pytest.raises(StatusError) as none:
        open_websocket(pods.rest_client.get().abs_path(path), [PROTOCOL], open_timeout=10)
    assert is_bad_request(none.value) and 'query parameter "port" is required' in str(none.value)
    for bad, says in (("0", "must be > 0"), ("http", "unable to parse 'http' as a port")):
        request = pods.rest_client.get().abs_path(path).param("ports", bad)
        with pytest.raises(StatusError, match=says) as refused:
            open_websocket(request, [PROTOCOL], open_timeout=10)
        assert is_bad_request(refused.value)
    with pytest.raises(ValueError, match="remote port 'http'"):
        pods.port_forward(name, ["8080:http"])
    with pytest.raises(ValueError, match="local port '70000'"):
        pods.port_forward(name, ["70000:80"])
    with pytest.raises(ValueError, match="not a TCP port"):
        pods.port_forward(name).connect(0)


def test_port_forward_needs_create_on_pods_portforward(specs_dir: Path) -> None:
    """Authorized as kube-apiserver 1.35 authorizes the WebSocket upgrade: ``create`` on
    ``pods/portforward``; ``get`` on pods is not enough."""
    users = {"reader-token": User("reader"), "admin-token": User("admin")}
    rules = [
        Rule(verbs=("get", "list", "create"), resources=("pods",), users=("reader",)),
        Rule(users=("admin",)),
    ]
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"], users=users, rules=rules
    ) as server:
        server.containers.on_port(echo, port=80)
        for token in ("admin-token", "reader-token"):
            with RESTClient(Config(host=server.url, bearer_token=token)) as rest:
                pods: Pods = ResourceClient(rest, PODS, dict, dict, "default")
                if token == "admin-token":
                    pods.create(
                        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
                    )
                    with pods.port_forward("p").connect(80) as stream:
                        stream.sendall(b"hi")
                        assert stream.recv() == b"HI"
                    continue
                with pytest.raises(StatusError) as denied:
                    pods.port_forward("p").connect(80)
                assert is_forbidden(denied.value)
                assert 'cannot create resource "pods/portforward"' in str(denied.value)


def _threads(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_close_ends_connections_and_joins_threads(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    """Closing the forwarder while connections are open ends them (the local client reads
    EOF, the pod's handler sees its socket end) and leaves no thread behind, here or in the
    server."""
    handler_ended = threading.Event()

    def hold(connection: PortConnection) -> None:
        connection.socket.sendall(b"ready\n")
        while connection.socket.recv(65536):
            pass
        handler_ended.set()

    name = make_pod()
    server.containers.on_port(hold, pod=name, port=80)
    forward = pods.port_forward(name, [":80", ":80"]).start()
    locals_ = [
        socket.create_connection(("127.0.0.1", p.local_port), timeout=10) for p in forward.ports
    ]
    stream = forward.connect(80)
    for sock in locals_:
        assert sock.recv(6) == b"ready\n"
    assert stream.recv() == b"ready\n"
    assert _threads("kgen-portforward")
    forward.close()
    stream.close()
    for sock in locals_:
        assert sock.recv(100) == b""
        sock.close()
    assert handler_ended.wait(10)
    assert not _threads("kgen-portforward")  # the client's, joined by close()
    deadline = time.monotonic() + 10
    while _threads("kgen-pod-port") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _threads("kgen-pod-port")  # the server's copying and handler threads
    forward.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        forward.start()
    with pytest.raises(StreamError):
        stream.sendall(b"after close")


def test_closing_while_held_back_ends_at_once(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    """A stream nobody reads (``websockets``' queue full, so it reads the socket no more) and a
    forwarder whose local client reads nothing close without waiting for the WebSocket's
    close timeout (10 s), and the pod's handler sees its connection end."""
    block = b"x" * 65536
    ended = threading.Semaphore(0)
    sent = {"bytes": 0}

    def flood(connection: PortConnection) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection.socket.sendall(block)
                sent["bytes"] += len(block)
        ended.release()

    def held_back() -> None:
        seen, deadline = -1, time.monotonic() + 30
        while sent["bytes"] != seen and time.monotonic() < deadline:
            seen = sent["bytes"]
            time.sleep(0.3)

    name = make_pod()
    server.containers.on_port(flood, pod=name, port=80)
    forward = pods.port_forward(name, [":80"])
    stream = forward.connect(80)
    assert stream.recv(1) == b"x"
    held_back()
    start = time.monotonic()
    stream.close()
    assert time.monotonic() - start < 5
    assert ended.acquire(timeout=10)
    with forward, socket.create_connection(("127.0.0.1", forward.local_port(80))) as sock:
        assert sock.recv(1) == b"x"
        held_back()
        start = time.monotonic()
        forward.close()
        assert time.monotonic() - start < 5
    assert ended.acquire(timeout=10)


def test_stopping_the_server_ends_open_forwards(specs_dir: Path) -> None:
    """A server that stops with connections forwarded ends them: the handler's socket ends,
    the client reads the end, and ``stop`` returns having joined the session."""
    handler_ended = threading.Event()

    def hold(connection: PortConnection) -> None:
        connection.socket.sendall(b"ready")
        while connection.socket.recv(65536):
            pass
        handler_ended.set()

    server = APIServer(specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"]).start()
    try:
        server.containers.on_port(hold, port=80)
        with RESTClient(Config(host=server.url, bearer_token=server.token)) as rest:
            pods: Pods = ResourceClient(rest, PODS, dict, dict, "default")
            pods.create({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
            stream = pods.port_forward("p").connect(80)
            assert stream.recv() == b"ready"
            server.stop()
            assert handler_ended.is_set()
            with contextlib.suppress(StreamError):  # the end, with or without a close frame
                while stream.recv():
                    pass
            stream.close()
    finally:
        server.stop()
    assert not _threads("kgen-pod-port")


@pytest.mark.parametrize(
    ("first", "says"),
    [
        (b"\x00\x51\x00", "channel 0 must open with port 80 (5000); got 5100"),
        (b"\x07\x50\x00", "channel 7 does not exist for 1 port(s)"),
        (b"", "empty port-forward message"),
    ],
)
def test_a_server_breaking_the_framing_is_a_stream_error(first: bytes, says: str) -> None:
    """The client checks what the kubelet's side must send: each channel opens with its port
    number, on the channels of the requested ports only. A server that does otherwise (a bare
    WebSocket server here) is a :class:`StreamError` naming the fault, never wrong bytes."""
    from websockets.sync.server import ServerConnection, serve
    from websockets.typing import Subprotocol

    def broken(connection: ServerConnection) -> None:
        connection.send(first)
        with contextlib.suppress(Exception):
            connection.recv(timeout=10)

    with serve(broken, "127.0.0.1", 0, subprotocols=[Subprotocol(PROTOCOL)]) as websocket_server:
        thread = threading.Thread(target=websocket_server.serve_forever)
        thread.start()
        try:
            host, port = websocket_server.socket.getsockname()[:2]
            with RESTClient(Config(host=f"http://{host}:{port}")) as rest:
                path = "/api/v1/namespaces/default/pods/p/portforward"
                stream = open_port_forward(rest.get().abs_path(path), 80)
                with stream, pytest.raises(StreamError, match=re.escape(says)):
                    stream.recv()
        finally:
            websocket_server.shutdown()
            thread.join()
