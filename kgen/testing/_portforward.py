"""The server side of port-forward: the kubelet's protocols onto the test's ports.

kube-apiserver finds the pod and hands the upgraded connection to the kubelet, which checks the
``ports`` and, for each, connects to the port inside the pod and copies bytes both ways. Here
:func:`open_session` checks the request with the kubelet's messages and chooses the session:

* :class:`Session`, the kubelet's WebSocket protocol (``v4.channel.k8s.io``, or no
  subprotocol; kgen and the official Python client): it opens each port's channels with its
  number, connects each port to what the test registered (:mod:`kgen.testing._ports`) and
  copies until the pod's side ends; a port nothing answers gets the kubelet's error text on its
  error channel. The WebSocket closes once every port is done.
* :class:`TunnelSession`, SPDY/3.1 tunnelled in a WebSocket (``SPDY/3.1+portforward.k8s.io``,
  kubectl 1.31 and later; kube-apiserver translates it to SPDY for the kubelet): a stream pair
  per forwarded connection, as the kubelet's SPDY handler serves it.

* :class:`SPDYSession`, plain SPDY/3.1 on the upgraded connection (``Upgrade: SPDY/3.1``,
  sub-protocol ``portforward.k8s.io``; kubectl 1.30 and older): the same stream pairs.
"""

from __future__ import annotations

import abc
import contextlib
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.connection import Connection
from websockets.typing import Subprotocol

from kgen.streams._channel import FramingError
from kgen.streams._portforward_channel import (
    PROTOCOL,
    data_message,
    error_message,
    parse_client_message,
    parse_ports,
    port_prefix,
)
from kgen.testing._containers import ContainerHandlers
from kgen.testing._errors import APIError
from kgen.testing._ports import Dialled, PortConnection, dial
from kgen.testing._remotecommand import accept_websocket
from kgen.testing._spdy import (
    DATA,
    FIN,
    GOAWAY,
    PING,
    RST_STREAM,
    SYN_STREAM,
    Frame,
    Parser,
    Sender,
    SPDYError,
)
from kgen.testing._spdyupgrade import SPDYLink, check_upgrade, negotiate

__all__ = [
    "CHUNK",
    "SPDY_PROTOCOL",
    "TUNNELLED",
    "SPDYSession",
    "Session",
    "TunnelSession",
    "open_session",
]

CHUNK = 256 * 1024
"""Bytes read from a port's connection at once (and so the largest message sent)."""

TUNNELLED = "SPDY/3.1+portforward.k8s.io"
"""The subprotocol of SPDY inside a WebSocket (kubectl 1.31 and later)."""

SPDY_PROTOCOL = "portforward.k8s.io"
"""The sub-protocol (``X-Stream-Protocol-Version``) of port-forward over plain SPDY."""


class _Upgrade(abc.ABC):
    """What both sessions share: the handshake, then :meth:`_run` on the open WebSocket."""

    _protocol = PROTOCOL

    def __init__(
        self,
        handlers: ContainerHandlers,
        pod: dict[str, Any],
        *,
        request_line: str,
        headers: dict[str, str],
    ) -> None:
        self._handlers = handlers
        self._pod = pod
        self._request_line = request_line
        self._headers = headers

    def serve(self, sock: socket.socket) -> None:
        """Complete the handshake on ``sock`` (whose HTTP request was already read), then
        forward. A handshake the client cannot complete is answered with its error."""
        protocols = [Subprotocol(self._protocol)]
        connection = accept_websocket(
            sock, self._request_line, self._headers, protocols, CHUNK * 64
        )
        if connection is None:
            return
        try:
            self._run(connection)
        finally:
            connection.close()

    @abc.abstractmethod
    def _run(self, connection: Connection) -> None:
        """Forward on the open WebSocket until it ends; every thread started is joined."""


