"""A small API-server stand-in on 127.0.0.1 that records every request and answers through a
handler the test supplies. Shared by the client, discovery and dynamic tests.

``WireServer`` joins every handler thread on ``stop()`` (the ``with`` block's end), so no thread
outlives a test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kgen.rest import Config, RESTClient


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """What to answer: JSON-encodes ``body`` unless it is bytes."""

    status: int = 200
    body: Any = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


Handler = Callable[[Seen], Reply]


def status_reply(code: int, reason: str, message: str = "") -> Reply:
    """A ``Status`` failure, as the API server sends errors."""
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message or reason,
    }
    return Reply(code, body)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # parallel discovery connects must not overflow the backlog


class WireServer:
    """Answers with ``handler`` and keeps every request in ``seen`` (thread-safe)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with outer._lock:
                    outer.seen.append(seen)
                reply = outer.handler(seen)
                payload = reply.encoded()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")  # one request per connection:
                self.end_headers()  # no idle keep-alive thread outlives stop()
                self.close_connection = True
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self.seen)

    def last(self) -> Seen:
        with self._lock:
            return self.seen[-1]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def serving(handler: Handler, **config: Any) -> Iterator[tuple[WireServer, RESTClient]]:
    """Run a ``WireServer`` and a REST client pointed at it (``config``: more ``Config``
    fields); stop both afterwards."""
    server = WireServer(handler)
    server.start()
    rest = RESTClient(Config(host=server.url, **{"qps": -1, **config}))
    try:
        yield server, rest
    finally:
        rest.close()
        server.stop()


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fails a test that leaves a thread it started running (servers, watches, discovery
    workers); waits up to a second for threads that are ending. Import it into a conftest."""
    before = set(threading.enumerate())
    yield
    leaked: list[threading.Thread] = []
    for _ in range(50):
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked:
            return
        threading.Event().wait(0.02)
    raise AssertionError(f"threads left running: {[t.name for t in leaked]}")
