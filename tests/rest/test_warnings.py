"""The API server's Warning headers over real HTTP (4.1.14): parsing every form of the header,
the logging, writing and silent handlers, the per-config choice and the process-wide default."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterator

import pytest

from kgen.rest import (
    Config,
    NoWarnings,
    RESTClient,
    StatusError,
    WarningHandler,
    WarningLogger,
    WarningWriter,
    default_warning_handler,
    is_not_found,
    set_default_warning_handler,
)

from .models import Pod, pod_json
from .server import Handler, LoopbackServer, Recorded

MakeClient = Callable[..., RESTClient]


class Recorder:
    """A WarningHandler that keeps every call."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str, str]] = []
        self._lock = threading.Lock()

    def handle_warning(self, code: int, agent: str, text: str) -> None:
        with self._lock:
            self.seen.append((code, agent, text))

    @property
    def texts(self) -> list[str]:
        return [text for _, _, text in self.seen]


def warning_lines(
    *lines: str, status: int = 200, body: bytes = b"{}"
) -> Callable[[Recorded, Handler], None]:
    """A server handler answering every request with one Warning header line per ``lines``
    item (characters above ASCII stand for the bytes sent, as in http.server)."""

    def answer(request: Recorded, handler: Handler) -> None:
        handler.send_response(status)
        for line in lines:
            handler.send_header("Warning", line)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()

    return answer


def wire(text: str) -> str:
    """``text`` as UTF-8 bytes on the wire (each byte one header character)."""
    return text.encode("utf-8").decode("latin-1")


@pytest.fixture()
def restore_default() -> Iterator[None]:
    previous = default_warning_handler()
    yield
    set_default_warning_handler(previous)


def test_every_form_of_the_header_reaches_the_handler(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.handler = warning_lines(
        '299 - "use v1, not v1beta1", 299 kube-apiserver:6443 "a \\"quoted\\" \\\\ word"',
        '299 - "dated" "Wed, 21 Oct 2015 07:28:00 GMT", 199 agent "not from the server",',
        '299 - "=?utf-8?q?caf=C3=A9_au_lait?= =?utf-8?b?w6k=?= and =?utf-8?q?more?="',
        wire('299 - "naïve, sent as raw UTF-8"'),
        '299 - "a bell\x07 rings"',
        '299 - "=?x-no-such-charset?q?kept_as_sent?="',
        '299 - "kept", then rubbish, 299 - "lost"',
        '299 - "after a bad line"',
    )
    recorder = Recorder()
    make_client(server, warning_handler=recorder).get().abs_path("/a").do()
    assert recorder.seen == [
        (299, "-", "use v1, not v1beta1"),
        (299, "kube-apiserver:6443", 'a "quoted" \\ word'),
        (299, "-", "dated"),
        (199, "agent", "not from the server"),
        (299, "-", "café au laité and more"),
        (299, "-", "naïve, sent as raw UTF-8"),
        (299, "-", "a bell rings"),
        (299, "-", "=?x-no-such-charset?q?kept_as_sent?="),
        (299, "-", "kept"),
        (299, "-", "after a bad line"),
    ]


def test_malformed_warnings_are_dropped(server: LoopbackServer, make_client: MakeClient) -> None:
    server.handler = warning_lines(
        '2990 - "four-digit code"',
        '29x - "not a number"',
        '299 "no agent"',
        '299  - "two spaces: an empty agent"',
        "299 - no quotes",
        '299 - "no closing quote',
        '299 - "lost too" "unterminated date',
        '299 - "lost as well" junk',
        "299 -",
        '299 - "the only good one"',
    )
    recorder = Recorder()
    make_client(server, warning_handler=recorder).get().abs_path("/a").do()
    assert recorder.texts == ["the only good one"]


def test_the_default_handler_logs_299_warnings(
    server: LoopbackServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert Config().warning_handler is None
    assert isinstance(default_warning_handler(), WarningLogger)
    server.handler = warning_lines(
        '299 - "v1beta1 is deprecated, use v1", 199 - "not from the API server"',
        '299 - "", 299 - "second"',
    )
    with caplog.at_level(logging.WARNING, logger="kgen.rest"):
        make_client(server).get().abs_path("/a").do()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "the API server warns: v1beta1 is deprecated, use v1"),
        (logging.WARNING, "the API server warns: second"),
    ]


