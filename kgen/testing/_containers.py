"""What a container does when a client execs into it or attaches to it: Python handlers.

The test server runs no containers. A test registers a handler for the processes it expects
(``server.containers.on_exec(handler, pod="web")``); when a client opens ``pods/<name>/exec``
or ``attach``, the server calls the most specific matching handler with a
:class:`ContainerProcess`: the command, the TTY flag, and the process's stdin, stdout and
stderr, wired to the client's WebSocket. The handler's return value is the exit code. A
request that no handler matches fails the way a runtime error does: the session opens and its
error channel reports ``no exec handler for pod <ns>/<name> container <c>``.

What ``pods/<name>/log`` reads is written by the test too:
``server.containers.log(namespace, pod, container)`` is that container's
:class:`kgen.testing.ContainerLog` (``write``, ``end``), ``restart(...)`` starts a new instance
(:mod:`kgen.testing._logs`).

What answers a pod's port when a client port-forwards is registered here too (``on_port``,
``forward``) and described in :mod:`kgen.testing._ports`.

Thread-safety: registering and finding handlers may happen from any thread. A handler runs in
the server thread of its connection; several sessions run concurrently. A handler must return
once its stdin ends or its output can no longer be written (the client left, or the server is
stopping; ``process.disconnected`` is then set), as a real process is killed: the server waits
for it when it stops.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from kgen.streams._channel import TerminalSize
from kgen.testing._logs import ContainerLog, ContainerLogs
from kgen.testing._ports import PortHandler, PortHandlers, PortTarget

__all__ = [
    "ContainerHandler",
    "ContainerHandlers",
    "ContainerProcess",
    "HandlerProvider",
    "Input",
    "Sink",
]

StreamKind = Literal["exec", "attach"]


class Input:
    """A process's stdin: the bytes the client sends, until it closes stdin or leaves.

    Reads block until enough bytes arrive or the input ends. Thread-safe (the server feeds it
    from the connection's reader thread while the handler reads)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._ended = False
        self._ready = threading.Condition()

    def feed(self, data: bytes) -> None:
        """Append ``data`` (the server's reader thread calls this)."""
        if data:
            with self._ready:
                self._buffer += data
                self._ready.notify_all()

    def end(self) -> None:
        """No more input: readers get what is left, then EOF."""
        with self._ready:
            self._ended = True
            self._ready.notify_all()

    @property
    def ended(self) -> bool:
        """True once no more bytes will arrive (some may still be unread)."""
        return self._ended

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all of the input, to its end, when ``size < 0``); ``b""`` at
        EOF. Blocks until ``size`` bytes are there or the input ends."""
        with self._ready:
            while not self._ended and (size < 0 or len(self._buffer) < size):
                self._ready.wait()
            return self._take(size)

    def read1(self) -> bytes:
        """Whatever has arrived (at least one byte), or ``b""`` at EOF."""
        with self._ready:
            while not self._buffer and not self._ended:
                self._ready.wait()
            return self._take(-1)

    def readline(self) -> bytes:
        """One line with its ``\\n`` (the rest of the input at EOF)."""
        with self._ready:
            searched = 0
            while (end := self._buffer.find(b"\n", searched)) < 0 and not self._ended:
                searched = len(self._buffer)
                self._ready.wait()
            return self._take(len(self._buffer) if end < 0 else end + 1)

    def __iter__(self) -> Iterator[bytes]:
        """The lines of the input."""
        while line := self.readline():
            yield line

    def _take(self, size: int) -> bytes:
        """The first ``size`` buffered bytes (all when ``size < 0``), removed from the buffer."""
        size = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        return taken


class Sink:
    """A process's stdout or stderr: what is written goes to the client as it is written.

    ``write`` blocks while the network is slow and raises ``ConnectionError`` once the client is
    gone. Thread-safe. A sink the client did not ask for (``stderr`` of a TTY session merges
    into stdout; a stream not requested) drops what is written."""

    def __init__(self, send: Callable[[bytes], None] | None) -> None:
        self._send = send

    def write(self, data: bytes | str) -> int:
        """Send ``data``; returns its length in bytes."""
        raw = data.encode() if isinstance(data, str) else data
        if self._send is not None and raw:
            self._send(raw)
        return len(raw)


@dataclass
class ContainerProcess:
    """One exec'd command (or the attached main process) of a container, as a handler sees it.

    ``pod`` is the stored pod; ``sizes`` receives each TTY size the client sends (the first one
    right after the session opens, as kubectl does for ``-t``).
    """

    kind: StreamKind
    namespace: str
    name: str
    container: str
    command: tuple[str, ...]
    tty: bool
    stdin: Input
    stdout: Sink
    stderr: Sink
    pod: dict[str, Any]
    sizes: queue.Queue[TerminalSize] = field(default_factory=queue.Queue)
    disconnected: threading.Event = field(default_factory=threading.Event)


ContainerHandler = Callable[[ContainerProcess], "int | None"]
"""Runs one process; returns its exit code (``None`` means 0). An exception it raises ends the
session with an InternalError naming it."""


class HandlerProvider(Protocol):
    """Handlers and ports found by who runs the containers rather than registered by the test
    (:class:`kgen.testing._localruntime.LocalRuntime`). Called from any thread."""

    def handler(
        self, kind: StreamKind, namespace: str, pod: str, container: str
    ) -> ContainerHandler | None:
        """What runs an exec or attach of this container, ``None`` if it is not running."""
        ...

    def port(self, namespace: str, pod: str, port: int) -> PortTarget | None:
        """What answers this pod's port, ``None`` if nothing could."""
        ...


