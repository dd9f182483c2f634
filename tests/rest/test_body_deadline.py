"""The request's timeout bounds do() whole, the body included (4.1.9): a body that trickles in
steadily is cut off at the deadline; bodies that arrive in time are read whole, in any framing
and encoding, and their connections are reused."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable

import pytest
import requests

from kgen.rest import RESTClient

from .server import Handler, LoopbackServer, Recorded

MakeClient = Callable[..., RESTClient]


class Trickle:
    """A server handler sending a ``size``-byte body one byte per ``pause`` seconds, with a
    ``Content-Length`` or chunked; it stops when the client goes away or the server stops."""

    def __init__(self, size: int, pause: float, *, chunked: bool) -> None:
        self.size = size
        self.pause = pause
        self.chunked = chunked
        self.sent = 0

    def __call__(self, request: Recorded, handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if self.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", str(self.size))
        handler.end_headers()
        handler.close_connection = True
        try:
            for _ in range(self.size):
                handler.wfile.write(b"1\r\n \r\n" if self.chunked else b" ")
                handler.wfile.flush()
                self.sent += 1
                if handler.server.stopping.wait(self.pause):
                    return
            if self.chunked:
                handler.wfile.write(b"0\r\n\r\n")
                handler.wfile.flush()
        except OSError:
            pass  # the client hung up


@pytest.mark.parametrize(
    ("chunked", "pause"),
    [(False, 0.01), (True, 0.01), (False, 30.0)],
    ids=["content-length", "chunked", "stalled"],
)
def test_a_body_trickling_past_the_deadline_is_cut_off(
    server: LoopbackServer, make_client: MakeClient, chunked: bool, pause: float
) -> None:
    trickle = Trickle(size=2000, pause=pause, chunked=chunked)  # 20 s or more for the body
    server.handler = trickle
    client = make_client(server, timeout=0.5)
    with pytest.raises(requests.Timeout, match=r"GET .*/slow\?timeout=500ms.* within 500ms"):
        client.get().abs_path("/slow").do()
    assert 0 < trickle.sent < trickle.size


def test_a_trickling_body_that_ends_in_time_is_read_whole(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.handler = Trickle(size=20, pause=0.001, chunked=True)
    result = make_client(server, timeout=30).get().abs_path("/a").do()
    assert result.body == b" " * 20


def test_bodies_within_the_deadline_are_read_whole_and_connections_reused(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    items = [{"name": f"item-{i}", "data": "x" * 100} for i in range(20000)]
    document = json.dumps({"items": items}).encode()  # about 2.5 MB
    compressed = gzip.compress(document)

    def answer(request: Recorded, handler: Handler) -> None:
        body = compressed if request.path == "/gzip" else document
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if request.path == "/gzip":
            handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()

    server.handler = answer
    client = make_client(server, timeout=60)
    assert client.get().abs_path("/plain").do().body == document
    assert client.get().abs_path("/gzip").do().json() == {"items": items}
    assert client.get().abs_path("/plain").timeout(None).do().body == document
    assert len({r.client_port for r in server.requests}) == 1


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_body_on_a_connection_the_server_closes_is_read_within_the_deadline(
    server: LoopbackServer, make_client: MakeClient, encoding: str
) -> None:
    document = json.dumps({"data": "x" * 3_000_000}).encode()  # decodes to several pieces
    body = gzip.compress(document) if encoding == "gzip" else document

    def answer(request: Recorded, handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Encoding", encoding)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        handler.close_connection = True

    server.handler = answer
    client = make_client(server, timeout=60)
    for _ in range(2):
        assert client.get().abs_path("/a").do().body == document
    assert len({r.client_port for r in server.requests}) == 2
