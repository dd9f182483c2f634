"""A TLS socket that one thread may read while others write.

Python's ``ssl.SSLSocket`` must not be read and written by two threads at the same time: an
``SSL_read`` that handles a TLS 1.3 session ticket while another thread's ``SSL_write`` sends
can lose the write, and both peers then wait forever (seen here about once in 300 exec
sessions, as the first request of a WebSocket went missing). A WebSocket connection of
``websockets.sync`` reads in a thread of its own and writes from the caller's, so every
operation on the TLS object here holds one lock, and only non-blocking calls are made under
it: a thread that must wait for the network waits outside the lock, in ``select``.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from typing import Any

__all__ = ["SerializedTLSSocket", "connect_tls"]


class SerializedTLSSocket:
    """Wraps a connected ``ssl.SSLSocket`` (put in non-blocking mode here) and offers the
    blocking ``recv``/``send``/``sendall`` a WebSocket connection uses, with the timeout set by
    ``settimeout`` (``None``: wait as long as it takes). Everything else is the wrapped
    socket's. Thread-safe as described in the module docstring."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self._timeout: float | None = sock.gettimeout()
        sock.setblocking(False)

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    def recv(self, size: int) -> bytes:
        deadline = self._deadline()
        while True:
            with self._lock:
                try:
                    return self._sock.recv(size)
                except ssl.SSLWantReadError:
                    waiting_for = "read"
                except ssl.SSLWantWriteError:
                    waiting_for = "write"
            self._wait(waiting_for, deadline)

    def send(self, data: bytes | memoryview) -> int:
        deadline = self._deadline()
        while True:
            with self._lock:
                try:
                    return self._sock.send(data)
                except ssl.SSLWantWriteError:
                    waiting_for = "write"
                except ssl.SSLWantReadError:
                    waiting_for = "read"
            self._wait(waiting_for, deadline)

    def sendall(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            view = view[self.send(view) :]

    def _deadline(self) -> float | None:
        return None if self._timeout is None else time.monotonic() + self._timeout

    def _wait(self, direction: str, deadline: float | None) -> None:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise TimeoutError("timed out")
        readers, writers = ([self._sock], []) if direction == "read" else ([], [self._sock])
        select.select(readers, writers, [], left)

    def shutdown(self, how: int) -> None:
        with self._lock:
            self._sock.shutdown(how)

    def close(self) -> None:
        self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def connect_tls(
    host: str, port: int, context: ssl.SSLContext, server_hostname: str, timeout: float | None
) -> socket.socket:
    """A TCP connection to ``host:port`` with TLS done, as a :class:`SerializedTLSSocket`
    (typed as a socket for the WebSocket library that uses it)."""
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        tls = context.wrap_socket(raw, server_hostname=server_hostname)
    except BaseException:
        raw.close()
        raise
    return SerializedTLSSocket(tls)  # type: ignore[return-value]
