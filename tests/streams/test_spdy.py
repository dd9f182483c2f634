"""kubectl before its WebSocket transports as the judge of plain SPDY/3.1 (``Upgrade:
SPDY/3.1`` on the HTTP connection): exec, attach and cp with kubectl 1.27 and 1.29, and
port-forward with kubectl 1.30, against the TLS test server."""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import os
import pty
import re
import socket
import ssl
import struct
import subprocess
import termios
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.client import ResourceClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer, ContainerProcess, PortConnection
from tests.streams.conftest import PODS, MakePod
from tests.streams.fakefs import FakeFS
from tests.streams.shell import shell
from tests.streams.spdyclient import SPDYExec
from tests.streams.test_judges import _running_pod
from tests.testing.test_kubectl import Kubectl, _binary

SPDY_EXEC_KUBECTLS = ("1.27", "1.29")
"""kubectl speaks exec, attach (and so cp) over plain SPDY up to 1.29."""


@pytest.fixture(params=SPDY_EXEC_KUBECTLS)
def kubectl(request: pytest.FixtureRequest, server: APIServer, tmp_path: Path) -> Iterator[Kubectl]:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    yield Kubectl(_binary(str(request.param)), kubeconfig, "default", tmp_path / "cache")


@pytest.mark.kubectl
def test_exec_output_and_exit_code(server: APIServer, kubectl: Kubectl, make_pod: MakePod) -> None:
    """stdout and stderr arrive on their own streams; v4's Status carries the exit code."""
    server.containers.on_exec(shell)
    name = make_pod()
    done = kubectl.run(
        "exec", name, "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=False
    )
    assert (done.stdout, done.returncode) == ("out\n", 3)
    assert done.stderr.splitlines() == ["err", "command terminated with exit code 3"]
    assert kubectl.run("exec", name, "--", "echo", "fine").stdout == "fine\n"


@pytest.mark.kubectl
def test_exec_with_stdin(server: APIServer, kubectl: Kubectl, make_pod: MakePod) -> None:
    """``-i``: stdin streams to the process and its end (FIN) ends the process's input."""
    server.containers.on_exec(shell)
    text = "".join(f"line {i}\n" for i in range(20000))
    name = make_pod()
    assert kubectl.run("exec", "-i", name, "--", "cat", stdin=text).stdout == text
    counted = kubectl.run("exec", "-i", name, "--", "wc", "-c", stdin=text)
    assert counted.stdout == f"{len(text)}\n"


@pytest.mark.kubectl
def test_exec_container_choice_and_errors(
    server: APIServer, kubectl: Kubectl, make_pod: MakePod
) -> None:
    """The container is chosen as over WebSocket; a handler that fails is reported."""

    def which(process: ContainerProcess) -> int:
        if process.container == "broken":
            raise RuntimeError("the handler broke")
        process.stdout.write(process.container + "\n")
        return 0

    server.containers.on_exec(which)
    name = make_pod("web", "broken")
    done = kubectl.run("exec", name, "--", "hostname")
    assert done.stdout == "web\n"
    failed = kubectl.run("exec", name, "-c", "broken", "--", "hostname", check=False)
    assert failed.returncode == 1
    assert "RuntimeError('the handler broke')" in failed.stderr


@pytest.mark.kubectl
def test_attach(server: APIServer, kubectl: Kubectl, make_pod: MakePod) -> None:
    def main_process(process: ContainerProcess) -> int:
        process.stdout.write(b"listening on :8080\n")
        return 0

    server.containers.on_attach(main_process)
    assert "listening on :8080" in kubectl.run("attach", make_pod()).stdout


@pytest.mark.kubectl
def test_cp_a_file_both_ways(
    server: APIServer, kubectl: Kubectl, make_pod: MakePod, tmp_path: Path
) -> None:
    """``kubectl cp`` (tar over exec, stdin one way and stdout the other) into the fake
    container's file system and back."""
    root = tmp_path / "container"
    (root / "data").mkdir(parents=True)
    fs = FakeFS(root)
    server.containers.on_exec(fs)
    name = make_pod()
    local = tmp_path / "notes.txt"
    payload = "".join(f"note {i}\n" for i in range(50000))
    local.write_text(payload)
    kubectl.run("cp", str(local), f"{name}:/data/notes.txt")
    assert fs.path("/data/notes.txt").read_text() == payload
    back = tmp_path / "back.txt"
    kubectl.run("cp", f"{name}:/data/notes.txt", str(back))
    assert back.read_text() == payload


