"""Watch over real HTTP on 127.0.0.1: framing and typed decoding, ERROR events, decode
failures, clean ends, stop() from another thread, silent connections and retries (4.1.13, 4.2,
S68)."""

from __future__ import annotations

import queue
import select
import threading
from collections.abc import Callable, Iterator

import pytest

from kgen.meta import Status
from kgen.rest import (
    Config,
    ListOptions,
    RESTClient,
    StatusError,
    Watch,
    WatchEvent,
    is_internal_error,
    is_resource_expired,
)

from .helpers import FakeClock
from .models import Pod, pod_json
from .server import Handler, LoopbackServer, Recorded

MakeClient = Callable[..., RESTClient]


def frame(kind: str, obj: bytes) -> bytes:
    return b'{"type":"%s","object":%s}\n' % (kind.encode(), obj)


def serve_frames(server: LoopbackServer, *chunks: bytes) -> None:
    server.handler = lambda req, h: h.stream(list(chunks))


def pods_watch(client: RESTClient, **options: object) -> Watch[Pod]:
    return (
        client.get()
        .group_version("", "v1")
        .namespace("default")
        .resource("pods")
        .list_options(ListOptions(**options))  # type: ignore[arg-type]
        .watch(Pod)
    )


def test_events_are_decoded_into_the_model(server: LoopbackServer, make_client: MakeClient) -> None:
    serve_frames(
        server,
        frame("ADDED", pod_json("a", "1")),
        frame("MODIFIED", pod_json("a", "2")) + frame("DELETED", pod_json("a", "3")),
        frame("BOOKMARK", b'{"kind":"Pod","metadata":{"resourceVersion":"4"}}'),
    )
    with pods_watch(make_client(server), resource_version="1", timeout_seconds=21) as w:
        events = list(w)
    assert [(e.type, e.object.metadata.resource_version) for e in events] == [  # type: ignore[union-attr]
        ("ADDED", "1"),
        ("MODIFIED", "2"),
        ("DELETED", "3"),
        ("BOOKMARK", "4"),
    ]
    assert all(isinstance(e.object, Pod) for e in events)
    query = server.requests[0].query
    assert query["watch"] == ["true"] and query["timeoutSeconds"] == ["21"]
    assert query["resourceVersion"] == ["1"]


