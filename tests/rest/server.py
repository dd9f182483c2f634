"""A tiny scriptable HTTP(S) server on 127.0.0.1 for the REST client's tests.

Each test scripts the answers (a queue of canned replies, or a handler function) and then reads
what the client really sent (method, path, query, every header line, body). TLS, with an
optional client-certificate check, comes from a ``trustme`` CA. ``stop()`` closes every open
connection and joins every handler thread, so no thread outlives a test.
"""

from __future__ import annotations

import contextlib
import queue
import select
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    target: str
    headers: Message
    body: bytes
    peer_cert: dict[str, Any] | None = None
    client_port: int = 0

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    def header_values(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []


@dataclass
class Reply:
    """A canned answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # drop the connection with a TCP RST instead of answering


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        peer = None
        if isinstance(self.connection, ssl.SSLSocket):
            peer = self.connection.getpeercert() or None
        request = Recorded(
            self.command, self.path, self.headers, body, peer, self.client_address[1]
        )
        self.server.requests.append(request)
        self.server.handler(request, self)

    def _read_chunked(self) -> bytes:
        out = b""
        while True:
            size = int(self.rfile.readline().strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return out
            out += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_CONNECT = _handle

    # -- helpers for handler functions -------------------------------------------------------

    def answer(self, reply: Reply) -> None:
        if reply.reset:
            self.reset()
            return
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", **reply.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()

    def reset(self) -> None:
        """Abort the connection with a TCP RST."""
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        sock.close()

    def tunnel(self) -> None:
        """Answer a CONNECT as a forward proxy: pipe bytes both ways until either side closes."""
        host, port = self.path.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        ends = [self.connection, upstream]
        try:
            while not self.server.stopping.is_set():
                readable, _, _ = select.select(ends, [], [], 0.05)
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is self.connection else self.connection).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
            self.close_connection = True

    def stream(
        self, lines: Iterable[bytes], status: int = 200, *, keep_alive: bool = False
    ) -> None:
        """Answer with a chunked body, one chunk per item; ends when ``lines`` ends, and so does
        the connection (said in a header, so the client never reuses it after the close), unless
        ``keep_alive``: then the connection waits for the client's next request."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        if not keep_alive:
            # Say so, or a client may pool the connection and lose its next request to the
            # close (then retry it, and spend a second rate-limit token).
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        try:
            for line in lines:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return
        self.close_connection = not keep_alive


class LoopbackServer(ThreadingHTTPServer):
    """Serves on 127.0.0.1 (an ephemeral port) until :meth:`stop`. Use as a context manager.

    By default each request takes the next :class:`Reply` from :meth:`reply`'s queue (an empty
    queue answers 500); set ``handler`` to script anything else.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.requests: list[Recorded] = []
        self.replies: queue.Queue[Reply] = queue.Queue()
        self.handler: Callable[[Recorded, Handler], None] = self._default_handler
        self._open: list[socket.socket] = []
        self._open_lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def reply(self, status: int = 200, body: bytes = b"", **headers: str) -> None:
        self.replies.put(Reply(status, body, {k.replace("_", "-"): v for k, v in headers.items()}))

    def reply_reset(self) -> None:
        self.replies.put(Reply(reset=True))

    def _default_handler(self, request: Recorded, handler: Handler) -> None:
        try:
            reply = self.replies.get_nowait()
        except queue.Empty:
            reply = Reply(500, b"no reply scripted", {"Content-Type": "text/plain"})
        handler.answer(reply)

    def track(self, sock: socket.socket) -> None:
        with self._open_lock:
            self._open.append(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self._open_lock:
            self._open.remove(sock)

    @property
    def open_connections(self) -> int:
        """Connections accepted and not yet ended (their handler has not finished)."""
        with self._open_lock:
            return len(self._open)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # connections dropped by a test are expected

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self._thread.join()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
