"""The server side of exec and attach: container choice, then a remote-command WebSocket.

kube-apiserver checks the request (which container, which streams, a command for exec) and
hands the upgraded connection to the kubelet, whose runtime runs the process. Here the check
is :func:`choose_container` and :func:`check_streams`, with kube-apiserver's messages, and the
kubelet's part is :class:`Session`: it completes the WebSocket handshake (``v5.channel.k8s.io``
preferred, ``v4.channel.k8s.io`` accepted), wires the channels to a :class:`ContainerProcess`,
runs the handler the test registered, and reports the exit code on the error channel as the
kubelet does.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

import msgspec
from websockets.exceptions import ConnectionClosed
from websockets.server import ServerProtocol
from websockets.sync.connection import Connection
from websockets.typing import Subprotocol

from kgen.streams._channel import (
    CLOSE,
    V4,
    V5,
    Channel,
    FramingError,
    exit_status,
    message,
    parse,
    parse_resize,
)
from kgen.streams._tlssocket import SerializedTLSSocket
from kgen.testing._containers import ContainerHandlers, ContainerProcess, Input, Sink, StreamKind
from kgen.testing._errors import APIError

__all__ = [
    "MAX_OUTPUT_MESSAGE",
    "Session",
    "accept_websocket",
    "check_streams",
    "choose_container",
    "new_process",
]

MAX_OUTPUT_MESSAGE = 1024 * 1024
"""Output a handler writes at once is sent in messages of at most this many bytes."""

_PROTOCOLS = [Subprotocol(V5), Subprotocol(V4)]


def choose_container(pod: dict[str, Any], requested: str) -> str:
    """The container a request addresses (exec, attach, log), as kube-apiserver chooses it: the
    requested one if the pod has it (among its containers, init containers and ephemeral
    containers), else the only container; else a 400 listing every container, init ones first
    and ephemeral ones last, as its ``validateContainer`` does."""
    spec = pod.get("spec") or {}
    name = (pod.get("metadata") or {}).get("name", "")
    groups: dict[str, list[str]] = {
        key: [str(c.get("name", "")) for c in spec.get(key) or [] if isinstance(c, dict)]
        for key in ("initContainers", "containers", "ephemeralContainers")
    }
    every = [c for names in groups.values() for c in names]
    if requested:
        if requested in every:
            return requested
        raise APIError.bad_request(f"container {requested} is not valid for pod {name}")
    if len(groups["containers"]) == 1:
        return groups["containers"][0]
    if not groups["containers"]:
        raise APIError.bad_request(f"a container name must be specified for pod {name}")
    raise APIError.bad_request(
        f"a container name must be specified for pod {name}, choose one of: [{' '.join(every)}]"
    )


def check_streams(kind: StreamKind, command: list[str], flags: dict[str, bool]) -> None:
    """The kubelet's checks of the options: a command for exec, and at least one stream."""
    if kind == "exec" and not command:
        raise APIError.bad_request("you must specify at least 1 command")
    if not (flags["stdin"] or flags["stdout"] or flags["stderr"]):
        raise APIError.bad_request("you must specify at least 1 of stdin, stdout, stderr")


