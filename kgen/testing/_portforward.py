"""The server side of port-forward: the kubelet's WebSocket protocol onto the test's ports.

kube-apiserver finds the pod and hands the upgraded connection to the kubelet, which checks the
``ports`` and, for each, connects to the port inside the pod and copies bytes both ways. Here
:func:`open_session` checks the request with the kubelet's messages and :class:`Session` is the
kubelet's part: it completes the handshake (``v4.channel.k8s.io``, or no subprotocol), opens
each port's channels with its number, connects each port to what the test registered
(:mod:`kgen.testing._ports`) and copies until the pod's side ends; a port nothing answers gets
the kubelet's error text on its error channel. The WebSocket closes once every port is done.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
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
from kgen.testing._ports import PortConnection
from kgen.testing._remotecommand import accept_websocket

__all__ = ["CHUNK", "Session", "open_session"]

CHUNK = 256 * 1024
"""Bytes read from a port's connection at once (and so the largest message sent)."""

_TUNNELLED = "SPDY/3.1+portforward.k8s.io"
"""The subprotocol of SPDY inside a WebSocket (kubectl 1.31 and later), not served here."""


def open_session(
    handlers: ContainerHandlers,
    pod: dict[str, Any],
    ports: list[str],
    *,
    path: str,
    headers: dict[str, str],
) -> Session:
    """The session of ``GET <pod>/portforward`` (its ``ports`` query values, its lowercased
    ``headers``), or a 400 :class:`APIError`: not a WebSocket upgrade, a protocol not served
    (SPDY, SPDY tunnelled in a WebSocket), no or malformed ports."""
    upgrade = headers.get("upgrade", "").lower()
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
    served = f"use a WebSocket with the subprotocol {PROTOCOL} (kgen, the official Python client)"
    if upgrade.startswith("spdy"):
        raise APIError.bad_request(
            "port-forward over SPDY (kubectl's protocol, also tunnelled in a WebSocket from "
            f"kubectl 1.31 on) is not served here: {served}"
        )
    if upgrade != "websocket":
        raise APIError.bad_request("Upgrade request required")
    if PROTOCOL not in offered and offered != [""]:
        raise APIError.bad_request(
            f"port-forward with the subprotocol(s) {', '.join(offered)} is not served here "
            f"({_TUNNELLED} is SPDY tunnelled in a WebSocket, kubectl 1.31+): {served}"
        )
    try:
        numbers = parse_ports(ports)
    except ValueError as err:
        raise APIError.bad_request(str(err)) from None
    return Session(handlers, pod, numbers, request_line=f"GET {path} HTTP/1.1\r\n", headers=headers)


class Session:
    """One port-forward WebSocket, from the upgrade until every port is done; see the module
    docstring. :meth:`serve` runs in the connection's server thread and returns when every
    port's copying and handler has ended and the connection is closed."""

    def __init__(
        self,
        handlers: ContainerHandlers,
        pod: dict[str, Any],
        ports: list[int],
        *,
        request_line: str,
        headers: dict[str, str],
    ) -> None:
        self._handlers = handlers
        self._pod = pod
        self._ports = ports
        self._request_line = request_line
        self._headers = headers

    def serve(self, sock: socket.socket) -> None:
        """Complete the handshake on ``sock`` (whose HTTP request was already read), then
        forward. A handshake the client cannot complete is answered with its error."""
        protocols = [Subprotocol(PROTOCOL)]
        connection = accept_websocket(
            sock, self._request_line, self._headers, protocols, CHUNK * 64
        )
        if connection is None:
            return
        try:
            self._run(connection)
        finally:
            connection.close()

    def _run(self, connection: Connection) -> None:
        send_lock = threading.Lock()

        def send(frame: bytes) -> None:
            with send_lock:
                connection.send(frame)

        try:
            for index, port in enumerate(self._ports):
                send(data_message(index, port_prefix(port)))
                send(error_message(index, port_prefix(port)))
        except ConnectionClosed:
            return  # the client left before the ports were opened
        forwards = [
            _Forward(index, port, self._pod, send) for index, port in enumerate(self._ports)
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


class _Forward:
    """One port of a session: its connection inside the "pod" and the copying from it."""

    def __init__(
        self, index: int, port: int, pod: dict[str, Any], send: Callable[[bytes], None]
    ) -> None:
        self.index = index
        self.port = port
        self._pod = pod
        self._send = send
        self._sock: socket.socket | None = None
        self._error: str | None = None
        self._handler_error: BaseException | None = None
        self._handler: threading.Thread | None = None
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
        elif isinstance(target, tuple):
            try:
                self._sock = socket.create_connection(target, timeout=10)
                self._sock.settimeout(None)
            except OSError as err:
                self._error = f"{where} (forwarded to {target[0]}:{target[1]}): {err}"
        else:
            ours, theirs = socket.socketpair()
            self._sock = ours
            view = PortConnection(self._namespace, self._name, self.port, self._pod, theirs)
            self._handler = threading.Thread(
                target=self._serve,
                args=(target, view),
                name=f"kgen-pod-port-handler-{self.port}",
                daemon=True,
            )
            self._handler.start()

    @property
    def _where(self) -> str:
        return f"{self._namespace}/{self._name}"

    def _serve(self, handler: Callable[[PortConnection], None], view: PortConnection) -> None:
        try:
            handler(view)
        except BaseException as err:  # the handler is test code: report what broke
            self._handler_error = err
        finally:
            view.socket.close()

    def run(self) -> None:
        """Copy from the pod's side to the client until it ends, then report a failure."""
        sock = self._sock
        with contextlib.suppress(OSError, ConnectionClosed):
            while sock is not None and (data := sock.recv(CHUNK)):
                self._send(data_message(self.index, data))
        self.cut()
        if self._handler is not None:
            self._handler.join()
            if self._handler_error is not None:
                self._error = (
                    f"port handler for pod {self._where} port {self.port} failed: "
                    f"{self._handler_error!r}"
                )
        if self._error is not None:
            text = f"error forwarding port {self.port} to pod {self._where}, uid {self._uid}: "
            with contextlib.suppress(ConnectionClosed):
                self._send(error_message(self.index, (text + self._error).encode()))

    def deliver(self, data: bytes) -> None:
        """Write what the client sent to the pod's side (dropped once that side is gone)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.sendall(data)

    def cut(self) -> None:
        """End both directions (wakes the copying and the handler); idempotent."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Release the socket (once nothing uses it any more)."""
        if self._sock is not None:
            self._sock.close()
