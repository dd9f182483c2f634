"""kgen's asyncio port-forward listeners (``AsyncPortForwarder``) and the async stream's
back-pressure, against the test server over TLS, in asyncio debug mode: every test fails on
a task, socket or stream left behind."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest

from kgen.client.aio import AsyncResourceClient
from kgen.rest import Config, StatusError, is_not_found
from kgen.rest.aio import AsyncRESTClient
from kgen.streams import BUFFER, AsyncPortForwarder, PortForwardError
from kgen.testing import APIServer, PortConnection
from tests.rest_async.conftest import run
from tests.streams.conftest import PODS, MakePod, echo
from tests.streams.test_portforward import _get

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

AsyncPods = AsyncResourceClient[dict[str, Any], dict[str, Any]]


def _with_pods(server: APIServer, body: Callable[[AsyncPods], Any]) -> Any:
    assert server.ca_pem is not None
    config = Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem)

    async def main() -> Any:
        async with AsyncRESTClient(config) as rest:
            return await body(AsyncResourceClient(rest, PODS, dict, dict, "default"))

    return run(main)


async def _round_trip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await reader.readexactly(len(payload))
    finally:
        writer.close()
        await writer.wait_closed()


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


def test_http_through_a_local_listener(
    server: APIServer, make_pod: MakePod, container: tuple[str, int]
) -> None:
    """``kubectl port-forward pod :80`` from asyncio: HTTP requests of a TCP client of the
    local port (``http.client``, in a thread) reach the container's server and come back."""
    name = make_pod()
    server.containers.forward(pod=name, port=80, to=container)

    async def body(pods: AsyncPods) -> list[Any]:
        forward = await pods.port_forward(name, [":80"])
        assert isinstance(forward, AsyncPortForwarder) and forward.ports == []
        async with forward:
            local = forward.local_port(80)
            assert local != 80 and forward.ports[0].address == "127.0.0.1"
            first = await asyncio.to_thread(_get, local, "/index.html")
            again = await asyncio.to_thread(_get, local, "/again")
        return [first, again, forward.errors]

    assert _with_pods(server, body) == [
        (200, "the-container", b"hello from /index.html\n"),
        (200, "the-container", b"hello from /again\n"),
        [],
    ]


def test_two_ports_and_concurrent_connections(server: APIServer, make_pod: MakePod) -> None:
    """Two listeners reach two ports of the pod, each its own handler; eight connections
    accepted at once each get their own WebSocket and their own bytes back."""

    def banner(connection: PortConnection) -> None:
        connection.socket.sendall(f"port {connection.port} of {connection.name}\n".encode())

    name = make_pod()
    server.containers.on_port(echo, pod=name, port=80)
    server.containers.on_port(banner, pod=name, port=9090)

    async def body(pods: AsyncPods) -> tuple[list[bytes], bytes]:
        async with await pods.port_forward(name, ["0:80", ":9090"]) as forward:
            assert [p.remote_port for p in forward.ports] == [80, 9090]
            local = forward.local_port(80)
            echoed = await asyncio.gather(
                *(_round_trip(local, f"client {i} ".encode() * 20000) for i in range(8))
            )
            reader, writer = await asyncio.open_connection("127.0.0.1", forward.local_port(9090))
            told = await reader.read()
            writer.close()
            await writer.wait_closed()
        return echoed, told

    echoed, told = _with_pods(server, body)
    assert echoed == [f"CLIENT {i} ".encode() * 20000 for i in range(8)]
    assert told == f"port 9090 of {name}\n".encode()


