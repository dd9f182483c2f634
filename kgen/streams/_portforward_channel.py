"""The port-forward channel protocol, without I/O: how one WebSocket carries several ports.

A port-forward WebSocket (``GET pods/<name>/portforward?ports=8080&ports=9090``, subprotocol
``v4.channel.k8s.io``) has two channels per requested port, in the order of the query: channel
``2i`` carries the bytes of the ``i``-th port's connection both ways, channel ``2i+1`` carries
the server's error text for it (the pod refused the connection, the forward broke). Every
message is binary: one byte naming the channel, then its bytes. The server's first message on
each of its channels is the port number, two bytes little-endian; the client sends data only.
The protocol has no half-close: the end of a connection is the end of the WebSocket.

Both the client (:mod:`kgen.streams._portforward`) and the test server speak through these
functions and :class:`Receiver`, so the framing is written once. All are pure; a
:class:`Receiver` belongs to the one thread reading its WebSocket. What a message carries is
handed out as a ``memoryview`` of the message (no copy); it stays valid as long as it is held.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

from kgen.streams._channel import V4, FramingError

__all__ = [
    "PROTOCOL",
    "OnePort",
    "Receiver",
    "check_port",
    "data_message",
    "error_message",
    "parse_client_message",
    "parse_ports",
    "port_prefix",
]

PROTOCOL = V4
"""The subprotocol of port-forward (the kubelet also accepts none at all)."""


def check_port(port: int) -> int:
    """``port`` when it is a TCP port number (1-65535); ``ValueError`` saying so otherwise."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port {port!r} is not a TCP port number (1-65535)")
    return port


def port_prefix(port: int) -> bytes:
    """The first message's payload on each of a port's channels: the port, 2 bytes LE."""
    return check_port(port).to_bytes(2, "little")


def data_message(index: int, data: bytes) -> bytes:
    """``data`` on the data channel of the ``index``-th port."""
    return bytes((2 * index,)) + data


def error_message(index: int, text: bytes) -> bytes:
    """``text`` on the error channel of the ``index``-th port."""
    return bytes((2 * index + 1,)) + text


def parse_ports(values: Sequence[str]) -> list[int]:
    """The ports of a request's ``ports`` query values, each a port or a comma-separated list
    (both forms reach the kubelet), in order. ``ValueError`` with the kubelet's words for none,
    an empty value, or one that is not a port."""
    if not values:
        raise ValueError('query parameter "port" is required')
    ports: list[int] = []
    for value in values:
        if not value:
            raise ValueError('query parameter "port" cannot be empty')
        for word in value.split(","):
            if not word.isdigit() or int(word) > 65535:
                raise ValueError(f"unable to parse {value!r} as a port")
            if int(word) < 1:
                raise ValueError(f"port {value!r} must be > 0")
            ports.append(int(word))
    return ports


def parse_client_message(frame: bytes | str, count: int) -> tuple[int, memoryview]:
    """``(port index, data)`` of a message the client sent on a WebSocket forwarding ``count``
    ports; :class:`FramingError` for a text or empty message or one not on a data channel."""
    channel, data = _split(frame)
    if channel % 2 or channel // 2 >= count:
        raise FramingError(
            f"port-forward clients send on data channels 0-{2 * count - 2:d} (even); "
            f"got channel {channel}"
        )
    return channel // 2, data


class Receiver:
    """The client's view of the server's messages on a WebSocket forwarding ``ports``: checks
    and drops the port number each channel starts with, then hands out what follows."""

    def __init__(self, ports: Sequence[int]) -> None:
        self._ports = list(ports)
        self._started = [False] * (2 * len(self._ports))

    def take(self, frame: bytes | str) -> tuple[int, Literal["data", "error"], memoryview] | None:
        """``(port index, channel kind, bytes)`` of one message; ``None`` for a channel's
        opening port number. :class:`FramingError` for a message not on a channel of these
        ports, or a channel that does not start with its port number."""
        channel, data = _split(frame)
        if channel >= len(self._started):
            raise FramingError(
                f"port-forward channel {channel} does not exist for {len(self._ports)} port(s)"
            )
        index = channel // 2
        kind: Literal["data", "error"] = "error" if channel % 2 else "data"
        if self._started[channel]:
            return index, kind, data
        expected = port_prefix(self._ports[index])
        if data != expected:
            raise FramingError(
                f"port-forward channel {channel} must open with port {self._ports[index]} "
                f"({expected.hex()}); got {data[:8].hex() or 'nothing'}"
            )
        self._started[channel] = True
        return None


class OnePort:
    """The client's side of one port on its own WebSocket, without I/O, shared by the threaded
    :class:`kgen.streams.PortStream` and :class:`kgen.streams.AsyncPortStream`: what a message
    from the server means (:meth:`take`) and the messages that carry data to it
    (:meth:`messages`). The error text the server sends accumulates in :attr:`error`."""

    def __init__(self, port: int) -> None:
        self.port = check_port(port)
        self.error: str | None = None
        self._receiver = Receiver([port])

    def take(self, frame: bytes | str) -> memoryview | None:
        """The data a message carries (a view of it); ``None`` for one that carries none (a
        channel's opening port number, error text). :class:`FramingError` as
        :meth:`Receiver.take`."""
        taken = self._receiver.take(frame)
        if taken is None:
            return None
        _, kind, data = taken
        if kind == "data":
            return data
        if data:
            self.error = (self.error or "") + bytes(data).decode(errors="replace")
        return None

    def messages(self, data: bytes | bytearray | memoryview, chunk: int) -> Iterator[bytes]:
        """``data`` as messages on the port's data channel, ``chunk`` bytes at most each."""
        view = memoryview(data).cast("B")
        for start in range(0, len(view), chunk):
            yield data_message(0, bytes(view[start : start + chunk]))


def _split(frame: bytes | str) -> tuple[int, memoryview]:
    if isinstance(frame, str):
        raise FramingError("port-forward messages are binary; got a text message")
    if not frame:
        raise FramingError("empty port-forward message (no channel byte)")
    return frame[0], memoryview(frame)[1:]
