"""Independent clients of the same protocol as judges of the server's exec, attach and logs:
kubectl (WebSocket v5 from 1.30 on) and the official Python client (``kubernetes.stream``, v4;
``read_namespaced_pod_log``)."""

from __future__ import annotations

import gc
import subprocess
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kgen.testing import APIServer, ContainerProcess
from tests.streams.conftest import MakePod
from tests.streams.shell import shell
from tests.testing.test_kubectl import Kubectl, _binary

WEBSOCKET_KUBECTLS = ("1.30", "1.33")
"""kubectl speaks exec over WebSocket from 1.30 (SPDY before, which the server refuses)."""


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


@pytest.mark.kubectl
def test_old_kubectl_gets_a_clear_refusal(
    server: APIServer, make_pod: MakePod, tmp_path: Path
) -> None:
    """kubectl 1.29 and older upgrade to SPDY, which is not served: its error says so."""
    server.containers.on_exec(shell)
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    old = Kubectl(_binary("1.27"), kubeconfig, "default", tmp_path / "cache")
    done = old.run("exec", make_pod(), "--", "true", check=False)
    assert done.returncode != 0
    assert "not served here: use a WebSocket" in done.stderr


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
