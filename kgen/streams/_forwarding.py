"""What a port forwarder listens on and what went wrong, without I/O: the bookkeeping the
threaded :class:`kgen.streams.PortForwarder` and the asyncio
:class:`kgen.streams.AsyncPortForwarder` share.

Ports are written as kubectl writes them (``8080:80``, ``80``, ``:80``); each becomes a local
listener once the forwarder starts, and every accepted connection is forwarded on a WebSocket
of its own. A connection that fails ends alone: its failure is logged (logger
``kgen.streams``) and kept, in order, for :attr:`Listeners.errors`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ForwardedPort", "ListenerViews", "Listeners", "parse_port_spec"]

_log = logging.getLogger("kgen.streams")


@dataclass(frozen=True)
class ForwardedPort:
    """One listener of a port forwarder: connections to ``address:local_port`` go to the pod's
    ``remote_port``."""

    address: str
    local_port: int
    remote_port: int


def parse_port_spec(spec: int | str) -> tuple[int, int]:
    """``(local, remote)`` of one port as kubectl writes it: ``8080:80``, ``80`` (the same port
    locally), ``:80`` or ``0:80`` (any free local port, 0). ``ValueError`` naming the bad part."""
    text = str(spec)
    local_text, _, remote_text = text.rpartition(":") if ":" in text else (text, "", text)
    if not (remote_text.isdigit() and 0 < int(remote_text) < 65536):
        raise ValueError(f"port {text!r}: the remote port {remote_text!r} is not 1-65535")
    if local_text and not (local_text.isdigit() and int(local_text) < 65536):
        raise ValueError(f"port {text!r}: the local port {local_text!r} is not 0-65535")
    return int(local_text or 0), int(remote_text)


class Listeners:
    """The ports a forwarder was asked for (:attr:`specs`, checked at once), the listeners it
    bound (:attr:`ports`) and the failures of its connections (:attr:`errors`).

    The forwarder that owns it calls :meth:`bound` while it starts and :meth:`record` from
    whichever thread or task served the connection; every method is thread-safe."""

    def __init__(self, ports: Sequence[int | str], address: str) -> None:
        self.specs = [parse_port_spec(p) for p in ports]
        """``(local, remote)`` per requested port, in order (local 0: any free port)."""
        self.address = address
        self._lock = threading.Lock()
        self._ports: list[ForwardedPort] = []
        self._errors: list[Exception] = []

    def bound(self, local_port: int, remote_port: int) -> None:
        """A listener is up on ``local_port`` (the port the system chose for a 0)."""
        with self._lock:
            self._ports.append(ForwardedPort(self.address, local_port, remote_port))

    def unbound(self) -> None:
        """No listener is up (a start that failed part-way has closed them)."""
        with self._lock:
            self._ports.clear()

    @property
    def ports(self) -> list[ForwardedPort]:
        """The listeners, in the order of the specs (empty before the forwarder starts)."""
        with self._lock:
            return list(self._ports)

    def local_port(self, remote_port: int) -> int:
        """The local port of the first listener forwarding to ``remote_port``; ``KeyError``."""
        for forwarded in self.ports:
            if forwarded.remote_port == remote_port:
                return forwarded.local_port
        raise KeyError(f"no listener forwards to remote port {remote_port}")

    @property
    def errors(self) -> list[Exception]:
        """The failures of forwarded connections so far, oldest first:
        :class:`kgen.rest.StatusError` for a refused upgrade,
        :class:`kgen.streams.PortForwardError` for an error channel's report,
        :class:`kgen.streams.StreamError` for a broken connection."""
        with self._lock:
            return list(self._errors)

    def record(self, failure: Exception, local: str) -> None:
        """Log and keep the failure of the connection accepted on ``local`` (``host:port``)."""
        _log.warning("port-forward of a connection to %s failed: %s", local, failure)
        with self._lock:
            self._errors.append(failure)


class ListenerViews:
    """What a forwarder tells about its listeners (shared by the thread and asyncio
    forwarders): read from ``self._listening``, which the forwarder owns."""

    _listening: Listeners

    @property
    def ports(self) -> list[ForwardedPort]:
        """The listeners, in the order of ``ports`` (empty before :meth:`start`)."""
        return self._listening.ports

    def local_port(self, remote_port: int) -> int:
        """The local port of the first listener forwarding to ``remote_port``."""
        return self._listening.local_port(remote_port)

    @property
    def errors(self) -> list[Exception]:
        """The failures of forwarded connections so far (:attr:`Listeners.errors`)."""
        return self._listening.errors