class Session:
    """One exec or attach session, from the upgrade to the exit status; see the module
    docstring. :meth:`serve` runs in the connection's server thread and returns when the
    handler has returned and the connection is closed."""

    def __init__(
        self,
        process: ContainerProcess,
        handlers: ContainerHandlers,
        *,
        request_line: str,
        headers: dict[str, str],
        flags: dict[str, bool],
    ) -> None:
        self.process = process
        self._handlers = handlers
        self._request_line = request_line
        self._headers = headers
        self._flags = flags

    def serve(self, sock: socket.socket) -> None:
        """Complete the handshake on ``sock`` (whose HTTP request was already read), then run
        the session. A handshake the client cannot complete is answered with its error."""
        connection = accept_websocket(
            sock, self._request_line, self._headers, _PROTOCOLS, MAX_OUTPUT_MESSAGE * 16
        )
        if connection is None:
            return
        try:
            self._run(connection)
        finally:
            connection.close()

    def _run(self, connection: Connection) -> None:
        process = self.process
        send_lock = threading.Lock()

        def sender(channel: Channel) -> Callable[[bytes], None]:
            def send(data: bytes) -> None:
                for start in range(0, len(data), MAX_OUTPUT_MESSAGE):
                    with send_lock:
                        try:
                            connection.send(
                                message(channel, data[start : start + MAX_OUTPUT_MESSAGE])
                            )
                        except ConnectionClosed as err:
                            process.disconnected.set()
                            raise ConnectionResetError(f"the client has gone: {err}") from err

            return send

        if self._flags["stdout"]:
            process.stdout = Sink(sender(Channel.STDOUT))
        if process.tty:
            process.stderr = process.stdout
        elif self._flags["stderr"]:
            process.stderr = Sink(sender(Channel.STDERR))
        reader = threading.Thread(
            target=self._read, args=(connection,), name="kgen-remotecommand-stdin", daemon=True
        )
        reader.start()
        status = self._execute()
        with contextlib.suppress(ConnectionClosed), send_lock:
            connection.send(message(Channel.ERROR, msgspec.json.encode(status)))
        connection.close()
        reader.join()

    def _execute(self) -> dict[str, Any]:
        process = self.process
        handler = self._handlers.find(
            process.kind, process.namespace, process.name, process.container
        )
        if handler is None:
            return _failure(
                f"no {process.kind} handler for pod {process.namespace}/{process.name} "
                f"container {process.container}"
            )
        try:
            code = handler(process)
        except ConnectionError:
            return exit_status(137)  # the client left: the process is killed
        except Exception as err:  # the handler is test code: report what broke
            return _failure(
                f"{process.kind} handler for pod {process.namespace}/{process.name} "
                f"container {process.container} failed: {err!r}"
            )
        return exit_status(code or 0)

    def _read(self, connection: Connection) -> None:
        """Feed stdin and resizes until the client closes stdin or the connection ends."""
        process = self.process
        try:
            for frame in connection:
                channel, data = parse(frame)
                if channel == Channel.STDIN:
                    process.stdin.feed(data)
                elif channel == CLOSE and data[0] == Channel.STDIN:
                    process.stdin.end()
                elif channel == Channel.RESIZE:
                    process.sizes.put(parse_resize(data))
        except (ConnectionClosed, FramingError, OSError):
            pass
        finally:
            process.stdin.end()
            process.disconnected.set()


def accept_websocket(
    sock: socket.socket,
    request_line: str,
    headers: dict[str, str],
    protocols: list[Subprotocol],
    max_size: int,
) -> Connection | None:
    """Complete the WebSocket handshake of the request already read from ``sock`` (its
    ``request_line`` and lowercased ``headers``), choosing among ``protocols``; the open
    connection (on a :class:`SerializedTLSSocket` for TLS), or ``None`` when the handshake was
    refused (the refusal has been sent). A protocol that is not an RFC 6455 token
    (``SPDY/3.1+portforward.k8s.io``, which kubectl offers) is matched here, as the WebSocket
    library would refuse the header."""
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
    untokened = next((p for p in protocols if "/" in p and p in offered), None)
    if untokened is not None:
        headers = {k: v for k, v in headers.items() if k != "sec-websocket-protocol"}
        protocols = []
    protocol = ServerProtocol(subprotocols=protocols or None, max_size=max_size)
    raw = request_line + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    protocol.receive_data((raw + "\r\n").encode("latin-1"))
    events = protocol.events_received()
    if not events:
        return None
    response = protocol.accept(events[0])  # type: ignore[arg-type]
    if untokened is not None and response.status_code == 101:
        response.headers["Sec-WebSocket-Protocol"] = untokened
    protocol.send_response(response)
    sock.sendall(b"".join(protocol.data_to_send()))
    if response.status_code != 101:
        return None
    if isinstance(sock, ssl.SSLSocket):
        sock = SerializedTLSSocket(sock)  # type: ignore[assignment]
    return Connection(sock, protocol, ping_interval=None)


def new_process(
    kind: StreamKind,
    pod: dict[str, Any],
    container: str,
    command: list[str],
    tty: bool,
    stdin: bool,
) -> ContainerProcess:
    """A process whose streams the session wires up (stdin ends at once unless requested)."""
    metadata = pod.get("metadata") or {}
    process = ContainerProcess(
        kind=kind,
        namespace=metadata.get("namespace", ""),
        name=metadata.get("name", ""),
        container=container,
        command=tuple(command),
        tty=tty,
        stdin=Input(),
        stdout=Sink(None),
        stderr=Sink(None),
        pod=pod,
    )
    if not stdin:
        process.stdin.end()
    return process


def _failure(text: str) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {text}",
        "reason": "InternalError",
        "details": {"causes": [{"message": text}]},
        "code": 500,
    }
