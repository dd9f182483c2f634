"""Port-forward over WebSocket: socket-like streams to a pod's ports, and local listeners.

Two shapes, as kubectl and in-process callers need them:

* :func:`open_port_forward` opens one connection to one port of the pod: a :class:`PortStream`
  with ``send``/``sendall``/``recv``/``makefile``/``close``, enough to hand to ``http.client``
  or to read and write by hand;
* :class:`PortForwarder` listens on local ports like ``kubectl port-forward LOCAL:REMOTE``
  (several at once); every accepted connection gets a port-forward WebSocket of its own and is
  copied both ways until either side ends.

The protocol (:mod:`kgen.streams._portforward_channel`) carries one TCP connection per port per
WebSocket, so each connection is its own WebSocket (kubectl multiplexes connections on one SPDY
connection instead; kgen does not speak SPDY). It has no half-close: after a local client stops
sending, its connection stays open until the pod's side ends it or the forwarder closes.
"""

from __future__ import annotations

import contextlib
import io
import selectors
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.sync.client import ClientConnection

from kgen.rest import Request
from kgen.streams._channel import FramingError
from kgen.streams._forwarding import ForwardedPort, Listeners, ListenerViews, parse_port_spec
from kgen.streams._portforward_channel import PROTOCOL, OnePort, check_port
from kgen.streams._websocket import StreamError, open_websocket

__all__ = [
    "CHUNK",
    "ForwardedPort",
    "PortForwardError",
    "PortForwarder",
    "PortStream",
    "open_port_forward",
    "parse_port_spec",
]

CHUNK = 256 * 1024
"""Bytes sent per message, and read from a local connection at once."""


class PortForwardError(StreamError):
    """The pod's side reported a failure on the port's error channel (nothing listens on the
    port, the forward broke); ``port`` is the remote port, ``message`` the server's text."""

    def __init__(self, port: int, message: str) -> None:
        super().__init__(message)
        self.port = port
        self.message = message


class PortStream:
    """One forwarded connection to a pod's port, socket-like. Use it as a context manager.

    ``recv`` returns what the pod's side sent (``b""`` once it has ended) and raises
    :class:`PortForwardError` when the server reported a failure for the port;
    ``send``/``sendall`` send to it. Thread-safety: one thread may read while another writes;
    ``close`` may be called from any thread and wakes a blocked ``recv``.
    """

    def __init__(self, connection: ClientConnection, port: int, description: str) -> None:
        self.port = port
        """The pod's port."""
        self._connection = connection
        self._description = description
        self._port = OnePort(port)
        self._pending = memoryview(b"")  # the data of the last message, read from _offset
        self._offset = 0
        self._timeout: float | None = None
        self._ended = False
        self._files = 0
        self._closing = False
        self._files_lock = threading.Lock()

    @property
    def error(self) -> str | None:
        """The error text the server sent for the port, if any (``recv`` raises it too)."""
        return self._port.error

    def settimeout(self, timeout: float | None) -> None:
        """How long ``recv`` waits for data (``None``: as long as it takes)."""
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    def recv(self, bufsize: int = CHUNK) -> bytes:
        """Up to ``bufsize`` bytes, as soon as some have arrived; ``b""`` once the pod's side
        has ended. Raises ``TimeoutError`` past the timeout, :class:`PortForwardError` for a
        failure the server reported, :class:`StreamError` when the connection drops."""
        return bytes(self.recv_view(bufsize))

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        """As ``socket.recv_into``: up to ``nbytes`` (``0``: the buffer's size) bytes written
        into ``buffer`` (copied once, from the message); how many. Errors as :meth:`recv`."""
        target = memoryview(buffer).cast("B")
        data = self.recv_view(nbytes or len(target))
        target[: len(data)] = data
        return len(data)

    def recv_view(self, bufsize: int = CHUNK) -> memoryview:
        """As :meth:`recv`, without copying: a read-only view of up to ``bufsize`` bytes of the
        message that carried them (empty once the pod's side has ended)."""
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while self._offset >= len(self._pending):
            if self._port.error is not None:
                raise PortForwardError(self.port, f"{self._description}: {self._port.error}")
            if self._ended:
                return memoryview(b"")
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._receive(left)
        start = self._offset
        self._offset = min(len(self._pending), start + bufsize)
        return self._pending[start : self._offset]

    def _receive(self, timeout: float | None) -> None:
        try:
            frame = self._connection.recv(timeout=timeout)
        except TimeoutError:
            raise TimeoutError(f"{self._description}: nothing received in {timeout}s") from None
        except ConnectionClosedOK:
            self._ended = True
            return
        except ConnectionClosed as err:
            self._ended = True
            raise StreamError(f"{self._description}: the connection dropped ({err})") from err
        try:
            data = self._port.take(frame)
        except FramingError as err:
            self.close()
            raise StreamError(f"{self._description}: {err}") from None
        if data is not None:
            self._pending, self._offset = data, 0  # only called once the last one is read

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        """Send ``data`` to the pod's side (in messages of :data:`CHUNK` bytes); blocks while
        the network is slow. :class:`StreamError` once the connection is closed."""
        for message in self._port.messages(data, CHUNK):
            try:
                self._connection.send(message)
            except ConnectionClosed as err:
                raise StreamError(f"{self._description}: the connection is closed") from err

    def send(self, data: bytes | bytearray | memoryview) -> int:
        """As ``sendall``; returns the number of bytes sent (all of them)."""
        self.sendall(data)
        return memoryview(data).nbytes

    def makefile(self, mode: str = "rb", buffering: int = -1) -> IO[bytes]:
        """A buffered binary reader of ``recv`` (what ``http.client`` reads a response from);
        only reading modes are offered. As with a socket, the connection stays open until
        the stream and every file made from it are closed."""
        if mode not in ("r", "rb"):
            raise ValueError(f"a port stream's file reads only (mode 'rb'), not {mode!r}")
        size = io.DEFAULT_BUFFER_SIZE if buffering < 0 else max(1, buffering)
        with self._files_lock:
            self._files += 1
        return io.BufferedReader(_Reader(self), size)

    def close(self) -> None:
        """End the connection (the pod's side sees it end) once no file made by
        :meth:`makefile` is open; idempotent. What was received and not read is dropped."""
        with self._files_lock:
            self._closing = True
            if self._files:
                return
        self._ended = True
        if self._connection.recv_messages.paused:
            # held back (nobody reads): websockets reads nothing more while its queue is full,
            # so the server's answer to a close would not be seen before the close timeout
            # (10 s); the TCP connection is dropped instead of the closing handshake
            with contextlib.suppress(OSError):
                self._connection.socket.shutdown(socket.SHUT_RDWR)
        self._connection.close()

    def _file_closed(self) -> None:
        with self._files_lock:
            self._files -= 1
            closing = self._closing and not self._files
        if closing:
            self.close()

    def __enter__(self) -> PortStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Reader(io.RawIOBase):
    def __init__(self, stream: PortStream) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._stream._file_closed()

    def readinto(self, buffer: Any) -> int:
        return self._stream.recv_into(buffer)


