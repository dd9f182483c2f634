"""Plain SPDY/3.1 on the upgraded HTTP connection, as kubectl 1.30 and older speak it.

kubectl before its WebSocket transports (exec and attach before 1.30, port-forward before
1.31) sends ``Connection: Upgrade``, ``Upgrade: SPDY/3.1`` and one ``X-Stream-Protocol-Version``
per sub-protocol it speaks, best first; the kubelet answers ``101 Switching Protocols`` naming
the one it chose, and the connection then carries SPDY frames (:mod:`kgen.testing._spdy`).
:func:`check_upgrade` and :func:`negotiate` refuse a request as apimachinery's
``UpgradeResponse`` and ``httpstream.Handshake`` do; :class:`SPDYLink` sends the 101 and is the
connection from then on. The sessions (:mod:`kgen.testing._remotecommand_spdy`,
:mod:`kgen.testing._portforward`) decide what the streams mean.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator, Mapping
from email.utils import formatdate

from kgen.streams._tlssocket import SerializedTLSSocket
from kgen.testing._errors import APIError
from kgen.testing._spdy import Sender

__all__ = ["SPDY31", "SPDYLink", "check_upgrade", "negotiate", "offered_protocols"]

SPDY31 = "SPDY/3.1"
_VERSION_HEADER = "x-stream-protocol-version"
_READ = 256 * 1024


def check_upgrade(headers: Mapping[str, str]) -> None:
    """A 400 unless the (lowercased) ``headers`` ask to upgrade to SPDY/3.1, as the
    kubelet's upgrader checks them."""
    connection = headers.get("connection", "").lower()
    upgrade = headers.get("upgrade", "").lower()
    if "upgrade" not in connection or SPDY31.lower() not in upgrade:
        raise APIError.bad_request(
            f"unable to upgrade: missing upgrade headers in request: Connection {connection!r}, "
            f"Upgrade {upgrade!r} (expected Connection: Upgrade, Upgrade: {SPDY31})"
        )


def offered_protocols(headers: Mapping[str, str]) -> list[str]:
    """The sub-protocols the client offers, in its order (repeated headers arrive joined by
    commas, which is how HTTP folds them)."""
    raw = headers.get(_VERSION_HEADER, "")
    return [p.strip() for p in raw.split(",") if p.strip()]


def negotiate(headers: Mapping[str, str], served: list[str]) -> str:
    """The sub-protocol to speak: the client's first that is ``served``. A client offering
    none is a 400 (kube's ``Handshake`` requires the header; deviation: it writes no response
    then, so the client would see an empty 200); one sharing none a 403 naming what is
    served, with one ``X-Accepted-Stream-Protocol-Versions`` header each, as there."""
    offered = offered_protocols(headers)
    if not offered:
        raise APIError.bad_request("unable to upgrade: X-Stream-Protocol-Version is required")
    chosen = next((p for p in offered if p in served), None)
    if chosen is None:
        raise APIError(
            403,
            "Forbidden",
            "unable to upgrade: unable to negotiate protocol: "
            f"client supports [{' '.join(offered)}], server accepts [{' '.join(served)}]",
            headers={"X-Accepted-Stream-Protocol-Versions": ", ".join(served)},
        )
    return chosen


class SPDYLink:
    """The connection of one SPDY session after the request was read: :meth:`accept` sends
    the 101, :meth:`chunks` is what the client sends (one reader thread), :attr:`sender` writes
    frames (any thread; a TLS socket is wrapped so that reading and writing may overlap).
    :meth:`cut` ends both directions and wakes the reader; the server closes the socket once
    the session returns."""

    def __init__(self, sock: socket.socket) -> None:
        self._raw = sock
        self._sock: socket.socket | SerializedTLSSocket = (
            SerializedTLSSocket(sock) if isinstance(sock, ssl.SSLSocket) else sock
        )
        self._sock.settimeout(None)
        self.sender = Sender(self._sock.sendall)

    def accept(self, protocol: str) -> None:
        """Switch protocols: the 101 with the chosen sub-protocol (none when ``""``)."""
        lines = [
            "HTTP/1.1 101 Switching Protocols",
            "Connection: Upgrade",
            f"Upgrade: {SPDY31}",
            *([f"X-Stream-Protocol-Version: {protocol}"] if protocol else []),
            f"Date: {formatdate(usegmt=True)}",
        ]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def chunks(self) -> Iterator[bytes]:
        """The client's bytes as they arrive, until it closes, breaks or :meth:`cut`."""
        while True:
            try:
                data = self._sock.recv(_READ)
            except (OSError, ValueError):  # ValueError: the TLS object was torn down under us
                return
            if not data:
                return
            yield data

    def cut(self) -> None:
        """Shut the TCP connection both ways (below TLS, which a reader may be inside)."""
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self._raw, socket.SHUT_RDWR)
