"""Independent clients of the same protocol as judges of the server's exec, attach and logs:
kubectl (WebSocket v5 from 1.30 on) and the official Python client (``kubernetes.stream``, v4;
``read_namespaced_pod_log``)."""

from __future__ import annotations

import gc
import http.client
import re
import signal
import socket
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kgen.client import ResourceClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer, ContainerProcess
from tests.streams.conftest import PODS, MakePod, echo
from tests.streams.shell import shell
from tests.testing.test_kubectl import Kubectl, _binary

WEBSOCKET_KUBECTLS = ("1.30", "1.33")
"""kubectl speaks exec over WebSocket from 1.30 (plain SPDY before: tests/streams/test_spdy.py)."""


@pytest.fixture(params=WEBSOCKET_KUBECTLS)
def kubectl(request: pytest.FixtureRequest, server: APIServer, tmp_path: Path) -> Iterator[Kubectl]:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    yield Kubectl(_binary(str(request.param)), kubeconfig, "default", tmp_path / "cache")


@pytest.mark.kubectl
def test_kubectl_exec_output_and_exit_code(
    server: APIServer, kubectl: Kubectl, make_pod: MakePod
) -> None:
    server.containers.on_exec(shell)
    name = make_pod()
    done = kubectl.run(
        "exec", name, "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=False
    )
    assert (done.stdout, done.returncode) == ("out\n", 3)
    assert done.stderr.splitlines() == ["err", "command terminated with exit code 3"]


@pytest.mark.kubectl
def test_kubectl_exec_with_stdin(server: APIServer, kubectl: Kubectl, make_pod: MakePod) -> None:
    server.containers.on_exec(shell)
    text = "".join(f"line {i}\n" for i in range(2000))
    done = kubectl.run("exec", "-i", make_pod(), "--", "cat", stdin=text)
    assert done.stdout == text


@pytest.mark.kubectl
def test_kubectl_exec_picks_the_default_container(
    server: APIServer, kubectl: Kubectl, make_pod: MakePod
) -> None:
    def which(process: ContainerProcess) -> int:
        process.stdout.write(process.container + "\n")
        return 0

    server.containers.on_exec(which)
    name = make_pod("web", "sidecar")
    done = kubectl.run("exec", name, "--", "hostname")
    assert done.stdout == "web\n"
    assert 'Defaulted container "web" out of: web, sidecar' in done.stderr
    assert kubectl.run("exec", name, "-c", "sidecar", "--", "hostname").stdout == "sidecar\n"
    missing = kubectl.run("exec", "no-such-pod", "--", "true", check=False)
    assert missing.returncode == 1 and 'pods "no-such-pod" not found' in missing.stderr


@pytest.mark.kubectl
def test_kubectl_attach(server: APIServer, kubectl: Kubectl, make_pod: MakePod) -> None:
    def main_process(process: ContainerProcess) -> int:
        process.stdout.write(b"listening on :8080\n")
        return 0

    server.containers.on_attach(main_process)
    done = kubectl.run("attach", make_pod())
    assert "listening on :8080" in done.stdout