def test_a_large_transfer_both_ways_through_a_listener(
    server: APIServer, make_pod: MakePod
) -> None:
    """8 MiB up (the handler checksums it) while 8 MiB come down, checksummed."""
    size = 8 * 1024 * 1024
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

    async def body(pods: AsyncPods) -> tuple[str, str]:
        async with await pods.port_forward(name, [":5000"]) as forward:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", forward.local_port(5000), limit=1 << 20
            )
            writer.write(upload)
            sent = asyncio.create_task(writer.drain())
            told = (await reader.readline()).decode().strip()
            down = hashlib.sha256(await reader.readexactly(size)).hexdigest()
            await sent
            writer.close()
            await writer.wait_closed()
        return told, down

    told, down = _with_pods(server, body)
    assert told == hashlib.sha256(upload).hexdigest()
    assert down == hashlib.sha256(block * (size // len(block))).hexdigest()


def test_a_missing_pod_is_not_found(server: APIServer, make_pod: MakePod) -> None:
    """NotFound when the forwarder is made (the pod is got first, as kubectl does), from
    ``connect``, and, through a listener, a closed local connection and the error kept."""
    name = make_pod()

    async def body(pods: AsyncPods) -> tuple[StatusError, StatusError, list[Exception]]:
        with pytest.raises(StatusError) as missing:
            await pods.port_forward("no-such-pod", [80])
        async with await pods.port_forward(name, [":80"]) as forward:
            await pods.delete(name)
            with pytest.raises(StatusError) as gone:
                await forward.connect(80)
            reader, writer = await asyncio.open_connection("127.0.0.1", forward.local_port(80))
            assert await reader.read() == b""
            writer.close()
            await writer.wait_closed()
            await _until(lambda: bool(forward.errors))
        return missing.value, gone.value, forward.errors

    missing, gone, errors = _with_pods(server, body)
    assert is_not_found(missing) and 'pods "no-such-pod" not found' in str(missing)
    assert is_not_found(gone)
    assert len(errors) == 1 and isinstance(errors[0], StatusError) and is_not_found(errors[0])


def test_the_error_channel_is_reported(server: APIServer, make_pod: MakePod) -> None:
    """A port nothing answers: the local connection ends after the server's text arrives on
    the error channel, which is kept as a ``PortForwardError`` naming port and pod."""
    name = make_pod()

    async def body(pods: AsyncPods) -> list[Exception]:
        async with await pods.port_forward(name, [":81"]) as forward:
            reader, writer = await asyncio.open_connection("127.0.0.1", forward.local_port(81))
            assert await reader.read() == b""
            writer.close()
            await writer.wait_closed()
            await _until(lambda: bool(forward.errors))
        return forward.errors

    errors = _with_pods(server, body)
    assert len(errors) == 1 and isinstance(errors[0], PortForwardError)
    assert errors[0].port == 81
    assert f"error forwarding port 81 to pod default/{name}, uid " in errors[0].message
    assert "connection refused" in errors[0].message


def test_bad_port_specs_and_a_busy_local_port(server: APIServer, make_pod: MakePod) -> None:
    name = make_pod()

    async def body(pods: AsyncPods) -> None:
        with pytest.raises(ValueError, match="the remote port '0' is not 1-65535"):
            await pods.port_forward(name, ["8080:0"])
        async with await pods.port_forward(name, [":80"]) as first:
            taken = first.local_port(80)
            second = await pods.port_forward(name, [":81", f"{taken}:80"])
            with pytest.raises(OSError):
                await second.start()
            assert second.ports == []  # the first listener was closed again
        with pytest.raises(ValueError, match="closed"):
            await first.start()

    _with_pods(server, body)


def test_close_and_cancellation_end_every_connection(server: APIServer, make_pod: MakePod) -> None:
    """Cancelling the task that runs ``async with forwarder`` while connections are open ends
    them: the local clients read EOF, the pod's handlers see their sockets end, and no task,
    socket or WebSocket is left (``run`` checks)."""
    ended = threading.Semaphore(0)

    def hold(connection: PortConnection) -> None:
        connection.socket.sendall(b"ready\n")
        while connection.socket.recv(65536):
            pass
        ended.release()

    name = make_pod()
    server.containers.on_port(hold, pod=name, port=80)

    async def body(pods: AsyncPods) -> list[bytes]:
        listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def forwarding() -> None:
            async with await pods.port_forward(name, [":80"]) as forward:
                listening.set_result(forward.local_port(80))
                await asyncio.Event().wait()  # until cancelled

        task = asyncio.create_task(forwarding())
        local = await listening
        clients = [await asyncio.open_connection("127.0.0.1", local) for _ in range(3)]
        for reader, _ in clients:
            assert await reader.readline() == b"ready\n"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", local)
        ends = [await reader.read() for reader, _ in clients]
        for _, writer in clients:
            writer.close()
            await writer.wait_closed()
        return ends

    assert _with_pods(server, body) == [b"", b"", b""]
    for _ in range(3):
        assert ended.acquire(timeout=10)


def test_a_reader_that_does_not_read_holds_the_pod_back(
    server: APIServer, make_pod: MakePod
) -> None:
    """Back-pressure: 64 MiB offered by the pod to a client that reads nothing. The stream
    holds at most ``BUFFER`` bytes (and one message) unread, the pod's handler stops well
    short of the end, and everything arrives whole once the client reads; through a listener
    whose local client does not read, the same."""
    size = 64 * 1024 * 1024
    block = hashlib.sha256(b"pressure").digest() * 2048  # 64 KiB
    progress = {"sent": 0}

    def flood(connection: PortConnection) -> None:
        progress["sent"] = 0
        for _ in range(size // len(block)):
            connection.socket.sendall(block)
            progress["sent"] += len(block)

    async def stalled() -> int:
        seen = -1
        async with asyncio.timeout(30):
            while progress["sent"] != seen:  # until the handler has been blocked a while
                seen = progress["sent"]
                await asyncio.sleep(0.3)
        return seen

    expected = hashlib.sha256(block * (size // len(block))).hexdigest()
    name = make_pod()
    server.containers.on_port(flood, pod=name, port=80)

    async def body(pods: AsyncPods) -> None:
        forward = await pods.port_forward(name, [":80"])
        async with await forward.connect(80) as stream:
            assert await stream.readexactly(1) == block[:1]
            held = await stalled()
            assert held < size // 2
            assert 0 < stream.buffered <= BUFFER + 256 * 1024
            digest = hashlib.sha256(block[:1])
            while chunk := await stream.read(1 << 20):
                digest.update(chunk)
            assert digest.hexdigest() == expected
        async with forward:
            reader, writer = await asyncio.open_connection("127.0.0.1", forward.local_port(80))
            assert await reader.readexactly(1) == block[:1]
            assert await stalled() < size // 2
            digest = hashlib.sha256(block[:1])
            while chunk := await reader.read(1 << 20):
                digest.update(chunk)
            writer.close()
            await writer.wait_closed()
            assert digest.hexdigest() == expected

    _with_pods(server, body)


def test_closing_while_held_back_ends_at_once(server: APIServer, make_pod: MakePod) -> None:
    """A stream whose reader has stopped reading the WebSocket (its buffer full) and a
    forwarder whose local client reads nothing still close at once, and the pod's handler
    sees its connection end."""
    block = b"x" * 65536
    ended = threading.Semaphore(0)
    sent = {"bytes": 0}

    def flood(connection: PortConnection) -> None:
        try:
            while True:
                connection.socket.sendall(block)
                sent["bytes"] += len(block)
        except OSError:
            ended.release()

    async def held_back() -> None:
        seen = -1
        async with asyncio.timeout(30):
            while sent["bytes"] != seen:
                seen = sent["bytes"]
                await asyncio.sleep(0.3)

    name = make_pod()
    server.containers.on_port(flood, pod=name, port=80)

    async def body(pods: AsyncPods) -> None:
        forward = await pods.port_forward(name, [":80"])
        stream = await forward.connect(80)
        assert await stream.readexactly(1) == b"x"
        await held_back()
        async with asyncio.timeout(10):
            await stream.close()
        async with forward:
            reader, writer = await asyncio.open_connection("127.0.0.1", forward.local_port(80))
            assert await reader.readexactly(1) == b"x"
            await held_back()
            async with asyncio.timeout(10):
                await forward.close()
            writer.close()
            await writer.wait_closed()

    _with_pods(server, body)
    assert ended.acquire(timeout=10) and ended.acquire(timeout=10)