def open_session(
    handlers: ContainerHandlers,
    pod: dict[str, Any],
    ports: list[str],
    *,
    path: str,
    headers: dict[str, str],
) -> Session | TunnelSession | SPDYSession:
    """The session of ``GET <pod>/portforward`` (its ``ports`` query values, its lowercased
    ``headers``), or a 400 :class:`APIError`: not a WebSocket or SPDY/3.1 upgrade, a
    subprotocol not served, no or malformed ports (a WebSocket's; SPDY names the port of each
    stream pair); a 403 for SPDY sub-protocols without ``portforward.k8s.io``."""
    upgrade = headers.get("upgrade", "").lower()
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
    if upgrade.startswith("spdy"):
        check_upgrade(headers)
        return SPDYSession(handlers, pod, negotiate(headers, [SPDY_PROTOCOL]))
    if upgrade != "websocket":
        raise APIError.bad_request("Upgrade request required")
    if TUNNELLED in offered and PROTOCOL not in offered:
        return TunnelSession(
            handlers, pod, request_line=f"GET {path} HTTP/1.1\r\n", headers=headers
        )
    if PROTOCOL not in offered and offered != [""]:
        raise APIError.bad_request(
            f"port-forward with the subprotocol(s) {', '.join(offered)} is not served here "
            f"(served: {PROTOCOL}, and {TUNNELLED} as kubectl 1.31+ speaks it; plain SPDY/3.1 "
            f"with {SPDY_PROTOCOL} as kubectl 1.30 and older do)"
        )
    try:
        numbers = parse_ports(ports)
    except ValueError as err:
        raise APIError.bad_request(str(err)) from None
    return Session(handlers, pod, numbers, request_line=f"GET {path} HTTP/1.1\r\n", headers=headers)


class Session(_Upgrade):
    """One port-forward WebSocket (``v4.channel.k8s.io``), from the upgrade until every port
    is done; see the module docstring. :meth:`serve` runs in the connection's server thread
    and returns when every port's copying and handler has ended and the connection is
    closed."""

    def __init__(
        self,
        handlers: ContainerHandlers,
        pod: dict[str, Any],
        ports: list[int],
        *,
        request_line: str,
        headers: dict[str, str],
    ) -> None:
        super().__init__(handlers, pod, request_line=request_line, headers=headers)
        self._ports = ports

    def _run(self, connection: Connection) -> None:
        send_lock = threading.Lock()

        def send(frame: bytes | memoryview) -> None:
            with send_lock:
                connection.send(frame)

        def errors(index: int) -> Callable[[bytes], None]:
            return lambda text: send(error_message(index, text))

        try:
            for index, port in enumerate(self._ports):
                send(data_message(index, port_prefix(port)))
                send(error_message(index, port_prefix(port)))
        except ConnectionClosed:
            return  # the client left before the ports were opened
        forwards = [
            _Forward(
                port,
                self._pod,
                send,  # the channel byte is the headroom before the data read
                errors(index),
                headroom=data_message(index, b""),
            )
            for index, port in enumerate(self._ports)
        ]
        for forward in forwards:
            forward.connect(self._handlers)
        remaining = [len(forwards)]
        count_lock = threading.Lock()

        def work(forward: _Forward) -> None:
            forward.run()
            with count_lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                connection.close()  # every port is done: so is the WebSocket, as the kubelet's

        workers = [
            threading.Thread(target=work, args=(f,), name=f"kgen-pod-port-{f.port}", daemon=True)
            for f in forwards
        ]
        for worker in workers:
            worker.start()
        try:
            for frame in connection:
                index, data = parse_client_message(frame, len(forwards))
                forwards[index].deliver(data)
        except (ConnectionClosed, FramingError, OSError):
            pass
        finally:
            for forward in forwards:
                forward.cut()
            for worker in workers:
                worker.join()
            for forward in forwards:
                forward.close()