def test_frames_split_across_chunks_and_dict_objects(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    whole = frame("ADDED", pod_json("a")) + frame("ADDED", pod_json("b"))
    serve_frames(server, whole[:10], whole[10:70], whole[70:])
    w = make_client(server).get().abs_path("/api/v1/pods").watch(dict)
    names = [e.object["metadata"]["name"] for e in w]
    assert names == ["a", "b"]


def test_error_event_raises_the_status(server: LoopbackServer, make_client: MakeClient) -> None:
    serve_frames(
        server,
        frame("ADDED", pod_json("a")),
        frame(
            "ERROR",
            b'{"kind":"Status","status":"Failure","reason":"Expired","code":410,'
            b'"message":"too old resource version: 1 (5)"}',
        ),
        frame("ADDED", pod_json("never")),
    )
    w = pods_watch(make_client(server))
    assert next(w).type == "ADDED"
    with pytest.raises(StatusError) as info:
        next(w)
    assert is_resource_expired(info.value) and info.value.code == 410
    assert list(w) == []


def test_error_event_of_an_unstructured_watch_raises_the_status(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    # a Status decodes as a dict too: the ERROR type, not the shape, makes it an error
    status = b'{"kind":"Status","status":"Failure","reason":"Expired","code":410}'
    serve_frames(server, frame("ADDED", pod_json("a")), frame("ERROR", status))
    w = make_client(server).get().abs_path("/api/v1/pods").watch(dict)
    assert next(w).object["metadata"]["name"] == "a"
    with pytest.raises(StatusError) as info:
        next(w)
    assert is_resource_expired(info.value) and info.value.code == 410


def test_undecodable_frame_ends_the_watch_with_an_internal_error(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    serve_frames(server, frame("ADDED", pod_json("a")), frame("BOGUS", b"{}"))
    w = pods_watch(make_client(server))
    assert next(w).object.metadata.name == "a"  # type: ignore[union-attr]
    with pytest.raises(StatusError) as info:
        next(w)
    err = info.value
    assert is_internal_error(err) and "BOGUS" in str(err)
    assert [c.reason for c in err.causes()] == ["ClientWatchDecoding"]
    assert list(w) == []


def test_object_that_does_not_fit_the_type_is_a_decoding_error(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    serve_frames(server, frame("ADDED", b'{"metadata":"not an object"}'))
    with pytest.raises(StatusError, match="metadata"):
        list(pods_watch(make_client(server)))


def test_clean_end_when_the_server_closes(server: LoopbackServer, make_client: MakeClient) -> None:
    serve_frames(server)
    assert list(pods_watch(make_client(server))) == []


def test_non_200_raises_the_decoded_error(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(403, b'{"kind":"Status","status":"Failure","reason":"Forbidden","code":403}')
    with pytest.raises(StatusError, match="Forbidden"):
        pods_watch(make_client(server))


def hold_open(closed: threading.Event) -> Callable[[Recorded, Handler], None]:
    """A handler that sends headers and one event, then waits until the client hangs up."""

    def handle(request: Recorded, handler: Handler) -> None:
        def lines() -> Iterator[bytes]:
            yield frame("ADDED", pod_json("a"))
            sock = handler.connection
            while not handler.server.stopping.is_set():
                readable, _, _ = select.select([sock], [], [], 0.05)
                if readable and sock.recv(1) == b"":
                    closed.set()
                    return

        handler.stream(lines())

    return handle


def test_stop_from_another_thread_ends_iteration_and_closes_the_connection(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    closed = threading.Event()
    server.handler = hold_open(closed)
    w = pods_watch(make_client(server))
    seen: queue.Queue[WatchEvent[Pod] | None] = queue.Queue()

    def consume() -> None:
        for event in w:
            seen.put(event)
        seen.put(None)

    reader = threading.Thread(target=consume)
    reader.start()
    assert seen.get(timeout=10) is not None  # the ADDED event; now blocked on the socket
    w.stop()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert seen.get(timeout=1) is None
    assert closed.wait(timeout=10)
    assert w.stopped


def close_delimited(closed: threading.Event) -> Callable[[Recorded, Handler], None]:
    """A handler answering as an HTTP/1.0 server: no Content-Length, not chunked, the body ends
    when the connection closes. Sends one event, then waits until the client hangs up."""

    def handle(request: Recorded, handler: Handler) -> None:
        handler.close_connection = True
        sock = handler.connection
        sock.sendall(
            b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
            + frame("ADDED", pod_json("a"))
        )
        while not handler.server.stopping.is_set():
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable and sock.recv(1) == b"":
                closed.set()
                return

    return handle


def test_stop_from_another_thread_ends_a_close_delimited_watch(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    closed = threading.Event()
    server.handler = close_delimited(closed)
    w = pods_watch(make_client(server))
    assert next(w).type == "ADDED"  # the next read blocks: the body has no end but the close
    rest: queue.Queue[list[WatchEvent[Pod]]] = queue.Queue()
    reader = threading.Thread(target=lambda: rest.put(list(w)))
    reader.start()
    stopper = threading.Thread(target=w.stop)
    stopper.start()
    stopper.join(timeout=10)
    reader.join(timeout=10)
    assert not stopper.is_alive() and not reader.is_alive()
    assert rest.get_nowait() == []
    assert closed.wait(timeout=10)


def test_stop_before_reading_closes_the_connection(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    closed = threading.Event()
    server.handler = hold_open(closed)
    with pods_watch(make_client(server)) as w:
        pass
    assert closed.wait(timeout=10)
    assert list(w) == []


def test_silent_connection_ends_after_the_read_timeout(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    closed = threading.Event()
    server.handler = hold_open(closed)
    w = pods_watch(make_client(server, watch_read_timeout=0.2))
    assert [e.type for e in w] == ["ADDED"]  # then silence: the watch ends by itself


def test_watch_is_retried_on_retry_after(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(429, b"", Retry_After="0")
    server.reply(200, frame("ADDED", pod_json("a")), Content_Type="application/json")
    assert [e.object.metadata.name for e in pods_watch(make_client(server))] == ["a"]  # type: ignore[union-attr]
    assert len(server.requests) == 2


def test_watch_whose_connection_keeps_failing_ends_empty(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    for _ in range(3):
        server.reply_reset()
    client = make_client(server)
    w = client.get().abs_path("/api/v1/pods").max_retries(2).watch(Pod)
    assert list(w) == [] and len(server.requests) == 3


def test_watch_event_error_status_from_any_source_raises() -> None:
    status = Status(status="Failure", reason="Gone", code=410)
    w: Watch[Pod] = Watch(iter([WatchEvent("ERROR", status)]))
    with pytest.raises(StatusError, match="Gone"):
        next(w)


def test_stop_over_tls(tls_server: LoopbackServer, make_client: MakeClient, ca: object) -> None:
    closed = threading.Event()
    tls_server.handler = hold_open(closed)
    client = make_client(tls_server, ca_data=ca.cert_pem.bytes())  # type: ignore[attr-defined]
    w = pods_watch(client)
    first = next(w)
    stopper = threading.Timer(0.05, w.stop)
    stopper.start()
    rest = list(w)  # blocks on the TLS socket until stop() interrupts it
    stopper.join()
    assert first.type == "ADDED" and rest == []
    assert closed.wait(timeout=10)


def test_watches_are_not_throttled(server: LoopbackServer) -> None:
    clock = FakeClock()
    serve_frames(server)
    config = Config(host=server.url, qps=1, burst=1)
    with RESTClient(config, clock=clock, sleep=clock.sleep) as client:
        for _ in range(3):
            list(pods_watch(client))
        assert clock.sleeps == []
        client.get().abs_path("/a").do()  # the bucket is still full for ordinary requests
        client.get().abs_path("/a").do()
    assert clock.sleeps == [1.0]