def test_the_official_client_stream(server: APIServer, make_pod: MakePod, tmp_path: Path) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes.stream import stream

    server.containers.on_exec(shell)
    name = make_pod()
    api_client = kubernetes.config.new_client_from_config(
        str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    )
    response: Any = None
    try:
        core = kubernetes.client.CoreV1Api(api_client)
        response = stream(
            core.connect_get_namespaced_pod_exec,
            name,
            "default",
            command=["sh", "-c", "echo out; echo err >&2; exit 3"],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        response.run_forever(timeout=20)
        assert (response.read_stdout(), response.read_stderr()) == ("out\n", "err\n")
        assert response.returncode == 3
        response.close()
        joined = stream(
            core.connect_get_namespaced_pod_exec,
            name,
            "default",
            command=["echo", "together"],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
        )
        assert joined == "together\n"
    finally:
        api_client.close()
        response = None
        with warnings.catch_warnings():  # the official client leaves its sockets to the collector
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


# -- logs --------------------------------------------------------------------------------------


@pytest.mark.kubectl
def test_kubectl_logs_options(server: APIServer, kubectl: Kubectl, make_pod: MakePod) -> None:
    name = make_pod("web", "sidecar")
    now = datetime.now(UTC)
    web = server.containers.log("default", name, "web")
    web.write("an hour ago\n", at=now - timedelta(hours=1))
    web.write("a second ago\n", at=now - timedelta(seconds=1))
    server.containers.log("default", name, "sidecar").write("from the sidecar\n")
    whole = kubectl.run("logs", name)
    assert whole.stdout == "an hour ago\na second ago\n"
    assert 'Defaulted container "web" out of: web, sidecar' in whole.stderr
    assert kubectl.run("logs", name, "-c", "sidecar").stdout == "from the sidecar\n"
    assert kubectl.run("logs", name, "-c", "web", "--tail=1").stdout == "a second ago\n"
    assert kubectl.run("logs", name, "-c", "web", "--since=10m").stdout == "a second ago\n"
    since_time = (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert kubectl.run("logs", name, "-c", "web", f"--since-time={since_time}").stdout == (
        "a second ago\n"
    )
    assert kubectl.run("logs", name, "-c", "web", "--limit-bytes=5").stdout == "an ho"
    stamped = kubectl.run("logs", name, "-c", "web", "--timestamps").stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["an hour ago", "a second ago"]
    first = datetime.fromisoformat(stamped[0].split(" ")[0])
    assert abs(first - (now - timedelta(hours=1))) < timedelta(milliseconds=1)


@pytest.mark.kubectl
def test_kubectl_logs_previous_and_errors(
    server: APIServer, kubectl: Kubectl, make_pod: MakePod
) -> None:
    name = make_pod()
    none = kubectl.run("logs", name, "--previous", check=False)
    assert none.returncode == 1
    assert (
        f'Error from server (BadRequest): previous terminated container "main" in pod "{name}" '
        "not found"
    ) in none.stderr
    server.containers.log("default", name, "main").write("before the crash\n")
    server.containers.restart("default", name, "main").write("after the restart\n")
    assert kubectl.run("logs", name, "--previous").stdout == "before the crash\n"
    assert kubectl.run("logs", name).stdout == "after the restart\n"
    missing = kubectl.run("logs", "no-such-pod", check=False)
    assert missing.returncode == 1 and 'pods "no-such-pod" not found' in missing.stderr


@pytest.mark.kubectl
def test_kubectl_logs_follow(server: APIServer, kubectl: Kubectl, make_pod: MakePod) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("old\nstarted\n")
    follower = subprocess.Popen(
        kubectl.argv("logs", "-f", "--tail=1", name),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=kubectl.env,
    )
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == "started\n"
        log.write("written while following\n")
        assert follower.stdout.readline() == "written while following\n"
        log.end()
        rest, errors = follower.communicate(timeout=30)
    finally:
        follower.kill()
        follower.wait()
    assert (rest, follower.returncode) == ("", 0), errors


def test_the_official_client_reads_and_follows_logs(
    server: APIServer, make_pod: MakePod, tmp_path: Path
) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("one\ntwo\n")
    api_client = kubernetes.config.new_client_from_config(
        str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    )
    response: Any = None
    try:
        core = kubernetes.client.CoreV1Api(api_client)
        assert core.read_namespaced_pod_log(name, "default") == "one\ntwo\n"
        assert core.read_namespaced_pod_log(name, "default", tail_lines=1) == "two\n"
        stamped = core.read_namespaced_pod_log(name, "default", timestamps=True, limit_bytes=4)
        assert stamped == str(datetime.now(UTC).year)
        with pytest.raises(kubernetes.client.ApiException) as caught:
            core.read_namespaced_pod_log(name, "default", previous=True)
        assert caught.value.status == 400 and "previous terminated container" in caught.value.body
        response = core.read_namespaced_pod_log(
            name, "default", follow=True, _preload_content=False
        )
        lines = (line for line in response.stream(amt=None))
        assert next(lines) == b"one\ntwo\n"
        log.write("three\n")
        assert next(lines) == b"three\n"
        log.end()
        assert list(lines) == []
        response.release_conn()
    finally:
        api_client.close()
        response = None
        with warnings.catch_warnings():  # the official client leaves its sockets to the collector
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def test_the_official_client_portforward(
    server: APIServer, make_pod: MakePod, container: tuple[str, int], tmp_path: Path
) -> None:
    """``kubernetes.stream.portforward`` opens one WebSocket for three ports (``ports=80,9090,81``):
    an HTTP request to a real server behind one, a handler behind the other, and the error
    text for a port nothing answers, each on its own channels."""
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes.stream import portforward

    name = make_pod()
    server.containers.forward(pod=name, port=80, to=container)
    server.containers.on_port(echo, pod=name, port=9090)
    api_client = kubernetes.config.new_client_from_config(
        str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    )
    try:
        core = kubernetes.client.CoreV1Api(api_client)
        forward = portforward(
            core.connect_get_namespaced_pod_portforward, name, "default", ports="80,9090,81"
        )
        conn = http.client.HTTPConnection("pod")
        conn.sock = forward.socket(80)
        conn.request("GET", "/judged")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"hello from /judged\n")
        side = forward.socket(9090)
        side.settimeout(10)
        side.sendall(b"second port")
        assert side.recv(100) == b"SECOND PORT"
        refused = forward.socket(81)
        refused.settimeout(10)
        assert refused.recv(100) == b""
        assert f"error forwarding port 81 to pod default/{name}" in forward.error(81)
        assert forward.error(80) is None and forward.error(9090) is None
        forward.close()
    finally:
        api_client.close()
        with warnings.catch_warnings():  # the official client leaves its sockets to the collector
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


TUNNELLING_KUBECTLS = ("1.31", "1.33")
"""kubectl tunnels port-forward's SPDY in a WebSocket from 1.31 (plain SPDY before:
tests/streams/test_spdy.py)."""


def _running_pod(make_pod: MakePod, pods: Any) -> str:
    name = make_pod()
    pod = pods.get(name)
    pod["status"] = {"phase": "Running"}  # kubectl forwards only to a running pod
    pods.update_status(pod)
    return name


PORT_FORWARD_KUBECTLS = ("1.30", *TUNNELLING_KUBECTLS)
"""1.30 speaks plain SPDY/3.1 over an HTTP upgrade; 1.31 and later tunnel SPDY in a WebSocket."""


@pytest.mark.kubectl
@pytest.mark.parametrize("version", PORT_FORWARD_KUBECTLS)
def test_kubectl_port_forward(
    server: APIServer,
    make_pod: MakePod,
    pods: Any,
    container: tuple[str, int],
    version: str,
    tmp_path: Path,
) -> None:
    """``kubectl port-forward POD :80 :9090 :81`` (plain SPDY/3.1 for 1.30, SPDY/3.1 in a
    WebSocket after): an HTTP request reaches the container's real server, five concurrent
    connections (one of 9 MB) are echoed whole by a handler, and a port nothing answers makes
    kubectl report the kubelet's error; the tunnelling versions then end ("lost connection to
    pod"), 1.30 goes on forwarding until stopped."""
    name = _running_pod(make_pod, pods)
    server.containers.forward(pod=name, port=80, to=container)
    server.containers.on_port(echo, pod=name, port=9090)
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    kubectl = Kubectl(_binary(version), kubeconfig, "default", tmp_path / "cache")
    argv = kubectl.argv("port-forward", name, ":80", ":9090", ":81")
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kubectl.env
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            local: dict[int, int] = {}
            while len(local) < 3 and (line := process.stdout.readline()):
                found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", line)
                if found:
                    local[int(found.group(2))] = int(found.group(1))
            assert sorted(local) == [80, 81, 9090], process.stderr.read()
            conn = http.client.HTTPConnection("127.0.0.1", local[80], timeout=10)
            conn.request("GET", "/through-kubectl")
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"hello from /through-kubectl\n")
            conn.close()
            results: dict[int, bytes] = {}

            def echoed(i: int, size: int) -> None:
                with socket.create_connection(("127.0.0.1", local[9090]), timeout=20) as sock:
                    payload = (b"via kubectl %d " % i) * (size // 16)
                    sender = threading.Thread(target=sock.sendall, args=(payload,))
                    sender.start()
                    received = bytearray()
                    while len(received) < len(payload) and (chunk := sock.recv(1 << 20)):
                        received += chunk
                    sender.join()
                    results[i] = len(received) if received == payload.upper() else -1

            clients = [threading.Thread(target=echoed, args=(i, 64 * 1024)) for i in range(4)]
            clients.append(threading.Thread(target=echoed, args=(4, 10 * 1024 * 1024)))
            for client in clients:
                client.start()
            for client in clients:
                client.join()
            sizes = {i: 14 * (64 * 1024 // 16) for i in range(4)} | {4: 14 * (10 << 20) // 16}
            assert results == sizes  # each connection echoed whole, the last 9 MB
            with socket.create_connection(("127.0.0.1", local[81]), timeout=10) as sock:
                assert sock.recv(100) == b""
            if version in TUNNELLING_KUBECTLS:
                assert process.wait(timeout=20) == 1
            else:
                process.terminate()
            errors = process.stderr.read()
        finally:
            process.kill()
    assert "-> 81: error forwarding port 81" in errors and "connection refused" in errors
    if version in TUNNELLING_KUBECTLS:
        assert "an error occurred forwarding" in errors and "lost connection to pod" in errors


@pytest.mark.kubectl
def test_testserver_forward_option_serves_kubectl_port_forward(
    specs_dir: Path, container: tuple[str, int], tmp_path: Path
) -> None:
    """``kgen testserver --forward '*:80=HOST:PORT'``: kubectl port-forwards to any pod's port
    80 and reaches the server at HOST:PORT; a malformed ``--forward`` is a usage error."""
    kubeconfig = tmp_path / "kubeconfig"
    specs = specs_dir / "kubernetes" / "v1.35" / "openapi-v3"
    command = [sys.executable, "-m", "kgen", "testserver", "--spec", str(specs)]
    command += [
        "--no-controllers",  # a bare store: this is about --forward, not the pods' lifecycle
        "--kubeconfig-out",
        str(kubeconfig),
        "--forward",
        f"*:80={container[0]}:{container[1]}",
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().split()[-1]
            while "press Ctrl-C" not in server.stdout.readline():
                pass
            with RESTClient(Config(host=url)) as rest:
                pods: Any = ResourceClient(rest, PODS, dict, dict, "default")
                pods.create({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c"}]}})
                _running_pod(lambda: "web", pods)
            kubectl = Kubectl(_binary("1.33"), kubeconfig, "default", tmp_path / "cache")
            argv = kubectl.argv("port-forward", "web", ":80")
            with subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kubectl.env
            ) as forward:
                try:
                    assert forward.stdout is not None
                    line = forward.stdout.readline()
                    found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 80", line)
                    assert found, line
                    conn = http.client.HTTPConnection("127.0.0.1", int(found.group(1)), timeout=10)
                    conn.request("GET", "/from-the-cli")
                    assert conn.getresponse().read() == b"hello from /from-the-cli\n"
                    conn.close()
                finally:
                    forward.terminate()
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=20)
    assert server.returncode == 0
    bad = subprocess.run(
        [*command[:6], "--forward", "web=127.0.0.1:80"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "expected [NS/]POD:PORT=HOST:PORT" in bad.stderr
