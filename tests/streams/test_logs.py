"""kgen's pod logs against the test server over TLS: every option of the log subresource,
follow, closing early, a dropped connection, and the errors."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import trustme

from kgen.client import ResourceClient
from kgen.rest import Config, RESTClient, StatusError, is_bad_request, is_forbidden, is_not_found
from kgen.spec import load
from kgen.streams import StreamError
from kgen.testing import APIServer, Fake, Rule, User
from tests.streams.conftest import PODS, MakePod

Pods = ResourceClient[dict[str, Any], dict[str, Any]]
NOON = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)


def _wait_for(condition: Any, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_the_whole_log_of_the_only_container(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("starting\nlisten")
    log.write("ing on :80\n")
    log.write("oops\n", stream="stderr")
    assert pods.logs(name) == "starting\nlistening on :80\noops\n"
    log.write("no newline yet")
    assert pods.logs(name) == "starting\nlistening on :80\noops\n"
    log.end()
    assert pods.logs(name) == "starting\nlistening on :80\noops\nno newline yet"
    assert pods.logs(name, insecure_skip_tls_verify_backend=True).startswith("starting")


def test_a_pod_that_has_written_nothing_has_an_empty_log(pods: Pods, make_pod: MakePod) -> None:
    assert pods.logs(make_pod()) == ""


def test_container_choice_and_errors(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    name = make_pod("web", "sidecar", init=("setup",))
    server.containers.log("default", name, "setup").write("init line\n")
    server.containers.log("default", name, "web").write("web line\n")
    server.containers.log("default", name, "sidecar").write("sidecar line\n")
    assert pods.logs(name, container="sidecar") == "sidecar line\n"
    assert pods.logs(name, container="web") == "web line\n"
    assert pods.logs(name, container="setup") == "init line\n"
    with pytest.raises(StatusError) as caught:
        pods.logs(name)
    assert is_bad_request(caught.value)
    assert caught.value.status.message == (
        f"a container name must be specified for pod {name}, choose one of: [setup web sidecar]"
    )
    with pytest.raises(StatusError, match=f"container nope is not valid for pod {name}"):
        pods.logs(name, container="nope")
    with pytest.raises(StatusError) as missing:
        pods.logs("no-such-pod")
    assert is_not_found(missing.value)
    assert missing.value.status.message == 'pods "no-such-pod" not found'
    with pytest.raises(StatusError) as streamed:
        pods.stream_logs("no-such-pod", follow=True)
    assert is_not_found(streamed.value)


def test_tail_lines_limit_bytes_and_timestamps(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("first\n", at=NOON)
    log.write("second\n", at=NOON + timedelta(microseconds=500_000))
    log.write("third\n", at=NOON + timedelta(seconds=1, microseconds=123_450))
    assert pods.logs(name, tail_lines=2) == "second\nthird\n"
    assert pods.logs(name, tail_lines=0) == ""
    assert pods.logs(name, tail_lines=10) == "first\nsecond\nthird\n"
    assert pods.logs(name, limit_bytes=9) == "first\nsec"
    assert pods.logs(name, timestamps=True).splitlines() == [
        "2026-12-07T12:00:00Z first",
        "2026-12-07T12:00:00.5Z second",
        "2026-12-07T12:00:01.12345Z third",
    ]
    # the options combine as the kubelet applies them: tail, then the limit on what is written
    assert pods.logs(name, tail_lines=1, timestamps=True, limit_bytes=24) == (
        "2026-12-07T12:00:01.1234"
    )


def test_since_seconds_and_since_time(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    name = make_pod()
    now = datetime.now(UTC)
    log = server.containers.log("default", name, "main")
    log.write("an hour ago\n", at=now - timedelta(hours=1))
    log.write("a minute ago\n", at=now - timedelta(minutes=1))
    log.write("just now\n")
    assert pods.logs(name, since_seconds=600) == "a minute ago\njust now\n"
    assert pods.logs(name, since_seconds=7200) == "an hour ago\na minute ago\njust now\n"
    assert pods.logs(name, since_time=now - timedelta(minutes=30)) == "a minute ago\njust now\n"
    stamp = (now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    assert pods.logs(name, since_time=stamp) == "a minute ago\njust now\n"
    assert pods.logs(name, since_time=now + timedelta(minutes=1)) == ""
    # tail first, then since: the last two lines, of which one is recent enough
    assert pods.logs(name, tail_lines=2, since_seconds=30) == "just now\n"


def test_invalid_options_are_refused_as_kube_apiserver_refuses_them(
    pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    with pytest.raises(StatusError) as both:
        pods.logs(name, since_seconds=10, since_time=NOON)
    assert both.value.status.code == 422 and both.value.status.reason == "Invalid"
    assert both.value.status.message == (
        f'PodLogOptions "{name}" is invalid: : Forbidden: at most one of `sinceTime` or '
        "`sinceSeconds` may be specified"
    )
    for options, text in (
        ({"tail_lines": -1}, "tailLines: Invalid value: -1: must be greater than or equal to 0"),
        ({"limit_bytes": 0}, "limitBytes: Invalid value: 0: must be greater than 0"),
        ({"since_seconds": 0}, "sinceSeconds: Invalid value: 0: must be greater than 0"),
    ):
        with pytest.raises(StatusError) as invalid:
            pods.logs(name, **options)
        assert invalid.value.status.code == 422
        assert invalid.value.status.message == f'PodLogOptions "{name}" is invalid: {text}'
    with pytest.raises(StatusError) as unparsable:
        pods.logs(name, since_time="yesterday")
    assert is_bad_request(unparsable.value) and 'parsing time "yesterday"' in str(unparsable.value)
    with pytest.raises(TypeError, match="tailLines must be an int"):
        pods.logs(name, tail_lines="5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        pods.logs(name, since_time=datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="unknown options tail"):
        pods.logs(name, tail=5)  # type: ignore[call-arg]


def test_unparsable_numbers_are_a_bad_request(rest: RESTClient, make_pod: MakePod) -> None:
    name = make_pod()
    request = (
        rest.get()
        .group_version("", "v1")
        .namespace("default")
        .resource("pods")
        .name(name)
        .subresource("log")
    )
    with pytest.raises(StatusError) as caught:
        request.param("tailLines", "ten").do()
    assert is_bad_request(caught.value)
    assert caught.value.status.message == 'strconv.ParseInt: parsing "ten": invalid syntax'


def test_previous_reads_the_last_terminated_instance(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    with pytest.raises(StatusError) as caught:
        pods.logs(name, previous=True)
    assert is_bad_request(caught.value)
    assert caught.value.status.message == (
        f'previous terminated container "main" in pod "{name}" not found'
    )
    server.containers.log("default", name, "main").write("first run\ncrashed")
    restarted = server.containers.restart("default", name, "main")
    restarted.write("second run\n")
    assert pods.logs(name, previous=True) == "first run\ncrashed"
    assert pods.logs(name) == "second run\n"
    server.containers.restart("default", name, "main").write("third run\n")
    assert pods.logs(name, previous=True) == "second run\n"
    with pytest.raises(ValueError, match="has ended"):
        restarted.write("too late\n")


def test_follow_sees_new_lines_and_ends_with_the_log(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("old one\nold two\n")
    with pods.stream_logs(name, follow=True, tail_lines=1) as stream:
        lines = iter(stream)
        assert next(lines) == "old two"
        log.write("new ")  # a line is sent once it is complete
        log.write("line\n")
        assert next(lines) == "new line"
        writer = threading.Timer(0.2, lambda: (log.write("later\n"), log.end()))
        writer.start()
        assert list(lines) == ["later"]  # then the container stopped: the stream ends
        writer.join()
    assert log.followers == 0


def test_follow_ends_when_the_pod_is_deleted(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    server.containers.log("default", name, "main").write("running\n")
    with pods.stream_logs(name, follow=True) as stream:
        assert next(stream) == "running"
        pods.delete(name)
        assert list(stream) == []  # the containers were killed: the stream ends cleanly


def test_follow_of_a_stopped_container_returns_its_log_and_ends(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("done\n")
    log.end()
    with pods.stream_logs(name, follow=True) as stream:
        assert list(stream) == ["done"]


def test_without_follow_the_stream_ends_with_the_log_as_it_is(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    server.containers.log("default", name, "main").write("a\nb\nc\n")
    with pods.stream_logs(name) as stream:
        assert list(stream) == ["a", "b", "c"]
    with pods.stream_logs(name) as stream:
        for line in stream:
            assert line == "a"
            break  # leaving the loop keeps the stream: the next one goes on
        assert next(stream) == "b"
        assert b"".join(stream.chunks()) == b"c\n"  # the bytes read but not yet returned


def test_chunks_keep_the_bytes(server: APIServer, pods: Pods, make_pod: MakePod) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write(b"caf\xc3\xa9 \xff\n")
    with pods.stream_logs(name) as stream:
        assert b"".join(stream.chunks()) == b"caf\xc3\xa9 \xff\n"
    with pods.stream_logs(name) as stream:
        assert list(stream) == ["caf\u00e9 \ufffd"]
    assert pods.logs(name) == "caf\u00e9 \ufffd\n"


def test_closing_a_follow_early_frees_the_server_thread(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("first\n")
    streams = [pods.stream_logs(name, follow=True) for _ in range(3)]
    for stream in streams:
        assert next(iter(stream)) == "first"
    assert log.followers == 3
    for stream in streams:
        stream.close()
    assert _wait_for(lambda: log.followers == 0), "the server still follows a closed stream"
    assert not log.ended


def test_another_thread_may_close_a_blocked_follow(
    server: APIServer, pods: Pods, make_pod: MakePod
) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("only line\n")
    stream = pods.stream_logs(name, follow=True)
    read: list[str] = []
    failures: list[BaseException] = []

    def follow() -> None:
        try:
            read.extend(stream)
        except BaseException as err:  # the assertion below reports it
            failures.append(err)

    reader = threading.Thread(target=follow)
    reader.start()
    assert _wait_for(lambda: read == ["only line"])
    stream.close()  # the reader is blocked waiting for a line that never comes
    reader.join(10)
    assert not reader.is_alive() and not failures and read == ["only line"]
    assert _wait_for(lambda: log.followers == 0)


def test_the_socket_free_fake_serves_logs_too(specs_dir: Any) -> None:
    fake = Fake(load([specs_dir / "kubernetes" / "v1.35" / "openapi-v3"]))
    with RESTClient(Config(host=fake.url), session=fake.session()) as rest:
        pods = ResourceClient(rest, PODS, dict, dict, "default")
        pods.create({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
        log = fake.handler.containers.log("default", "p", "c")
        log.write("one\ntwo\n")
        assert pods.logs("p", tail_lines=1) == "two\n"
        log.end()
        with pods.stream_logs("p", follow=True) as stream:
            assert list(stream) == ["one", "two"]
        assert [a.subresource for a in fake.actions if a.verb == "get"] == ["log", "log"]


class _Proxy:
    """A TCP relay to the server that the test can cut, as a network failure would."""

    def __init__(self, port: int) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._target = port
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with self._listener:
            client, _ = self._listener.accept()
        upstream = socket.create_connection(("127.0.0.1", self._target))
        self._sockets += [client, upstream]
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    @staticmethod
    def _relay(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def test_a_dropped_connection_is_an_error_not_an_end(server: APIServer, make_pod: MakePod) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("before the cut\n")
    proxy = _Proxy(server.port)
    assert server.ca_pem is not None
    config = Config(
        host=f"https://127.0.0.1:{proxy.port}", bearer_token=server.token, ca_data=server.ca_pem
    )
    with RESTClient(config) as rest:
        pods = ResourceClient(rest, PODS, dict, dict, "default")
        with pods.stream_logs(name, follow=True) as stream:
            lines = iter(stream)
            assert next(lines) == "before the cut"
            proxy.cut()
            with pytest.raises(StreamError, match="dropped before the log ended"):
                next(lines)
    assert _wait_for(lambda: log.followers == 0)


def test_logs_need_get_on_pods_log(specs_dir: Any) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    users = {"reader-token": User("reader")}
    rules = [Rule(verbs=("get", "create"), resources=("pods",), users=("reader",))]
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
        users=users,
        rules=rules,
        tls=(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()),
        ca_pem=ca.cert_pem.bytes(),
    ) as server:
        assert server.ca_pem is not None
        config = Config(host=server.url, bearer_token="reader-token", ca_data=server.ca_pem)
        with RESTClient(config) as rest:
            pods = ResourceClient(rest, PODS, dict, dict, "default")
            pods.create({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
            with pytest.raises(StatusError) as caught:
                pods.logs("p")
            assert is_forbidden(caught.value)
            assert 'cannot get resource "pods/log"' in str(caught.value)