def open_port_forward(
    request: Request,
    port: int,
    *,
    open_timeout: float | None = 30.0,
    description: str = "",
) -> PortStream:
    """Open ``request`` (GET of ``<pod>/portforward``) as a connection to the pod's ``port``.
    Errors as :func:`kgen.streams.open_websocket` (NotFound for a missing pod); a port nothing
    listens on opens, and its first ``recv`` raises :class:`PortForwardError`."""
    request = request.timeout(None).param("ports", str(check_port(port)))
    connection = open_websocket(request, (PROTOCOL,), open_timeout=open_timeout)
    where = description or request.url().split("?")[0]
    return PortStream(connection, port, f"{where} port {port}")


class PortForwarder(ListenerViews):
    """Local listeners forwarding to a pod's ports, as ``kubectl port-forward`` runs them, and
    in-process connections (:meth:`connect`).

    Nothing listens until :meth:`start` (or ``with``); :meth:`close` stops accepting, ends
    every forwarded connection and joins every thread the forwarder started. One background
    thread accepts on all listeners; each accepted connection gets two (one per direction).
    A connection the server refuses or fails is closed, and its error is logged (logger
    ``kgen.streams``) and kept in :attr:`errors`. Thread-safe.
    """

    def __init__(
        self,
        new_request: Callable[[], Request],
        ports: Sequence[int | str] = (),
        *,
        address: str = "127.0.0.1",
        open_timeout: float | None = 30.0,
        description: str = "",
    ) -> None:
        """``new_request`` makes the GET of ``<pod>/portforward`` (a fresh one each call);
        ``ports`` as :func:`parse_port_spec` reads them; ``address`` is where to listen."""
        self._new_request = new_request
        self._listening = Listeners(ports, address)
        self._open_timeout = open_timeout
        self._description = description
        self._lock = threading.Lock()
        self._listeners: list[tuple[socket.socket, int]] = []
        self._threads: set[threading.Thread] = set()
        self._open: set[socket.socket] = set()
        self._streams: set[PortStream] = set()
        self._accepting: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None  # wakes the accepting
        self._closed = False

    # -- in-process --------------------------------------------------------------------------

    def connect(self, remote_port: int) -> PortStream:
        """A new connection to the pod's ``remote_port`` (any port, listened on or not); the
        caller closes it. Errors as :func:`open_port_forward`."""
        return open_port_forward(
            self._new_request(),
            remote_port,
            open_timeout=self._open_timeout,
            description=self._description,
        )

    # -- listening ---------------------------------------------------------------------------

    def start(self) -> PortForwarder:
        """Listen on every local port and start accepting; returns self. ``OSError`` when a
        local port cannot be listened on (nothing is left listening then)."""
        with self._lock:
            if self._closed:
                raise ValueError("this port forwarder is closed")
            if self._accepting is not None:
                return self
            try:
                for local, remote in self._listening.specs:
                    listener = socket.create_server((self._listening.address, local))
                    self._listeners.append((listener, remote))
                    self._listening.bound(listener.getsockname()[1], remote)
            except OSError:
                for listener, _ in self._listeners:
                    listener.close()
                self._listeners.clear()
                self._listening.unbound()
                raise
            self._wake = socket.socketpair()
            self._accepting = threading.Thread(
                target=self._accept,
                args=(self._wake[0],),
                name="kgen-portforward-accept",
                daemon=True,
            )
            self._accepting.start()
        return self

    def _accept(self, wake: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(wake, selectors.EVENT_READ)
            for listener, remote in self._listeners:
                selector.register(listener, selectors.EVENT_READ, remote)
            while not self._closed:
                for key, _ in selector.select():
                    if key.data is None:
                        return  # woken by close()
                    ready = key.fileobj
                    assert isinstance(ready, socket.socket)
                    with contextlib.suppress(BlockingIOError, InterruptedError):
                        local, _ = ready.accept()
                        self._spawn(self._forward, local, key.data)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        with self._lock:
            if self._closed:
                for arg in args:
                    if isinstance(arg, socket.socket):
                        arg.close()
                return
            for arg in args:
                if isinstance(arg, socket.socket):
                    self._open.add(arg)
            thread = threading.Thread(
                target=self._run, args=(target, *args), name="kgen-portforward", daemon=True
            )
            self._threads.add(thread)
        thread.start()

    def _run(self, target: Callable[..., None], *args: object) -> None:
        try:
            target(*args)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _forward(self, local: socket.socket, remote: int) -> None:
        """Serve one accepted connection: open its WebSocket, copy both ways, clean up."""
        try:
            stream = self.connect(remote)
        except Exception as err:  # any refusal (StatusError, StreamError) ends this one only
            self._record(err, local)
            self._release(local)
            return
        with self._lock:
            if self._closed:
                stream.close()
            self._streams.add(stream)
        upstream = threading.Thread(
            target=self._upstream, args=(local, stream), name="kgen-portforward-up", daemon=True
        )
        upstream.start()
        try:
            while data := stream.recv_view(CHUNK):
                local.sendall(data)  # from the message itself: no copy
        except StreamError as err:
            self._record(err, local)
        except OSError:
            pass  # the local client went away
        finally:
            with contextlib.suppress(OSError):
                local.shutdown(socket.SHUT_RDWR)
            stream.close()
            upstream.join()
            with self._lock:
                self._streams.discard(stream)
            self._release(local)

    @staticmethod
    def _upstream(local: socket.socket, stream: PortStream) -> None:
        """Local client -> pod, until the client stops sending (the pod is not told: the
        protocol cannot half-close) or either side fails (which ends the connection)."""
        try:
            while data := local.recv(CHUNK):
                stream.sendall(data)
        except (OSError, StreamError):
            stream.close()

    def _record(self, failure: Exception, local: socket.socket) -> None:
        peer = "?"
        with contextlib.suppress(OSError):
            host, number = local.getsockname()[:2]
            peer = f"{host}:{number}"
        self._listening.record(failure, peer)

    def _release(self, local: socket.socket) -> None:
        with self._lock:
            self._open.discard(local)
        local.close()

    # -- the end -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening, end every forwarded connection and join the forwarder's threads;
        idempotent."""
        with self._lock:
            self._closed = True
            accepting, self._accepting = self._accepting, None
            wake, self._wake = self._wake, None
            streams, sockets = list(self._streams), list(self._open)
        if wake is not None:
            wake[1].send(b"x")
        if accepting is not None:
            accepting.join()
        if wake is not None:
            for end in wake:
                end.close()
        for listener, _ in self._listeners:
            listener.close()
        for stream in streams:
            stream.close()
        for local in sockets:
            with contextlib.suppress(OSError):
                local.shutdown(socket.SHUT_RDWR)
        while True:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                break
            for thread in threads:
                thread.join()

    def __enter__(self) -> PortForwarder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