@dataclass(frozen=True)
class _Registration:
    kind: StreamKind
    handler: ContainerHandler
    namespace: str | None
    pod: str | None
    container: str | None

    def matches(self, kind: StreamKind, namespace: str, pod: str, container: str) -> bool:
        return (
            self.kind == kind
            and self.namespace in (None, namespace)
            and self.pod in (None, pod)
            and self.container in (None, container)
        )

    @property
    def specificity(self) -> int:
        return sum(v is not None for v in (self.namespace, self.pod, self.container))


class ContainerHandlers:
    """The handlers of one server, by what they match, and its containers' logs
    (:mod:`kgen.testing._logs`). Thread-safe."""

    def __init__(self) -> None:
        self._registrations: list[_Registration] = []
        self._lock = threading.Lock()
        self._ports = PortHandlers()
        self._node_ports = PortHandlers()
        self.logs = ContainerLogs()
        """Every container's log, current and previous instance (``pods/<name>/log``)."""
        self.provider: HandlerProvider | None = None
        """What answers when no registration matches (the local runtime's processes,
        ``APIServer(kubelet="local")``); registrations the test makes come first."""

    def log(self, namespace: str, pod: str, container: str) -> ContainerLog:
        """The current log of a container, for the test to write to (``.write("line\\n")``)
        and end (``.end()``, the container stopped)."""
        return self.logs.log(namespace, pod, container)

    def restart(self, namespace: str, pod: str, container: str) -> ContainerLog:
        """The container restarts: its log so far becomes the previous instance's (what
        ``previous=true`` reads) and the new, empty, current log is returned."""
        return self.logs.restart(namespace, pod, container)

    def on_exec(
        self,
        handler: ContainerHandler,
        *,
        namespace: str | None = None,
        pod: str | None = None,
        container: str | None = None,
    ) -> ContainerHandler:
        """Run ``handler`` for exec requests matching every given name (``None`` matches any).
        Returns ``handler``."""
        return self._add("exec", handler, namespace, pod, container)

    def on_attach(
        self,
        handler: ContainerHandler,
        *,
        namespace: str | None = None,
        pod: str | None = None,
        container: str | None = None,
    ) -> ContainerHandler:
        """Run ``handler`` for attach requests matching every given name."""
        return self._add("attach", handler, namespace, pod, container)

    def on_port(
        self,
        handler: PortHandler,
        *,
        namespace: str | None = None,
        pod: str | None = None,
        port: int | None = None,
    ) -> PortHandler:
        """Serve port-forwarded connections to ``port`` of matching pods with ``handler``
        (:mod:`kgen.testing._ports`). Returns ``handler``."""
        self._ports.add(handler, namespace, pod, port)
        return handler

    def forward(
        self,
        *,
        to: tuple[str, int],
        namespace: str | None = None,
        pod: str | None = None,
        port: int | None = None,
    ) -> None:
        """Connect port-forwarded connections to ``port`` of matching pods to the TCP address
        ``to`` (a server the test runs as the container)."""
        self._ports.add(to, namespace, pod, port)

    def find_port(self, namespace: str, pod: str, port: int) -> PortTarget | None:
        """What answers ``port`` of this pod (``None``: the port is closed)."""
        found = self._ports.find(namespace, pod, port)
        if found is None and self.provider is not None:
            return self.provider.port(namespace, pod, port)
        return found

    def on_node_port(
        self, handler: PortHandler, *, node: str | None = None, port: int | None = None
    ) -> PortHandler:
        """Serve connections to ``port`` of matching nodes (the kubelet's 10250, or any port
        ``nodes/<name>:<port>/proxy`` names) with ``handler``; its :class:`PortConnection` has
        an empty ``namespace`` and the Node as ``pod``. Returns ``handler``."""
        self._node_ports.add(handler, "", node, port)
        return handler

    def forward_node(
        self, *, to: tuple[str, int], node: str | None = None, port: int | None = None
    ) -> None:
        """Connect connections to ``port`` of matching nodes to the TCP address ``to``."""
        self._node_ports.add(to, "", node, port)

    def find_node_port(self, node: str, port: int) -> PortTarget | None:
        """What answers ``port`` of this node (``None``: the port is closed)."""
        return self._node_ports.find("", node, port)

    def clear(self) -> None:
        """Forget every handler (exec, attach, pod and node ports) and every log (their followers
        reach the end)."""
        with self._lock:
            self._registrations.clear()
        self._ports.clear()
        self._node_ports.clear()
        self.logs.clear()

    def find(
        self, kind: StreamKind, namespace: str, pod: str, container: str
    ) -> ContainerHandler | None:
        """The handler for this process: the one naming the most of namespace, pod and
        container; of equally specific ones, the latest registered."""
        with self._lock:
            candidates = [
                r for r in self._registrations if r.matches(kind, namespace, pod, container)
            ]
        if not candidates:
            provider = self.provider
            return None if provider is None else provider.handler(kind, namespace, pod, container)
        best = max(range(len(candidates)), key=lambda i: (candidates[i].specificity, i))
        return candidates[best].handler

    def _add(
        self,
        kind: StreamKind,
        handler: ContainerHandler,
        namespace: str | None,
        pod: str | None,
        container: str | None,
    ) -> ContainerHandler:
        with self._lock:
            self._registrations.append(_Registration(kind, handler, namespace, pod, container))
        return handler
