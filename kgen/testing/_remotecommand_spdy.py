"""Exec and attach over plain SPDY/3.1 (kubectl 1.29 and older), as the kubelet serves them.

The client opens one SPDY stream per standard stream it wants, each named by its
``streamType`` header: ``error`` always, ``stdin``, ``stdout``, ``stderr`` as requested
(``stderr`` not with a TTY), and ``resize`` with a TTY from ``v3.channel.k8s.io`` on. The
kubelet waits (up to 30 seconds) until all of them are open, runs the process, writes the
outcome on the error stream, and closes. The sub-protocol decides the error stream's content:
``v4``/``v5`` the ``Status`` JSON that carries the exit code; ``v3``, ``v2`` and
``channel.k8s.io`` the failure's message only (nothing on success). Bytes on ``stdin`` feed
the process, its FIN ends its input; ``resize`` carries concatenated ``{"Width","Height"}``
objects (a malformed one ends the reading of sizes, and only that, as the kubelet's decoder).

Deviation: the kubelet's ``channel.k8s.io`` handler resets the error stream as soon as the
streams are open (a 1.0 bug kept there), so its clients never read the status; here it is sent
as with ``v2``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import Any

import msgspec

from kgen.streams._channel import FramingError, parse_resize
from kgen.testing._containers import ContainerHandlers, ContainerProcess, Sink
from kgen.testing._remotecommand import MAX_OUTPUT_MESSAGE, Session
from kgen.testing._spdy import DATA, FIN, GOAWAY, PING, RST_STREAM, SYN_STREAM, Parser, SPDYError
from kgen.testing._spdyupgrade import SPDYLink

__all__ = ["PROTOCOLS", "SPDYSession"]

PROTOCOLS = [
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
]
"""The sub-protocols served over SPDY, as the kubelet lists them (v5 is v4 on SPDY)."""

STREAM_CREATION_TIMEOUT = 30.0
"""Seconds the kubelet waits for the client to open every stream it asked for."""

_LINGER = 10.0
"""Seconds to wait, after the outcome is sent, for the client to close the connection."""

_STATUS_JSON = frozenset(PROTOCOLS[:2])
_RESIZING = frozenset(PROTOCOLS[:3])
_TYPES = ("error", "stdin", "stdout", "stderr", "resize")


class SPDYSession(Session):
    """One exec or attach session over plain SPDY, from the 101 to the outcome; see the module
    docstring. :meth:`serve` runs in the connection's server thread and returns once the
    handler has returned and the client has closed (or :data:`_LINGER` has passed)."""

    def __init__(
        self,
        process: ContainerProcess,
        handlers: ContainerHandlers,
        *,
        protocol: str,
        flags: dict[str, bool],
    ) -> None:
        super().__init__(process, handlers, request_line="", headers={}, flags=flags)
        self._protocol = protocol
        self._streams: dict[str, int] = {}
        self._opened = threading.Event()

    def _expected(self) -> int:
        flags, tty = self._flags, self.process.tty
        count = 1 + flags["stdin"] + flags["stdout"] + (flags["stderr"] and not tty)
        return count + (tty and self._protocol in _RESIZING)

    def serve(self, sock: socket.socket) -> None:
        """Switch protocols on ``sock`` (whose HTTP request was already read), wait for the
        streams, run the process, report its outcome."""
        link = SPDYLink(sock)
        link.accept(self._protocol)
        reader = threading.Thread(
            target=self._read_streams, args=(link,), name="kgen-remotecommand-spdy", daemon=True
        )
        reader.start()
        try:
            if (
                self._opened.wait(STREAM_CREATION_TIMEOUT)
                and not self.process.disconnected.is_set()
            ):
                self._run_process(link)
                reader.join(_LINGER)
        finally:
            link.cut()
            reader.join()

    def _run_process(self, link: SPDYLink) -> None:
        process, streams = self.process, self._streams

        def sender(stream: int) -> Callable[[bytes], None]:
            def send(data: bytes) -> None:
                for start in range(0, len(data), MAX_OUTPUT_MESSAGE):
                    try:
                        link.sender.data(stream, data[start : start + MAX_OUTPUT_MESSAGE])
                    except OSError as err:
                        process.disconnected.set()
                        raise ConnectionResetError(f"the client has gone: {err}") from err

            return send

        if "stdout" in streams:
            process.stdout = Sink(sender(streams["stdout"]))
        if process.tty:
            process.stderr = process.stdout
        elif "stderr" in streams:
            process.stderr = Sink(sender(streams["stderr"]))
        status = self._execute()
        try:
            if "error" in streams:
                link.sender.data(streams["error"], _status_bytes(self._protocol, status))
            for stream in list(streams.values()):  # the reader may still add one
                link.sender.data(stream, b"", fin=True)
        except OSError:
            process.disconnected.set()

    def _read_streams(self, link: SPDYLink) -> None:
        """Open streams as the client creates them, feed stdin and resizes, until the client
        closes the connection or says GOAWAY."""
        process, streams = self.process, self._streams
        parser, opened, expected = Parser(), 0, self._expected()
        resizes: bytearray | None = bytearray()
        try:
            for chunk in link.chunks():
                for frame in parser.feed(chunk):
                    if frame.kind == SYN_STREAM:
                        link.sender.reply(frame.stream)
                        kind = frame.headers.get("streamtype", "")
                        if kind in _TYPES and kind not in streams:
                            streams[kind] = frame.stream
                            opened += 1
                            if opened == expected:
                                self._opened.set()
                    elif frame.kind == DATA and frame.stream == streams.get("stdin"):
                        process.stdin.feed(frame.data)
                        if frame.flags & FIN:
                            process.stdin.end()
                    elif frame.kind == DATA and frame.stream == streams.get("resize"):
                        if resizes is not None:
                            resizes += frame.data
                            try:
                                _take_sizes(resizes, process)
                            except FramingError:  # the kubelet stops reading sizes, only that
                                resizes = None
                    elif frame.kind == RST_STREAM and frame.stream == streams.get("stdin"):
                        process.stdin.end()
                    elif frame.kind == PING:
                        link.sender.ping(frame.value)
                    elif frame.kind == GOAWAY:
                        return
        except (SPDYError, OSError):
            pass
        finally:
            process.stdin.end()
            process.disconnected.set()
            self._opened.set()


def _take_sizes(buffer: bytearray, process: ContainerProcess) -> None:
    """Queue each complete size object at the start of ``buffer``, removing it; what is left is
    the start of the next one. A malformed one raises :class:`FramingError`."""
    decoder = json.JSONDecoder()
    while True:
        del buffer[: len(buffer) - len(bytes(buffer).lstrip())]
        if not buffer:
            return
        text = buffer.decode("latin-1")  # one character a byte: offsets stay byte offsets
        try:
            _, end = decoder.raw_decode(text)
        except json.JSONDecodeError:
            if len(buffer) > 4096:
                raise FramingError(f"malformed terminal size {bytes(buffer[:80])!r}") from None
            return  # the object is not complete yet
        process.sizes.put(parse_resize(bytes(buffer[:end])))
        del buffer[:end]


def _status_bytes(protocol: str, status: dict[str, Any]) -> bytes:
    """What the error stream carries: the Status JSON (v4, v5), else a failure's message."""
    if protocol in _STATUS_JSON:
        return msgspec.json.encode(status)
    return b"" if status.get("status") == "Success" else str(status.get("message", "")).encode()