class _StreamPairs:
    """The kubelet's SPDY port-forward, whatever carries the frames: each forwarded connection
    is a pair of streams, ``error`` and ``data``, with one ``requestid``; the server replies to
    both, connects the ``port`` once both are there, and ends both (FIN) when the pod's side is
    done, after the error text if any, as the kubelet's ``httpStreamHandler`` does."""

    def __init__(self, handlers: ContainerHandlers, pod: dict[str, Any]) -> None:
        self._handlers = handlers
        self._pod = pod

    def run(self, chunks: Iterable[bytes], sender: Sender) -> None:
        """Serve the client's bytes (``chunks``, read in this thread) until they end, the
        client says GOAWAY or breaks the framing; returns once every forward has ended."""
        parser = Parser()
        pairs: dict[str, dict[str, int]] = {}
        forwards: dict[int, _Forward] = {}
        workers: list[threading.Thread] = []
        try:
            for chunk in chunks:
                for frame in parser.feed(chunk):
                    if frame.kind == SYN_STREAM:
                        sender.reply(frame.stream)
                        pair = pairs.setdefault(frame.headers.get("requestid", ""), {})
                        pair[frame.headers.get("streamtype", "")] = frame.stream
                        if "data" in pair and "error" in pair:
                            del pairs[frame.headers.get("requestid", "")]
                            workers.append(self._start(frame, pair, sender, forwards))
                    elif frame.kind == DATA and frame.stream in forwards:
                        forwards[frame.stream].deliver(frame.data)
                        if frame.flags & FIN:
                            forwards[frame.stream].half_close()
                    elif frame.kind == RST_STREAM and frame.stream in forwards:
                        forwards[frame.stream].cut()
                    elif frame.kind == PING:
                        sender.ping(frame.value)
                    elif frame.kind == GOAWAY:
                        return
        except (ConnectionClosed, SPDYError, OSError):
            pass
        finally:
            for forward in forwards.values():
                forward.cut()
            for worker in workers:
                worker.join()
            for forward in forwards.values():
                forward.close()

    def _start(
        self,
        frame: Frame,
        pair: dict[str, int],
        sender: Sender,
        forwards: dict[int, _Forward],
    ) -> threading.Thread:
        data_id, error_id = pair["data"], pair["error"]
        text = frame.headers.get("port", "")
        port = int(text) if text.isdigit() and 0 < int(text) < 65536 else 0
        forward = _Forward(
            port,
            self._pod,
            lambda data: sender.data(data_id, data),
            lambda error: sender.data(error_id, error),
        )
        if port:
            forward.connect(self._handlers)
        else:
            forward.refuse(f"invalid port header {text!r}")
        forwards[data_id] = forward

        def work() -> None:
            forward.run()
            with contextlib.suppress(ConnectionClosed, OSError):
                sender.data(data_id, b"", fin=True)
                sender.data(error_id, b"", fin=True)

        worker = threading.Thread(target=work, name=f"kgen-pod-port-{port}", daemon=True)
        worker.start()
        return worker


class TunnelSession(_Upgrade):
    """One WebSocket of kubectl's port-forward (SPDY/3.1 inside, :mod:`kgen.testing._spdy`),
    served by :class:`_StreamPairs`. :meth:`serve` returns once the client has gone and every
    forward has ended."""

    _protocol = TUNNELLED

    def _run(self, connection: Connection) -> None:
        def chunks() -> Iterator[bytes]:
            for message in connection:
                if isinstance(message, str):
                    return
                yield message

        _StreamPairs(self._handlers, self._pod).run(chunks(), Sender(connection.send))


