"""A loopback HTTP server that records requests and serves one list and a held-open watch.

GET without ``watch=true`` answers the configured list; GET with ``watch=true`` streams the
events pushed with :meth:`RecordingServer.send` until the client goes away or the server
stops. All handler threads end when the server is closed.
"""

from __future__ import annotations

import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class RecordingServer:
    """See the module docstring. Use as a context manager."""

    def __init__(self, list_body: dict[str, Any]) -> None:
        self.list_body = list_body
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="recording-server")

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def send(self, type_: str, obj: dict[str, Any]) -> None:
        """Stream one watch event to the (next) open watch."""
        self._events.put({"type": type_, "object": obj})

    def recorded(self) -> list[tuple[str, dict[str, str]]]:
        with self._lock:
            return list(self.requests)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                with server._lock:
                    server.requests.append((parts.path, query))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if query.get("watch") != "true":
                    body = json.dumps(server.list_body).encode()
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                self.close_connection = True
                while not server._closing.is_set():
                    try:
                        event = server._events.get(timeout=0.02)
                    except queue.Empty:
                        continue
                    line = json.dumps(event).encode() + b"\n"
                    try:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                        self.wfile.flush()
                    except OSError:
                        return

        return Handler

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