def test_the_writer_writes_each_warning_or_each_distinct_one_once(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.handler = warning_lines('299 - "old API", 299 - "unknown field", 299 - "old API"')
    every, once = io.StringIO(), io.StringIO()
    all_writer = WarningWriter(every, prefix=False)
    once_writer = WarningWriter(once, deduplicate=True)
    for writer in (all_writer, once_writer):
        client = make_client(server, warning_handler=writer)
        client.get().abs_path("/a").do()
        client.get().abs_path("/a").do()
    assert every.getvalue() == "old API\nunknown field\nold API\n" * 2
    assert all_writer.count == 6
    assert once.getvalue() == "Warning: old API\nWarning: unknown field\n"
    assert once_writer.count == 2


def test_a_shared_deduplicating_writer_writes_each_text_once_across_threads(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.handler = warning_lines('299 - "a", 299 - "b"', '299 - "c"')
    out = io.StringIO()
    writer = WarningWriter(out, deduplicate=True)
    client = make_client(server, warning_handler=writer)

    def send() -> None:
        for _ in range(5):
            client.get().abs_path("/a").do()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.requests) == 20
    assert sorted(out.getvalue().splitlines()) == ["Warning: a", "Warning: b", "Warning: c"]
    assert writer.count == 3


def test_no_warnings_drops_them(
    server: LoopbackServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.handler = warning_lines('299 - "ignored"')
    with caplog.at_level(logging.DEBUG, logger="kgen.rest"):
        make_client(server, warning_handler=NoWarnings()).get().abs_path("/a").do()
    assert not [r for r in caplog.records if "ignored" in r.getMessage()]


@pytest.mark.usefixtures("restore_default")
def test_the_process_wide_default_serves_clients_without_a_handler(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.handler = warning_lines('299 - "deprecated"')
    built_before = make_client(server)
    own = Recorder()
    with_own = make_client(server, warning_handler=own)
    process_wide = Recorder()
    previous = set_default_warning_handler(process_wide)
    assert isinstance(previous, WarningLogger)
    assert default_warning_handler() is process_wide
    built_before.get().abs_path("/a").do()
    make_client(server).get().abs_path("/a").do()
    with_own.get().abs_path("/a").do()
    assert process_wide.texts == ["deprecated", "deprecated"]
    assert own.texts == ["deprecated"]
    assert set_default_warning_handler(previous) is process_wide
    built_before.get().abs_path("/a").do()
    assert process_wide.texts == ["deprecated", "deprecated"]


def test_only_the_final_answer_of_a_retried_request_is_heard(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    final = warning_lines('299 - "from the 200"')

    def answer(request: Recorded, handler: Handler) -> None:
        if len(server.requests) > 1:
            final(request, handler)
            return
        handler.send_response(429)
        handler.send_header("Retry-After", "0")
        handler.send_header("Warning", '299 - "from the 429"')
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.handler = answer
    recorder = Recorder()
    make_client(server, warning_handler=recorder).get().abs_path("/a").do()
    assert len(server.requests) == 2
    assert recorder.texts == ["from the 200"]


def test_errors_streams_and_watches_hand_over_their_warnings(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    recorder = Recorder()
    client = make_client(server, warning_handler=recorder)
    server.handler = warning_lines('299 - "on a 404"', status=404, body=b"")
    with pytest.raises(StatusError) as caught:
        client.get().abs_path("/a").do()
    assert is_not_found(caught.value)
    server.handler = warning_lines('299 - "on a stream"', body=b"log line\n")
    assert b"".join(client.get().abs_path("/log").stream()) == b"log line\n"

    def watch(request: Recorded, handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Warning", '299 - "on a watch"')
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b'{"type":"ADDED","object":%s}\n' % pod_json("web"))
        handler.wfile.flush()
        handler.close_connection = True

    server.handler = watch
    with client.get().abs_path("/pods").watch(Pod) as events:
        assert [event.type for event in events] == ["ADDED"]
    assert recorder.texts == ["on a 404", "on a stream", "on a watch"]


def test_a_failing_handler_fails_the_request(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    class Strict:
        def handle_warning(self, code: int, agent: str, text: str) -> None:
            raise RuntimeError(f"warnings are errors here: {text}")

    handler: WarningHandler = Strict()
    server.handler = warning_lines('299 - "deprecated"')
    with pytest.raises(RuntimeError, match="warnings are errors here: deprecated"):
        make_client(server, warning_handler=handler).get().abs_path("/a").do()


def test_config_copies_share_the_handler_and_its_repr_names_the_kind() -> None:
    writer = WarningWriter(io.StringIO())
    config = Config(host="https://example.test", warning_handler=writer)
    assert config.copy().warning_handler is writer
    assert "warning_handler=<WarningWriter>" in repr(config)
