"""SPDY/3.1 framing, the server's half, as much as kubectl's port-forward, exec and attach use.

kubectl 1.31 and later forward ports over SPDY tunnelled in a WebSocket (subprotocol
``SPDY/3.1+portforward.k8s.io``): the WebSocket's binary messages carry the raw SPDY byte
stream; older kubectl speaks the same frames on the upgraded connection itself
(:mod:`kgen.testing._spdyupgrade`). The client opens the streams (SYN_STREAM with headers
naming what each is for: ``streamtype`` and, for port-forward, ``port`` and ``requestid``),
the server replies to each (SYN_REPLY), and both sides send DATA frames, a FIN flag ending a
direction. Header blocks
are compressed with zlib and the dictionary of the SPDY/3 draft (one compression context per
direction for the whole connection). PINGs are echoed. There is no flow control: the client's
library (spdystream) does not use WINDOW_UPDATE.

:class:`Parser` and :class:`Writer` hold their direction's zlib context: one thread each;
:class:`Sender` puts a lock around a :class:`Writer` for a connection written by many threads.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "DATA",
    "FIN",
    "GOAWAY",
    "PING",
    "RST_STREAM",
    "SYN_REPLY",
    "SYN_STREAM",
    "Frame",
    "Parser",
    "SPDYError",
    "Sender",
    "Writer",
]

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = (
    1,
    2,
    3,
    4,
    6,
    7,
    8,
    9,
)
DATA = 0
"""The type given to data frames here (control frames have types 1-9)."""
FIN = 0x01
_VERSION = 3

_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language "
    "accept-ranges age allow authorization cache-control connection content-base "
    "content-encoding content-language content-length content-location content-md5 "
    "content-range content-type date etag expect expires from host if-match if-modified-since "
    "if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer "
    "transfer-encoding upgrade user-agent vary via warning www-authenticate method get status "
    "|200 OK| version HTTP/1.1 url public set-cookie keep-alive origin"
)
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 "
    "Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 "
    "Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, "
    "Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)


def _dictionary() -> bytes:
    """The SPDY/3 header compression dictionary: length-prefixed header words, then a run of
    common values (draft-mbelshe-httpbis-spdy-00, section 2.6.10.1)."""
    words = [w.strip("|") for w in _WORDS.replace("|200 OK|", "200\x00OK").split()]
    parts = [struct.pack(">I", len(w)) + w.replace("\x00", " ").encode() for w in words]
    return b"".join(parts) + _TAIL.encode()


DICTIONARY = _dictionary()
_DICTIONARY_ADLER32 = 0xE3C6A7C2  # what a SPDY/3 peer's zlib stream names as its dictionary
assert zlib.adler32(DICTIONARY) == _DICTIONARY_ADLER32, "the SPDY/3 dictionary is misspelled"


class SPDYError(ValueError):
    """A byte stream that is not the SPDY/3 the server expects (says what was wrong)."""


@dataclass
class Frame:
    """One frame: ``kind`` is a control type or :data:`DATA`; ``stream`` its stream id (0
    for PING and GOAWAY); ``headers`` those of SYN_STREAM; ``value`` a PING id or a status."""

    kind: int
    flags: int
    stream: int
    data: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    value: int = 0


class Parser:
    """Frames out of the client's byte stream, fed in arbitrary pieces."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        """The frames ``data`` completes (a frame may span several feeds)."""
        self._buffer += data
        frames = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head, body = bytes(self._buffer[:8]), bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            try:
                frames.append(self._frame(head, body))
            except struct.error as err:
                raise SPDYError(f"malformed SPDY frame ({len(body)} bytes): {err}") from None
        return frames

    def _frame(self, head: bytes, body: bytes) -> Frame:
        first, flags = struct.unpack(">I", head[:4])[0], head[4]
        if not first & 0x80000000:
            return Frame(DATA, flags, first & 0x7FFFFFFF, body)
        version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != _VERSION:
            raise SPDYError(f"SPDY version {version} frames are not served (3 is)")
        if kind == SYN_STREAM:
            stream = struct.unpack(">I", body[:4])[0] & 0x7FFFFFFF
            return Frame(kind, flags, stream, headers=self._headers(body[10:]))
        if kind in (SYN_REPLY, HEADERS):
            self._headers(body[4:])  # keeps the zlib context in step
            return Frame(kind, flags, struct.unpack(">I", body[:4])[0] & 0x7FFFFFFF)
        if kind in (RST_STREAM, GOAWAY):
            stream, status = struct.unpack(">II", body[:8])
            return Frame(kind, flags, stream & 0x7FFFFFFF, value=status)
        if kind == PING:
            return Frame(kind, flags, 0, value=struct.unpack(">I", body[:4])[0])
        return Frame(kind, flags, 0, body)  # SETTINGS, WINDOW_UPDATE, ...: not acted on

    def _headers(self, block: bytes) -> dict[str, str]:
        try:
            raw = self._inflate.decompress(block)
        except zlib.error as err:
            raise SPDYError(f"undecodable SPDY header block: {err}") from None
        count, at = struct.unpack(">I", raw[:4])[0], 4
        headers = {}
        for _ in range(count):
            size = struct.unpack(">I", raw[at : at + 4])[0]
            name = raw[at + 4 : at + 4 + size].decode("latin-1")
            at += 4 + size
            size = struct.unpack(">I", raw[at : at + 4])[0]
            headers[name.lower()] = raw[at + 4 : at + 4 + size].decode("latin-1")
            at += 4 + size
        return headers


class Writer:
    """The server's frames as bytes (its header compression context inside)."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj(zdict=DICTIONARY)

    def syn_reply(self, stream: int) -> bytes:
        """The reply accepting ``stream`` (no headers)."""
        block = self._deflate.compress(struct.pack(">I", 0)) + self._deflate.flush(
            zlib.Z_SYNC_FLUSH
        )
        return _control(SYN_REPLY, 0, struct.pack(">I", stream) + block)

    @staticmethod
    def data(stream: int, data: bytes | memoryview, *, fin: bool = False) -> bytes:
        """``data`` on ``stream`` (``fin``: the server's last)."""
        return struct.pack(">II", stream, (FIN if fin else 0) << 24 | len(data)) + data

    @staticmethod
    def ping(ping_id: int) -> bytes:
        """The answer to the client's PING ``ping_id``."""
        return _control(PING, 0, struct.pack(">I", ping_id))

    @staticmethod
    def rst_stream(stream: int, status: int) -> bytes:
        """Refuse ``stream`` with ``status`` (1 protocol error, 3 refused stream)."""
        return _control(RST_STREAM, 0, struct.pack(">II", stream, status))


class Sender:
    """The server's side of one SPDY connection, safe to use from many threads: frames go out
    whole and in order through ``write`` (a socket's ``sendall``, a WebSocket's ``send``),
    which may raise what the transport raises once the client has gone."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._writer = Writer()
        self._lock = threading.Lock()

    def reply(self, stream: int) -> None:
        """Accept ``stream`` (SYN_REPLY)."""
        with self._lock:  # header blocks must go out in the order they were compressed
            self._write(self._writer.syn_reply(stream))

    def data(self, stream: int, data: bytes | memoryview, *, fin: bool = False) -> None:
        """``data`` on ``stream`` (``fin``: the server's last on it)."""
        frame = Writer.data(stream, data, fin=fin)
        with self._lock:
            self._write(frame)

    def ping(self, ping_id: int) -> None:
        """Answer the client's PING."""
        with self._lock:
            self._write(Writer.ping(ping_id))


def _control(kind: int, flags: int, body: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | _VERSION, kind, flags << 24 | len(body)) + body
