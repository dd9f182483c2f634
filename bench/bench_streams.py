"""Exec throughput: MB/s of one command's stdout, from kgen.testing's exec handler to the client.

The server (``kgen.testing.APIServer`` on loopback, plain HTTP) runs a handler that writes
``--mb`` MiB of ASCII to stdout in 256 KiB writes; each case runs that command once per rep and
counts the bytes it received. Cases, in one process, round-robin:

* ``kgen``: a typed client's ``exec`` (``websockets``, the library kgen streams on).
* ``websockets (bare)`` and ``websocket-client (bare)``: the same WebSocket request read in a
  bare counting loop with each library (``websocket-client`` is what the official client streams
  on), to compare the two libraries on this workload without kgen's session around them.
* ``official stream()``: the official client's ``kubernetes.stream.stream`` reading the same
  command to its end (skipped when ``kubernetes`` is not installed).

Port-forward throughput, in the same run: a port handler sends ``--pf-mb`` MiB (256 KiB writes)
on each connection to port 80 of the pod, read to its end by:

* ``kgen connect()``: an in-process :class:`kgen.streams.PortStream`;
* ``kgen async connect()``: an :class:`kgen.streams.AsyncPortStream` (its own event loop per
  rep, the bounded reader of its back-pressure);
* ``kgen listener``: a TCP client of a ``PortForwarder``'s local listener (kubectl's shape:
  one more copy, through the loopback socket);
* ``websockets (bare)``: the same port-forward WebSocket read by ``websockets``' sync client
  in a counting loop (reading 1 MiB per system call, as kgen's), no kgen session: the ceiling
  of a client on that library;
* ``server alone``: the upgraded connection's bytes counted as they come, frames not parsed
  (a handshake by hand, then ``recv_into`` one buffer): what the test server can send, the
  ceiling of any client;
* ``official portforward()``: the official client's ``kubernetes.stream.portforward`` socket;
* ``kubectl port-forward``: a TCP client of ``kubectl port-forward bench :80`` (the ``kubectl``
  on PATH, 1.31 or later: SPDY tunnelled in a WebSocket, the test server's other protocol),
  started once before the reps;
* ``kubectl 1.30 port-forward``: the same with kubectl 1.30 (plain SPDY/3.1 on the upgraded
  connection), when ``/usr/lib/google-cloud-sdk/bin/kubectl.1.30`` is there.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench._support import Case, run_round_robin, shared_dir, table
from kgen.client import GroupVersionResource, ResourceClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer, ContainerProcess, PortConnection

CHUNK = b"0123456789abcdef" * (256 * 1024 // 16)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200, help="MiB of stdout per run (default 200)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--pf-mb", type=int, default=100, help="MiB per port-forward connection (0 skips)"
    )
    args = parser.parse_args(argv)
    total = args.mb * 1024 * 1024
    pf_total = args.pf_mb * 1024 * 1024

    def produce(process: ContainerProcess) -> int:
        for _ in range(total // len(CHUNK)):
            process.stdout.write(CHUNK)
        return 0

    openapi = shared_dir() / "specs" / "kubernetes" / "v1.35" / "openapi-v3"
    # anonymous requests allowed: kubectl sends no token over plain HTTP
    with APIServer(specs=[openapi], allow_anonymous=True) as server, ExitStack() as stack:
        server.containers.on_exec(produce)
        config = Config(host=server.url, bearer_token=server.token, qps=-1)
        rest = RESTClient(config)
        pods = ResourceClient(rest, GroupVersionResource("", "v1", "pods"), dict, dict, "default")
        pods.create({"metadata": {"name": "bench"}, "spec": {"containers": [{"name": "c"}]}})
        url = pods.rest_client.get().abs_path("/api/v1/namespaces/default/pods/bench/exec").url()

        def kgen() -> int:
            return len(pods.exec("bench", ["produce"]).stdout)

        cases = [Case("kgen", kgen), _websockets_case(url, server.token)]
        cases += _websocket_client_case(url, server.token)
        cases += _official_case(server, Path(".bench-results"))
        run_round_robin(cases, args.reps)
        forward_cases = []
        if pf_total:

            def send(connection: PortConnection) -> None:
                for _ in range(pf_total // len(CHUNK)):
                    connection.socket.sendall(CHUNK)

            server.containers.on_port(send, pod="bench", port=80)
            forward_cases = _port_forward_cases(server, pods, Path(".bench-results"), pf_total)
            for label, binary in _KUBECTLS:
                forward_cases += stack.enter_context(
                    _kubectl_case(server, pods, Path(".bench-results"), label, binary)
                )
            run_round_robin(forward_cases, args.reps)
        rest.close()
    print(f"input: {args.mb} MiB of stdout per run, {args.reps} reps after a warm-up\n")
    _report(cases, "kgen", total)
    if forward_cases:
        print(f"\nport-forward: {args.pf_mb} MiB per connection, {args.reps} reps\n")
        _report(forward_cases, "kgen connect()", pf_total)


def _report(cases: list[Case], baseline: str, total: int) -> None:
    print(table(cases, baseline, unit="ms"))
    print("\n| case | median MB/s |\n|---|---|")
    for case in cases:
        print(f"| {case.name} | {total / 1e6 / statistics.median(case.results):,.0f} |")


def _port_forward_cases(
    server: APIServer,
    pods: ResourceClient[dict[str, Any], dict[str, Any]],
    folder: Path,
    pf_total: int,
) -> list[Case]:
    import socket

    def connect() -> int:
        received = 0
        with pods.port_forward("bench").connect(80) as stream:
            while data := stream.recv(1 << 20):
                received += len(data)
        return received

    def listener() -> int:
        received = 0
        with (
            pods.port_forward("bench", [":80"]) as forwarder,
            socket.create_connection(("127.0.0.1", forwarder.local_port(80))) as sock,
        ):
            while data := sock.recv(1 << 20):
                received += len(data)
        return received

    async def read_async() -> int:
        from kgen.rest.aio import AsyncRESTClient
        from kgen.streams import open_async_port_forward

        received = 0
        async with AsyncRESTClient(pods.rest_client.config) as rest:
            request = rest.get().abs_path("/api/v1/namespaces/default/pods/bench/portforward")
            async with await open_async_port_forward(request, 80) as stream:
                while data := await stream.read(1 << 20):
                    received += len(data)
        return received

    cases = [
        Case("kgen connect()", connect),
        Case("kgen async connect()", lambda: asyncio.run(read_async())),
        Case("kgen listener", listener),
        _bare_port_forward_case(server),
        _server_alone_case(server, pf_total),
    ]
    try:
        import kubernetes
        from kubernetes.stream import portforward
    except ImportError:
        return cases
    folder.mkdir(exist_ok=True)
    api = kubernetes.config.new_client_from_config(
        str(server.write_kubeconfig(folder / "streams-kubeconfig"))
    )
    core = kubernetes.client.CoreV1Api(api)

    def official() -> int:
        forward = portforward(
            core.connect_get_namespaced_pod_portforward, "bench", "default", ports="80"
        )
        sock = forward.socket(80)
        received = 0
        while data := sock.recv(1 << 20):
            received += len(data)
        forward.close()
        return received

    return [*cases, Case("official portforward()", official)]


def _bare_port_forward_case(server: APIServer) -> Case:
    from websockets.sync.client import ClientConnection, connect

    class Connection(ClientConnection):
        recv_bufsize = 1 << 20  # as kgen's (the library's default is 64 KiB)

    url = "ws" + server.url[len("http") :] + "/api/v1/namespaces/default/pods/bench/portforward"

    def run() -> int:
        received = 0
        with connect(
            url + "?ports=80",
            additional_headers={"Authorization": f"Bearer {server.token}"},
            subprotocols=["v4.channel.k8s.io"],  # type: ignore[list-item]
            compression=None,
            max_size=None,
            create_connection=Connection,
        ) as ws:
            for frame in ws:
                if frame[0] == 0:
                    received += len(frame) - 1
        return received - 2  # the data channel's opening port number

    return Case("websockets (bare)", run)


def _server_alone_case(server: APIServer, total: int) -> Case:
    import socket

    host, port = server.url[len("http://") :].rsplit(":", 1)
    request = (
        "GET /api/v1/namespaces/default/pods/bench/portforward?ports=80 HTTP/1.1\r\n"
        f"Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: v4.channel.k8s.io\r\nAuthorization: Bearer {server.token}"
        "\r\n\r\n"
    ).encode()

    def run() -> int:
        # every byte after the request counts (the 101 response and the frame headers are
        # under 0.01 % of it); stops once the payload's worth has come
        buffer = memoryview(bytearray(1 << 20))
        received = 0
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(request)
            while received < total and (count := sock.recv_into(buffer)):
                received += count
        if received < total:
            raise RuntimeError(f"the server sent {received} bytes, not {total}")
        return received

    return Case("server alone (bytes counted, not parsed)", run)


def _websockets_case(url: str, token: str) -> Case:
    from websockets.sync.client import connect

    def run() -> int:
        target = "ws" + url[len("http") :] + "?command=produce&stdout=true"
        received = 0
        with connect(
            target,
            additional_headers={"Authorization": f"Bearer {token}"},
            subprotocols=["v5.channel.k8s.io"],  # type: ignore[list-item]
            compression=None,
            max_size=None,
        ) as ws:
            for frame in ws:
                if frame[0] == 1:
                    received += len(frame) - 1
        return received

    return Case("websockets (bare)", run)


def _websocket_client_case(url: str, token: str) -> list[Case]:
    try:
        import websocket
    except ImportError:
        return []

    def run() -> int:
        target = "ws" + url[len("http") :] + "?command=produce&stdout=true"
        ws = websocket.create_connection(
            target,
            header=[f"Authorization: Bearer {token}"],
            subprotocols=["v5.channel.k8s.io"],
        )
        received = 0
        try:
            while True:
                frame = ws.recv()
                if not frame:
                    break
                if frame[0] == 1:
                    received += len(frame) - 1
        except websocket.WebSocketConnectionClosedException:
            pass
        finally:
            ws.close()
        return received

    return [Case("websocket-client (bare)", run)]


def _official_case(server: APIServer, folder: Path) -> list[Case]:
    try:
        import kubernetes
        from kubernetes.stream import stream
    except ImportError:
        return []
    folder.mkdir(exist_ok=True)
    api = kubernetes.config.new_client_from_config(
        str(server.write_kubeconfig(folder / "streams-kubeconfig"))
    )
    core = kubernetes.client.CoreV1Api(api)

    def run() -> int:
        response: Any = stream(
            core.connect_get_namespaced_pod_exec,
            "bench",
            "default",
            command=["produce"],
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
            _preload_content=False,
        )
        received = 0
        while response.is_open():
            response.update(timeout=1)
            received += len(response.read_stdout())
        received += len(response.read_stdout())
        response.close()
        return received

    return [Case("official stream()", run)]


_KUBECTLS = [
    ("kubectl port-forward", "kubectl"),
    ("kubectl 1.30 port-forward", "/usr/lib/google-cloud-sdk/bin/kubectl.1.30"),
]


@contextmanager
def _kubectl_case(
    server: APIServer,
    pods: ResourceClient[dict[str, Any], dict[str, Any]],
    folder: Path,
    label: str,
    command: str,
) -> Iterator[list[Case]]:
    """The ``label`` case while ``command`` (a kubectl) forwards (none without it)."""
    import re
    import shutil
    import socket
    import subprocess

    binary = shutil.which(command)
    if binary is None:
        yield []
        return
    pod = pods.get("bench")
    pod["status"] = {"phase": "Running"}  # kubectl forwards only to a running pod
    pods.update_status(pod)
    kubeconfig = server.write_kubeconfig(folder / "streams-kubeconfig")
    argv = [binary, "--kubeconfig", str(kubeconfig), "port-forward", "bench", ":80"]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        try:
            assert process.stdout is not None
            found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+)", process.stdout.readline())
            if found is None:
                yield []
                return
            local = int(found.group(1))

            def run() -> int:
                received = 0
                with socket.create_connection(("127.0.0.1", local)) as sock:
                    while data := sock.recv(1 << 20):
                        received += len(data)
                return received

            yield [Case(label, run)]
        finally:
            process.terminate()