class SPDYSession:
    """One plain SPDY/3.1 connection of kubectl 1.30 and older's port-forward
    (:mod:`kgen.testing._spdyupgrade`), served by :class:`_StreamPairs`. :meth:`serve` runs in
    the connection's server thread and returns once the client has gone and every forward has
    ended."""

    def __init__(self, handlers: ContainerHandlers, pod: dict[str, Any], protocol: str) -> None:
        self._handlers = handlers
        self._pod = pod
        self._protocol = protocol

    def serve(self, sock: socket.socket) -> None:
        """Switch protocols on ``sock`` (whose HTTP request was already read), then forward."""
        link = SPDYLink(sock)
        link.accept(self._protocol)
        try:
            _StreamPairs(self._handlers, self._pod).run(link.chunks(), link.sender)
        finally:
            link.cut()


class _Forward:
    """One port of a session: its connection inside the "pod" and the copying from it.

    The pod's bytes are read into one buffer of :data:`CHUNK` bytes after ``headroom`` (the
    v4 channel byte: the message is then sent as it was read, with no joining copy), and
    ``send_data`` gets a view of ``headroom`` and what was read, valid during the call only
    (it must send or copy it before returning; a WebSocket or SPDY frame is serialized
    then)."""

    def __init__(
        self,
        port: int,
        pod: dict[str, Any],
        send_data: Callable[[memoryview], None],
        send_error: Callable[[bytes], None],
        *,
        headroom: bytes = b"",
    ) -> None:
        self.port = port
        self._headroom = headroom
        self._pod = pod
        self._send_data = send_data
        self._send_error = send_error
        self._sock: socket.socket | None = None
        self._error: str | None = None
        self._dialled: Dialled | None = None
        metadata = pod.get("metadata") or {}
        self._namespace = str(metadata.get("namespace", ""))
        self._name = str(metadata.get("name", ""))
        self._uid = str(metadata.get("uid", ""))

    def connect(self, handlers: ContainerHandlers) -> None:
        """Connect to what answers the port, or note why nothing does."""
        target = handlers.find_port(self._namespace, self._name, self.port)
        where = f'failed to connect to localhost:{self.port} inside namespace "{self._where}"'
        if target is None:
            self._error = (
                f"{where}: connection refused (nothing answers this port: the test registers "
                "server.containers.on_port or server.containers.forward)"
            )
            return
        try:
            self._dialled = dial(
                target,
                lambda sock: PortConnection(
                    self._namespace, self._name, self.port, self._pod, sock
                ),
            )
        except OSError as err:
            assert isinstance(target, tuple)
            self._error = f"{where} (forwarded to {target[0]}:{target[1]}): {err}"
            return
        self._sock = self._dialled.socket
        self._sock.settimeout(None)

    def refuse(self, reason: str) -> None:
        """Connect to nothing: the error channel reports ``reason``."""
        self._error = reason

    @property
    def _where(self) -> str:
        return f"{self._namespace}/{self._name}"

    def run(self) -> None:
        """Copy from the pod's side to the client until it ends, then report a failure."""
        sock = self._sock
        head = len(self._headroom)
        buffer = memoryview(bytearray(head + CHUNK))
        buffer[:head] = self._headroom
        with contextlib.suppress(OSError, ConnectionClosed):
            while sock is not None and (count := sock.recv_into(buffer[head:])):
                self._send_data(buffer[: head + count])
        self.cut()
        if self._dialled is not None:
            failure = self._dialled.finish()
            if failure is not None:
                self._error = (
                    f"port handler for pod {self._where} port {self.port} failed: {failure!r}"
                )
        if self._error is not None:
            text = f"error forwarding port {self.port} to pod {self._where}, uid {self._uid}: "
            with contextlib.suppress(ConnectionClosed):
                self._send_error((text + self._error).encode())

    def deliver(self, data: bytes | memoryview) -> None:
        """Write what the client sent to the pod's side (dropped once that side is gone)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.sendall(data)

    def half_close(self) -> None:
        """The client sends no more: the pod's side reads EOF (SPDY's FIN; v4 has none)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        """End both directions (wakes the copying and the handler); idempotent."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Release the socket (once nothing uses it any more)."""
        if self._sock is not None:
            self._sock.close()
