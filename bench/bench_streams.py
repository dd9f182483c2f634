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

* ``kgen connect()``: an in-process :class:`kgen.streams.PortStream`, read with ``recv``
  (a new ``bytes`` per read) and, as a second case, with ``recv_into`` one buffer;
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
* ``official portforward()``: the official client's ``kubernetes.stream.portforward`` socket
  (the baseline of the ratios), read with ``recv`` and, as a second case, ``recv_into``;
* ``kubectl port-forward``: a TCP client of ``kubectl port-forward bench :80`` (the ``kubectl``
  on PATH, 1.31 or later: SPDY tunnelled in a WebSocket, the test server's other protocol),
  started once before the reps;
* ``kubectl 1.30 port-forward``: the same with kubectl 1.30 (plain SPDY/3.1 on the upgraded
  connection), when ``/usr/lib/google-cloud-sdk/bin/kubectl.1.30`` is there.

Where the port-forward server runs (``--pf-server``): ``process`` (the default) starts a second
``APIServer`` with the port handler in a child process (``multiprocessing``, forked before
anything else starts), as ``bench_async_http`` does, so the clients in this process share no GIL
with the server; ``thread`` serves them from the exec cases' in-process server (the figures
before this option; client and server then share one GIL). For every port-forward case the
report also gives the CPU time this process spent per rep (``time.process_time``: every thread
of it, the ``websockets`` reader and the official client's socket-pair thread included), plus
the kubectl child's CPU (``/proc/<pid>/stat``) for the kubectl cases. With ``process`` that is
each client's own cost; with ``thread`` it includes the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
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
    parser.add_argument(
        "--pf-server",
        choices=["process", "thread"],
        default="process",
        help="port-forward server in a child process (default) or in this one",
    )
    args = parser.parse_args(argv)
    total = args.mb * 1024 * 1024
    pf_total = args.pf_mb * 1024 * 1024
    folder = Path(".bench-results")
    folder.mkdir(exist_ok=True)
    with ExitStack() as outer:
        remote = None
        if pf_total and args.pf_server == "process":
            # forked first, before this process has threads (the in-process server's)
            remote = outer.enter_context(_server_process(pf_total, folder))
        _run(args, total, pf_total, folder, remote)


def _run(
    args: argparse.Namespace,
    total: int,
    pf_total: int,
    folder: Path,
    remote: tuple[str, str, Path] | None,
) -> None:

    def produce(process: ContainerProcess) -> int:
        for _ in range(total // len(CHUNK)):
            process.stdout.write(CHUNK)
        return 0

    # anonymous requests allowed: kubectl sends no token over plain HTTP
    with APIServer(specs=[_openapi()], allow_anonymous=True) as server, ExitStack() as stack:
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
        cases += _official_case(server, folder)
        run_round_robin(cases, args.reps)
        forward_cases = []
        cpu: dict[str, list[float]] = {}
        if pf_total:
            if remote is None:
                server.containers.on_port(_sender(pf_total), pod="bench", port=80)
                target = (
                    server.url,
                    server.token,
                    server.write_kubeconfig(folder / "streams-kubeconfig"),
                )
                forward_pods = pods
            else:
                target = remote
                forward_rest = stack.enter_context(
                    contextlib.closing(
                        RESTClient(Config(host=remote[0], bearer_token=remote[1], qps=-1))
                    )
                )
                forward_pods = ResourceClient(
                    forward_rest, GroupVersionResource("", "v1", "pods"), dict, dict, "default"
                )
                forward_pods.create(
                    {"metadata": {"name": "bench"}, "spec": {"containers": [{"name": "c"}]}}
                )
            forward_cases = _port_forward_cases(*target, forward_pods, pf_total)
            for label, binary in _KUBECTLS:
                forward_cases += stack.enter_context(
                    _kubectl_case(target[2], forward_pods, label, binary)
                )
            forward_cases = [_cpu_timed(case, cpu) for case in forward_cases]
            run_round_robin(forward_cases, args.reps)
        rest.close()
    print(f"input: {args.mb} MiB of stdout per run, {args.reps} reps after a warm-up\n")
    _report(cases, "kgen", total)
    if forward_cases:
        where = (
            "an APIServer in a child process"
            if remote
            else "the same APIServer, in this process (one GIL)"
        )
        print(
            f"\nport-forward: {args.pf_mb} MiB per connection from {where}, {args.reps} reps, "
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n"
        )
        _report_forward(forward_cases, cpu, "official portforward()", pf_total)


def _openapi() -> Path:
    return shared_dir() / "specs" / "kubernetes" / "v1.35" / "openapi-v3"


def _sender(total: int) -> Callable[[PortConnection], None]:
    """The port handler: ``total`` bytes (whole 256 KiB chunks) on each connection."""

    def send(connection: PortConnection) -> None:
        for _ in range(total // len(CHUNK)):
            connection.socket.sendall(CHUNK)

    return send


def _serve_ports(total: int, folder: Path, conn: Connection) -> None:
    """In the child process: an APIServer whose pods' port 80 sends ``total`` bytes; sends
    ``(url, token, kubeconfig)`` to the parent and serves until it says stop (or goes)."""
    with APIServer(specs=[_openapi()], allow_anonymous=True) as server:
        server.containers.on_port(_sender(total), pod="bench", port=80)
        kubeconfig = server.write_kubeconfig(folder / "streams-process-kubeconfig")
        conn.send((server.url, server.token, kubeconfig))
        with contextlib.suppress(EOFError):
            conn.recv()


@contextmanager
def _server_process(total: int, folder: Path) -> Iterator[tuple[str, str, Path]]:
    """The port-forward server in a forked child: ``(url, token, kubeconfig)`` while it runs."""
    fork = multiprocessing.get_context("fork")
    parent, child = fork.Pipe()
    process = fork.Process(target=_serve_ports, args=(total, folder, child), daemon=True)
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(10)


@dataclass
class _ForwardCase(Case):
    """A case whose work is partly in a child process: ``child_cpu`` reads its CPU seconds."""

    child_cpu: Callable[[], float] | None = None


def _process_cpu(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_timed(case: Case, cpu: dict[str, list[float]]) -> Case:
    """``case`` with each rep's CPU time (this process, plus its child's) in ``cpu[name]``,
    and the child's alone in ``cpu[name + " child"]``."""
    child = case.child_cpu if isinstance(case, _ForwardCase) else None

    def run() -> object:
        start, child_start = time.process_time(), child() if child else 0.0
        result = case.run()
        child_spent = child() - child_start if child else 0.0
        cpu.setdefault(case.name, []).append(time.process_time() - start + child_spent)
        cpu.setdefault(case.name + " child", []).append(child_spent)
        return result

    return Case(case.name, run)


def _report_forward(
    cases: list[Case], cpu: dict[str, list[float]], baseline: str, total: int
) -> None:
    """Wall time and CPU time per case, with the baseline's over each (above 1: the case is
    faster, or cheaper, than the baseline); without the baseline, ratios to the first case."""
    base_case = next((c for c in cases if c.name == baseline), cases[0])
    base = statistics.median(base_case.results)
    base_cpu = statistics.median(cpu[base_case.name][1:])
    print(
        f"| case | wall ms median [min-max] | MB/s | {base_case.name} / case, wall "
        f"| client CPU ms median [min-max] | {base_case.name} / case, CPU |"
    )
    print("|---|---|---|---|---|---|")
    for case in cases:
        med = statistics.median(case.results)
        used = cpu[case.name][1:]  # the warm-up rep left out, as for wall time
        child = statistics.median(cpu[case.name + " child"][1:])
        of_child = f" (kubectl {child * 1000:,.0f})" if child else ""
        print(
            f"| {case.name} | {_millis(case.results)} | {total / 1e6 / med:,.0f} | "
            f"{base / med:.2f} | {_millis(used)}{of_child} | "
            f"{base_cpu / statistics.median(used):.2f} |"
        )


def _millis(times: list[float]) -> str:
    return (
        f"{statistics.median(times) * 1000:,.0f} "
        f"[{min(times) * 1000:,.0f}-{max(times) * 1000:,.0f}]"
    )


def _report(cases: list[Case], baseline: str, total: int) -> None:
    print(table(cases, baseline, unit="ms"))
    print("\n| case | median MB/s |\n|---|---|")
    for case in cases:
        print(f"| {case.name} | {total / 1e6 / statistics.median(case.results):,.0f} |")


def _port_forward_cases(
    url: str,
    token: str,
    kubeconfig: Path,
    pods: ResourceClient[dict[str, Any], dict[str, Any]],
    pf_total: int,
) -> list[Case]:
    import socket

    def connect() -> int:
        received = 0
        with pods.port_forward("bench").connect(80) as stream:
            while data := stream.recv(1 << 20):
                received += len(data)
        return received

    buffer = bytearray(1 << 20)

    def connect_into() -> int:
        received = 0
        with pods.port_forward("bench").connect(80) as stream:
            while count := stream.recv_into(buffer):
                received += count
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
        Case("kgen connect(), recv_into", connect_into),
        Case("kgen async connect()", lambda: asyncio.run(read_async())),
        Case("kgen listener", listener),
        _bare_port_forward_case(url, token),
        _server_alone_case(url, token, pf_total),
    ]
    try:
        import kubernetes
        from kubernetes.stream import portforward
    except ImportError:
        return cases
    api = kubernetes.config.new_client_from_config(str(kubeconfig))
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

    def official_into() -> int:
        forward = portforward(
            core.connect_get_namespaced_pod_portforward, "bench", "default", ports="80"
        )
        sock = forward.socket(80)
        received = 0
        while count := sock.recv_into(buffer):
            received += count
        forward.close()
        return received

    return [
        *cases,
        Case("official portforward()", official),
        Case("official portforward(), recv_into", official_into),
    ]


def _bare_port_forward_case(server_url: str, token: str) -> Case:
    from websockets.sync.client import ClientConnection, connect

    class Connection(ClientConnection):
        recv_bufsize = 1 << 20  # as kgen's (the library's default is 64 KiB)

    url = "ws" + server_url[len("http") :] + "/api/v1/namespaces/default/pods/bench/portforward"

    def run() -> int:
        received = 0
        with connect(
            url + "?ports=80",
            additional_headers={"Authorization": f"Bearer {token}"},
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


def _server_alone_case(url: str, token: str, total: int) -> Case:
    import socket

    host, port = url[len("http://") :].rsplit(":", 1)
    request = (
        "GET /api/v1/namespaces/default/pods/bench/portforward?ports=80 HTTP/1.1\r\n"
        f"Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: v4.channel.k8s.io\r\nAuthorization: Bearer {token}"
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
    kubeconfig: Path,
    pods: ResourceClient[dict[str, Any], dict[str, Any]],
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

            yield [_ForwardCase(label, run, child_cpu=lambda: _process_cpu(process.pid))]
        finally:
            process.terminate()
