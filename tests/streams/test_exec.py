"""kgen's exec and attach against the test server: exit codes, stdin, TTY, sizes, errors."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from kgen.client import ResourceClient
from kgen.rest import (
    Config,
    RESTClient,
    StatusError,
    is_bad_request,
    is_forbidden,
    is_internal_error,
    is_not_found,
)
from kgen.streams import V5, StreamError
from kgen.testing import APIServer, ContainerProcess, Rule, User
from tests.streams.conftest import PODS, MakePod
from tests.streams.shell import shell

Pods = ResourceClient[dict[str, Any], dict[str, Any]]


def test_stdout_stderr_and_exit_code(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    server.containers.on_exec(shell)
    name = make_pod()
    failed = pods.exec(name, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (failed.stdout, failed.stderr, failed.exit_code) == (b"out\n", b"err\n", 3)
    with pytest.raises(RuntimeError, match="exited with code 3: err"):
        failed.check()
    ok = pods.exec(name, ["echo", "hello", "world"])
    assert (ok.stdout, ok.stderr, ok.exit_code) == (b"hello world\n", b"", 0)


def test_stdin_bytes_are_sent_then_closed(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    server.containers.on_exec(shell)
    result = pods.exec(make_pod(), ["cat"], stdin=b"line one\nline two\n", timeout=10)
    assert result.stdout == b"line one\nline two\n" and result.exit_code == 0


def test_stdin_streams_from_a_file(
    server: APIServer, pods: Pods, make_pod: MakePod, tmp_path: Path
) -> None:
    server.containers.on_exec(shell)
    data = os.urandom(20 * 1024 * 1024 + 17)
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    with path.open("rb") as source:
        result = pods.exec(make_pod(), ["sha256sum"], stdin=source, timeout=60)
    assert result.stdout.decode().split()[0] == hashlib.sha256(data).hexdigest()


def test_large_output_arrives_whole(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    block = os.urandom(1024 * 1024)

    def producer(process: ContainerProcess) -> int:
        for _ in range(40):
            process.stdout.write(block)
        process.stderr.write(b"done")
        return 0

    server.containers.on_exec(producer)
    result = pods.exec(make_pod(), ["produce"], timeout=60)
    assert result.stdout == block * 40 and result.stderr == b"done"


def test_interactive_session(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    server.containers.on_exec(shell)
    with pods.open_exec(make_pod(), ["cat"], stdin=True) as session:
        assert session.protocol == V5
        for word in ("alpha\n", "beta\n"):
            session.write(word)
            output = session.read(timeout=10)
            assert output is not None and (output.stream, output.data) == ("stdout", word.encode())
        assert session.exit_code is None
        session.close_stdin()
        assert session.wait(timeout=10) == 0
        assert session.exit_code == 0


def test_tty_resize_reaches_the_process_and_merges_stderr(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    def terminal(process: ContainerProcess) -> int:
        assert process.tty
        process.stderr.write(b"prompt$ ")
        for _ in range(2):
            size = process.sizes.get(timeout=10)
            process.stdout.write(f"{size.width}x{size.height}\n")
        return 0

    server.containers.on_exec(terminal)
    with pods.open_exec(make_pod(), ["sh"], stdin=True, tty=True) as session:
        session.resize(80, 24)
        session.resize(132, 43)
        chunks = list(session)
        assert {c.stream for c in chunks} == {"stdout"}
        assert b"".join(c.data for c in chunks) == b"prompt$ 80x24\n132x43\n"
        assert session.wait() == 0


def test_concurrent_sessions(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    server.containers.on_exec(shell)
    names = [make_pod() for _ in range(4)]
    results: dict[int, bytes] = {}

    def one(i: int) -> None:
        results[i] = pods.exec(names[i % 4], ["sh", "-c", f"echo {i}; exit 0"], timeout=30).stdout

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {i: f"{i}\n".encode() for i in range(12)}


def test_the_most_specific_handler_runs(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    def answer(text: str) -> Any:
        def handler(process: ContainerProcess) -> int:
            process.stdout.write(f"{text}:{process.container}")
            return 0

        return handler

    name = make_pod("web", "sidecar")
    server.containers.on_exec(answer("any"))
    server.containers.on_exec(answer("pod"), pod=name)
    server.containers.on_exec(answer("container"), pod=name, container="sidecar")
    assert pods.exec(name, ["x"], container="web").stdout == b"pod:web"
    assert pods.exec(name, ["x"], container="sidecar").stdout == b"container:sidecar"
    assert pods.exec(make_pod(), ["x"]).stdout == b"any:main"


def test_missing_pod_is_not_found(pods: Pods) -> None:
    with pytest.raises(StatusError) as caught:
        pods.exec("no-such-pod", ["true"])
    assert is_not_found(caught.value)
    assert 'pods "no-such-pod" not found' in str(caught.value)


def test_several_containers_need_a_name(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    server.containers.on_exec(shell)
    name = make_pod("web", "sidecar", init=("setup",))
    with pytest.raises(StatusError) as caught:
        pods.exec(name, ["true"])
    assert is_bad_request(caught.value)
    assert caught.value.status.message == (
        f"a container name must be specified for pod {name}, choose one of: [web sidecar]"
        " or one of the init containers: [setup]"
    )
    with pytest.raises(StatusError, match=f"container nope is not valid for pod {name}"):
        pods.exec(name, ["true"], container="nope")
    assert pods.exec(name, ["echo", "ok"], container="sidecar").stdout == b"ok\n"


def test_without_a_handler_the_error_says_so(pods: Pods, make_pod: MakePod) -> None:
    name = make_pod()
    with pytest.raises(StatusError) as caught:
        pods.exec(name, ["true"])
    assert is_internal_error(caught.value)
    assert f"no exec handler for pod default/{name} container main" in str(caught.value)


def test_a_failing_handler_is_reported(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    def broken(process: ContainerProcess) -> int:
        raise KeyError("lost")

    server.containers.on_exec(broken)
    with pytest.raises(StatusError, match="failed: KeyError"):
        pods.exec(make_pod(), ["true"])


def test_bad_arguments_fail_before_sending(pods: Pods) -> None:
    with pytest.raises(ValueError, match="non-empty sequence"):
        pods.exec("x", "echo hi")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty sequence"):
        pods.exec("x", [])


def test_exec_needs_create_on_pods_exec(specs_dir: Path) -> None:
    users = {"reader-token": User("reader"), "admin-token": User("admin")}
    rules = [
        Rule(verbs=("get", "list", "create"), resources=("pods",), users=("reader",)),
        Rule(users=("admin",)),
    ]
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"], users=users, rules=rules
    ) as server:
        server.containers.on_exec(shell)
        for token in ("admin-token", "reader-token"):
            client = RESTClient(Config(host=server.url, bearer_token=token))
            pods = ResourceClient(client, PODS, dict, dict, "default")
            if token == "admin-token":
                pods.create({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
                assert pods.exec("p", ["echo", "hi"]).stdout == b"hi\n"
            else:
                with pytest.raises(StatusError) as caught:
                    pods.exec("p", ["echo", "hi"])
                assert is_forbidden(caught.value)
                assert 'cannot create resource "pods/exec"' in str(caught.value)
            client.close()


def test_a_connection_dropped_mid_stream_is_an_error(specs_dir: Path) -> None:
    server = APIServer(specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"]).start()
    started = threading.Event()

    def stuck(process: ContainerProcess) -> int:
        process.stdout.write(b"partial")
        started.set()
        process.disconnected.wait(30)
        return 0

    server.containers.on_exec(stuck)
    try:
        client = RESTClient(Config(host=server.url, bearer_token=server.token))
        pods = ResourceClient(client, PODS, dict, dict, "default")
        pods.create({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
        with pods.open_exec("p", ["sleep"]) as session:
            first = session.read(timeout=10)
            assert first is not None and first.data == b"partial"
            assert started.wait(10)
            stopper = threading.Thread(target=server.stop)
            stopper.start()
            with pytest.raises(StreamError, match="dropped before the command ended"):
                session.read(timeout=10)
            stopper.join(30)
            assert not stopper.is_alive()
    finally:
        server.stop()


def test_attach_reaches_the_main_process(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    seen: list[tuple[str, tuple[str, ...]]] = []

    def main_process(process: ContainerProcess) -> int:
        seen.append((process.kind, process.command))
        process.stdout.write(process.stdin.readline().upper())
        return 0

    server.containers.on_attach(main_process)
    name = make_pod(command=["server", "--port=80"])
    with pods.attach(name, stdin=True) as session:
        session.write(b"wake up\n")
        output = session.read(timeout=10)
        assert output is not None and output.data == b"WAKE UP\n"
        assert session.wait(timeout=10) == 0
    assert seen == [("attach", ("server", "--port=80"))]


def test_a_v4_server_is_spoken_to_in_v4() -> None:
    """Servers before 1.30 offer only v4: the session works, but stdin cannot be closed alone."""
    from websockets.sync.server import ServerConnection, serve
    from websockets.typing import Subprotocol

    from kgen.streams import V4

    def old_kubelet(ws: ServerConnection) -> None:
        frame = ws.recv()
        assert isinstance(frame, bytes) and frame[0] == 0
        ws.send(b"\x01" + frame[1:].upper())
        ws.send(
            b'\x03{"status":"Failure","reason":"NonZeroExitCode",'
            b'"details":{"causes":[{"reason":"ExitCode","message":"2"}]}}'
        )
        ws.close()

    with serve(old_kubelet, "127.0.0.1", 0, subprotocols=[Subprotocol(V4)]) as old:
        serving = threading.Thread(target=old.serve_forever)
        serving.start()
        try:
            port = old.socket.getsockname()[1]
            with RESTClient(Config(host=f"http://127.0.0.1:{port}")) as client:
                pods = ResourceClient(client, PODS, dict, dict, "default")
                with pods.open_exec("p", ["tr", "a-z", "A-Z"], stdin=True) as session:
                    assert session.protocol == V4
                    session.write(b"abc")
                    output = session.read(timeout=10)
                    assert output is not None and output.data == b"ABC"
                    with pytest.raises(StreamError, match="cannot close stdin alone"):
                        session.close_stdin()
                    assert session.wait(timeout=10) == 2
        finally:
            old.shutdown()
            serving.join(10)