def _upgrade(server: APIServer, path: str, versions: list[str]) -> tuple[int, str]:
    """Send a SPDY upgrade request by hand; the status code and body of the answer."""
    assert server.ca_pem is not None
    context = ssl.create_default_context(cadata=server.ca_pem.decode())
    host, port = server.url.removeprefix("https://").split(":")
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as sock,
    ):
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Authorization: Bearer {server.token}"]
        lines += ["Connection: Upgrade", "Upgrade: SPDY/3.1", "Content-Length: 0"]
        lines += [f"X-Stream-Protocol-Version: {v}" for v in versions]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = http.client.HTTPResponse(sock)  # type: ignore[arg-type]
        response.begin()
        return response.status, response.read().decode()


def test_sub_protocols_are_negotiated(server: APIServer, make_pod: MakePod) -> None:
    """As the kubelet's handshake: none offered is a 400, none shared a 403 naming what is."""
    name = make_pod()
    base = f"/api/v1/namespaces/default/pods/{name}"
    exec_path = f"{base}/exec?command=true&stdout=true"
    status, body = _upgrade(server, exec_path, [])
    assert (status, "X-Stream-Protocol-Version is required" in body) == (400, True)
    status, body = _upgrade(server, exec_path, ["v9.channel.k8s.io"])
    assert status == 403
    assert "client supports [v9.channel.k8s.io], server accepts [v5.channel.k8s.io" in body
    status, body = _upgrade(server, f"{base}/portforward", ["v4.channel.k8s.io"])
    assert (status, "server accepts [portforward.k8s.io]" in body) == (403, True)


@pytest.mark.kubectl
def test_exec_with_a_terminal_sends_its_size(
    server: APIServer, kubectl: Kubectl, make_pod: MakePod
) -> None:
    """``-it`` under a real terminal: no stderr stream, a ``resize`` stream whose first size is
    the terminal's (v3 and later)."""

    def report_size(process: ContainerProcess) -> int:
        size = process.sizes.get(timeout=20)
        process.stdout.write(f"tty={process.tty} {size.width}x{size.height}\n")
        return 0

    server.containers.on_exec(report_size)
    name = make_pod()
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 31, 97, 0, 0))
    try:
        with subprocess.Popen(
            kubectl.argv("exec", "-it", name, "--", "stty", "size"),
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=kubectl.env,
        ) as process:
            os.close(terminal)
            terminal = -1
            seen = bytearray()
            with contextlib.suppress(OSError):  # EIO once kubectl has closed the terminal
                while chunk := os.read(controller, 4096):
                    seen += chunk
            assert process.wait(timeout=30) == 0, seen
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert "tty=True 97x31" in seen.decode(errors="replace")


def _own_server(specs_dir: Path) -> APIServer:
    return APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"], tls="self-signed"
    ).start()


