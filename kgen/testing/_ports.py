"""What answers a pod's port when a client port-forwards to it: Python handlers or real sockets.

The test server runs no containers. A test says what listens on a pod's port, one of two ways:

* ``server.containers.forward(pod="web", port=80, to=("127.0.0.1", 8123))``: each forwarded
  connection is a TCP connection to that address, so a test can run a real server (an
  ``http.server`` on a free port) as "the container";
* ``server.containers.on_port(handler, pod="web", port=80)``: each forwarded connection calls
  ``handler`` with a :class:`PortConnection`, whose ``socket`` is a connected
  ``socket.socket`` (one end of a socket pair) the handler reads and writes as a server would.

A port nothing answers refuses the connection, as a pod's closed port does: the client's error
channel says so. The most specific registration wins (naming the most of namespace, pod and
port; of equally specific ones, the latest).

Thread-safety: registering and finding may happen from any thread. A handler runs in a thread
of its own, one per forwarded connection, and must return once its socket reaches EOF or fails
(the client left, or the server is stopping): the server waits for it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Dialled", "PortConnection", "PortHandler", "PortHandlers", "PortTarget", "dial"]


@dataclass(frozen=True)
class PortConnection:
    """One forwarded connection to a pod's port, as a handler sees it. ``socket`` is the
    handler's to read, write and close (it is closed for it when the handler returns)."""

    namespace: str
    name: str
    port: int
    pod: dict[str, Any]
    socket: socket.socket


PortHandler = Callable[[PortConnection], None]
"""Serves one forwarded connection. An exception it raises is reported on the client's error
channel, naming it."""

PortTarget = PortHandler | tuple[str, int]
"""What answers a port: a handler, or the ``(host, port)`` address connections go to."""


class Dialled:
    """One open connection to what answers a port (:func:`dial`): ``socket`` is the caller's
    end; :meth:`finish` closes it and waits for a handler to return."""

    def __init__(
        self, sock: socket.socket, handler: PortHandler | None, view: PortConnection | None
    ) -> None:
        self.socket = sock
        self.error: BaseException | None = None
        """What the handler raised, once :meth:`finish` has waited for it."""
        self._thread: threading.Thread | None = None
        if handler is not None and view is not None:
            self._thread = threading.Thread(
                target=self._serve,
                args=(handler, view),
                name=f"kgen-pod-port-handler-{view.port}",
                daemon=True,
            )
            self._thread.start()

    def _serve(self, handler: PortHandler, view: PortConnection) -> None:
        try:
            handler(view)
        except BaseException as err:  # the handler is test code: report what broke
            self.error = err
        finally:
            view.socket.close()

    def finish(self) -> BaseException | None:
        """Close the caller's end (the handler reads EOF), wait for the handler, and return
        what it raised. Idempotent."""
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.socket.close()
        if self._thread is not None:
            self._thread.join()
        return self.error


def dial(target: PortTarget, view: Callable[[socket.socket], PortConnection]) -> Dialled:
    """Connect to ``target``: a TCP connection to an address (``OSError`` when that fails), or
    a socket pair whose other end a new thread hands to the handler, as ``view(its_end)``
    describes the connection."""
    if callable(target):
        ours, theirs = socket.socketpair()
        return Dialled(ours, target, view(theirs))
    sock = socket.create_connection(target, timeout=10)
    return Dialled(sock, None, None)


@dataclass(frozen=True)
class _Registration:
    target: PortTarget
    namespace: str | None
    pod: str | None
    port: int | None

    def matches(self, namespace: str, pod: str, port: int) -> bool:
        return (
            self.namespace in (None, namespace)
            and self.pod in (None, pod)
            and self.port in (None, port)
        )

    @property
    def specificity(self) -> int:
        return sum(v is not None for v in (self.namespace, self.pod, self.port))


class PortHandlers:
    """The port registrations of one server, by what they match. Thread-safe."""

    def __init__(self) -> None:
        self._registrations: list[_Registration] = []
        self._lock = threading.Lock()

    def add(
        self, target: PortTarget, namespace: str | None, pod: str | None, port: int | None
    ) -> None:
        """Let ``target`` answer connections to ``port`` of ``pod`` in ``namespace`` (``None``
        matches any)."""
        if port is not None and not (isinstance(port, int) and 0 < port < 65536):
            raise ValueError(f"port {port!r} is not a TCP port number (1-65535)")
        if not callable(target):
            host, number = target
            if not (isinstance(host, str) and isinstance(number, int)):
                raise ValueError(f"forward to (host, port), not {target!r}")
        with self._lock:
            self._registrations.append(_Registration(target, namespace, pod, port))

    def find(self, namespace: str, pod: str, port: int) -> PortTarget | None:
        """What answers ``port`` of this pod: the most specific match (see the module)."""
        with self._lock:
            candidates = [r for r in self._registrations if r.matches(namespace, pod, port)]
        if not candidates:
            return None
        best = max(range(len(candidates)), key=lambda i: (candidates[i].specificity, i))
        return candidates[best].target

    def clear(self) -> None:
        """Forget every registration."""
        with self._lock:
            self._registrations.clear()
