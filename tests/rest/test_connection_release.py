"""RESTClient.close() ends every connection the client opened, however its watches ended.

The server counts the connections it holds open. Each scenario ends a watch one way; then a log
stream is left running (its response keeps the connection pool alive, as any response still
referenced does) and a plain request leaves a keep-alive connection idle in that pool.
``close()`` must end the idle connection at once, not leave it to the garbage collector, and the
stream's when the stream is closed. An ended ``Watch`` must not hold its response either.
"""

from __future__ import annotations

import gc
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from kgen.rest import RESTClient, StatusError, Watch

from .conftest import Sleeps
from .models import Pod, pod_json
from .server import Handler, LoopbackServer, Recorded, Reply

MakeClient = Callable[..., RESTClient]
WatchHandler = Callable[[Handler], None]

READ_TIMEOUT = 0.2
"""The half-open scenario's watch read timeout."""


def frame(kind: str, obj: bytes) -> bytes:
    return b'{"type":"%s","object":%s}\n' % (kind.encode(), obj)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after 10 s (a bound, not a timing)."""
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still not true after 10 s: {what}")
        time.sleep(0.01)


def wait_for_hang_up(handler: Handler) -> None:
    """Return once the client has closed the connection (or the server is stopping)."""
    sock = handler.connection
    while not handler.server.stopping.is_set():
        readable, _, _ = select.select([sock], [], [], 0.02)
        if readable and sock.recv(1) == b"":
            return


def lines_then_hold(*lines: bytes) -> WatchHandler:
    """Stream ``lines``, then nothing more until the client hangs up."""

    def handle(handler: Handler) -> None:
        def body() -> Iterator[bytes]:
            yield from lines
            wait_for_hang_up(handler)

        handler.stream(body())

    return handle


def normal_end(handler: Handler) -> None:
    """One event and the end of the body, on a connection kept alive for the next request."""
    handler.stream([frame("ADDED", pod_json("a"))], keep_alive=True)


def cut(handler: Handler) -> None:
    """One event, then the connection closes in the middle of the chunked body."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    line = frame("ADDED", pod_json("a"))
    handler.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
    handler.wfile.flush()
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


def retried_5xx(handler: Handler) -> None:
    """The first watch gets a 503 with ``Retry-After: 0`` (the connection kept alive), the
    retry a normal stream."""
    if sum(r.query.get("watch") == ["true"] for r in handler.server.requests) == 1:
        status = b'{"kind":"Status","status":"Failure","code":503}'
        handler.answer(Reply(503, status, {"Retry-After": "0"}))
    else:
        normal_end(handler)


ADDED_THEN_HOLD = lines_then_hold(frame("ADDED", pod_json("a")))
LOG_THEN_HOLD = lines_then_hold(b"a log line\n")

SCENARIOS: dict[str, WatchHandler] = {
    "normal end": normal_end,
    "stop from another thread": ADDED_THEN_HOLD,
    "server cut": cut,
    "ERROR event": lines_then_hold(
        frame("ERROR", b'{"kind":"Status","status":"Failure","reason":"Expired","code":410}')
    ),
    "malformed line": lines_then_hold(b"{not json\n"),
    "half-open": ADDED_THEN_HOLD,
    "retried 5xx": retried_5xx,
}


def serve(server: LoopbackServer, watch: WatchHandler) -> None:
    """Watches go to ``watch``, ``/log`` streams a line and holds, any other request gets
    ``{}`` on a kept-alive connection."""

    def handle(request: Recorded, handler: Handler) -> None:
        if request.query.get("watch") == ["true"]:
            watch(handler)
        elif request.path == "/log":
            LOG_THEN_HOLD(handler)
        else:
            handler.answer(Reply(200, b"{}"))

    server.handler = handle


def start_watch(client: RESTClient) -> Watch[Pod]:
    return client.get().group_version("", "v1").resource("pods").watch(Pod)