@pytest.mark.kubectl
def test_stopping_the_server_ends_open_spdy_sessions(specs_dir: Path, tmp_path: Path) -> None:
    """An exec (kubectl 1.29, stdin still open) and a forwarded connection (kubectl 1.30) in
    progress when the server stops: the handlers see the end, both kubectls end, and ``stop``
    returns having joined the sessions."""
    server = _own_server(specs_dir)
    executing, exec_ended, port_ended = threading.Event(), threading.Event(), threading.Event()

    def stuck(process: ContainerProcess) -> int:
        process.stdout.write(b"partial\n")
        executing.set()
        if process.disconnected.wait(30):
            exec_ended.set()
        return 0

    def hold(connection: PortConnection) -> None:
        connection.socket.sendall(b"ready")
        while connection.socket.recv(65536):
            pass
        port_ended.set()

    server.containers.on_exec(stuck)
    server.containers.on_port(hold, port=80)
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    old_exec = Kubectl(_binary("1.29"), kubeconfig, "default", tmp_path / "cache")
    old_forward = Kubectl(_binary("1.30"), kubeconfig, "default", tmp_path / "cache")
    processes: list[subprocess.Popen[str]] = []
    try:
        with RESTClient(
            Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem)
        ) as rest:
            pods: Any = ResourceClient(rest, PODS, dict, dict, "default")
            pods.create({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
            _running_pod(lambda: "p", pods)
        execution = subprocess.Popen(
            old_exec.argv("exec", "-i", "p", "--", "sleep"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=old_exec.env,
        )
        processes.append(execution)
        forward = subprocess.Popen(
            old_forward.argv("port-forward", "p", ":80"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=old_forward.env,
        )
        processes.append(forward)
        assert execution.stdout is not None and forward.stdout is not None
        assert execution.stdout.readline() == "partial\n"
        found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 80", forward.stdout.readline())
        assert found
        with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=10) as sock:
            assert sock.recv(5) == b"ready"
            stopper = threading.Thread(target=server.stop)
            stopper.start()
            stopper.join(30)
            assert not stopper.is_alive()
            assert exec_ended.is_set() and port_ended.is_set()
            assert sock.recv(100) == b""
        # kubectl ends; with an empty error stream its v4 client reports success (client-go's
        # reading of a connection that closes without a Status), so its code says nothing here
        execution.wait(timeout=20)
    finally:
        for process in processes:
            process.kill()
            process.communicate()
        server.stop()


def _exec_query(*command: str, **flags: bool) -> list[tuple[str, str]]:
    return [("command", c) for c in command] + [(k, "true") for k, on in flags.items() if on]


@pytest.mark.parametrize(
    ("protocol", "failure"),
    [
        ("v5.channel.k8s.io", b'"reason":"NonZeroExitCode"'),
        ("v4.channel.k8s.io", b'"reason":"NonZeroExitCode"'),
        ("v3.channel.k8s.io", b"command terminated with non-zero exit code: exit status 3"),
        ("v2.channel.k8s.io", b"command terminated with non-zero exit code: exit status 3"),
        ("channel.k8s.io", b"command terminated with non-zero exit code: exit status 3"),
    ],
)
def test_each_sub_protocol_reports_the_outcome_its_way(
    server: APIServer, make_pod: MakePod, protocol: str, failure: bytes
) -> None:
    """v4 and v5 write the Status JSON on the error stream, older ones the failure's message
    only and nothing on success; stdout and stderr on their streams either way."""
    server.containers.on_exec(shell)
    name = make_pod()
    for script, error in (("echo out; echo err >&2; exit 3", failure), ("echo out", None)):
        query = _exec_query("sh", "-c", script, stdout=True, stderr=True)
        client = SPDYExec(server, name, query, protocol)
        try:
            assert f"X-Stream-Protocol-Version: {protocol}" in client.head
            streams = [client.open(kind) for kind in ("error", "stdout", "stderr")]
            got = client.collect(streams)
        finally:
            client.close()
        assert got[streams[1]] == b"out\n"
        assert got[streams[2]] == (b"err\n" if error else b"")
        if error is not None:
            assert error in got[streams[0]]
        elif protocol.startswith(("v4", "v5")):
            assert got[streams[0]] == b'{"metadata":{},"status":"Success"}'
        else:
            assert got[streams[0]] == b""


@pytest.mark.parametrize("protocol", ["v3.channel.k8s.io", "v2.channel.k8s.io"])
def test_a_terminal_gets_a_resize_stream_from_v3(
    server: APIServer, make_pod: MakePod, protocol: str
) -> None:
    """With a TTY, v3 waits for a ``resize`` stream whose sizes may arrive split across frames
    (a malformed one ends the sizes, not the session); v2 has no resizing and starts without."""
    sizes: list[tuple[int, int]] = []

    def terminal(process: ContainerProcess) -> int:
        process.stdin.read()
        while not process.sizes.empty():
            size = process.sizes.get()
            sizes.append((size.width, size.height))
        process.stdout.write(f"{len(sizes)} sizes\n")
        return 0

    server.containers.on_exec(terminal)
    query = _exec_query("sh", stdin=True, stdout=True, tty=True)
    client = SPDYExec(server, make_pod(), query, protocol)
    try:
        kinds = ["error", "stdin", "stdout"]
        streams = [client.open(kind) for kind in kinds]
        if protocol.startswith("v3"):
            resize = client.open("resize")
            client.send(resize, b'{"Width":80,"Hei')
            client.send(resize, b'ght":24}\n{"Width":100,"Height":30}')
            client.send(resize, b'{"Width":"wide"}{"Width":1,"Height":1}')
        client.send(streams[1], b"", fin=True)
        got = client.collect(streams)
    finally:
        client.close()
    expected = [(80, 24), (100, 30)] if protocol.startswith("v3") else []
    assert sizes == expected and got[streams[2]] == f"{len(expected)} sizes\n".encode()