def end_watch(scenario: str, w: Watch[Pod]) -> list[str]:
    """Read ``w`` until it ends the way ``scenario`` says; the event types seen (``ERROR``:
    the watch raised the Status)."""
    if scenario == "stop from another thread":
        first = next(w)
        stopper = threading.Timer(0.05, w.stop)
        stopper.start()
        rest = list(w)  # blocked on the socket until stop() interrupts it
        stopper.join()
        return [first.type, *(e.type for e in rest)]
    if scenario in ("ERROR event", "malformed line"):
        with pytest.raises(StatusError, match=r"Expired|could not decode"):
            next(w)
        return ["ERROR"]
    return [e.type for e in w]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_close_ends_every_connection_after_a_watch_ends(
    server: LoopbackServer, make_client: MakeClient, sleeps: Sleeps, scenario: str
) -> None:
    serve(server, SCENARIOS[scenario])
    read_timeout = READ_TIMEOUT if scenario == "half-open" else 30.0
    client = make_client(server, watch_read_timeout=read_timeout)
    w = start_watch(client)
    seen = end_watch(scenario, w)
    log = client.get().abs_path("/log").stream()
    client.get().abs_path("/api").do()  # leaves a keep-alive connection idle in the pool
    wait_for(lambda: server.open_connections == 2, "only the log's and the idle one are open")
    client.close()
    wait_for(lambda: server.open_connections == 1, "close() ended the idle connection")
    assert next(log) == b"a log line\n"  # a running stream is left alone
    log.close()
    wait_for(lambda: server.open_connections == 0, "closing the log ended the last one")
    assert seen == (["ERROR"] if scenario in ("ERROR event", "malformed line") else ["ADDED"])
    assert sleeps.calls == ([0] if scenario == "retried 5xx" else [])


def test_a_watch_still_open_at_close_ends_its_connection_when_stopped(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    serve(server, ADDED_THEN_HOLD)
    client = make_client(server)
    w = start_watch(client)
    try:
        assert next(w).type == "ADDED"
        client.get().abs_path("/api").do()
        wait_for(lambda: server.open_connections == 2, "the watch and an idle connection")
        client.close()
        wait_for(lambda: server.open_connections == 1, "close() ended the idle connection")
    finally:
        w.stop()
    wait_for(lambda: server.open_connections == 0, "stop() ended the watch's connection")


def test_a_closed_client_still_works_and_closing_again_ends_its_new_connections(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    serve(server, normal_end)
    client = make_client(server)
    client.close()
    w = start_watch(client)
    assert [e.type for e in w] == ["ADDED"]
    client.get().abs_path("/api").do()
    wait_for(lambda: server.open_connections == 1, "one kept-alive connection")
    client.close()
    wait_for(lambda: server.open_connections == 0, "the second close() ended it")
    del w


def test_closing_a_stream_before_reading_it_releases_its_connection(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.handler = lambda request, handler: LOG_THEN_HOLD(handler)
    client = make_client(server)
    chunks = client.get().abs_path("/log").stream()
    wait_for(lambda: server.open_connections == 1, "the stream's connection is open")
    chunks.close()
    wait_for(lambda: server.open_connections == 0, "close() on the stream ended it")
    assert list(chunks) == []


def test_reading_a_stream_to_its_end_returns_the_connection_to_the_pool(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.handler = lambda request, handler: handler.stream([b"a\n", b"b\n"], keep_alive=True)
    client = make_client(server)
    assert b"".join(client.get().abs_path("/log").stream()) == b"a\nb\n"
    assert b"".join(client.get().abs_path("/log").stream()) == b"a\nb\n"
    assert len({r.client_port for r in server.requests}) == 1  # one connection, reused
    client.close()
    wait_for(lambda: server.open_connections == 0, "close() ended the pooled connection")


@pytest.mark.parametrize("scenario", ["normal end", "stop from another thread", "ERROR event"])
def test_an_ended_watch_holds_no_http_response(
    server: LoopbackServer, make_client: MakeClient, scenario: str
) -> None:
    serve(server, SCENARIOS[scenario])
    namespace = "ended-" + scenario.replace(" ", "-").lower()
    w = make_client(server).get().group_version("", "v1").namespace(namespace).resource("pods")
    watch = w.watch(Pod)
    end_watch(scenario, watch)

    def responses() -> int:
        gc.collect()
        return sum(
            1
            for o in gc.get_objects()
            if isinstance(o, requests.Response) and f"/namespaces/{namespace}/" in (o.url or "")
        )

    assert responses() == 0  # the Watch is still referenced here
    del watch
