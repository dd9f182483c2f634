"""A bare SPDY/3.1 exec client for the sub-protocols kubectl no longer chooses (v3, v2,
``channel.k8s.io``): it offers exactly the protocol a test names. Reads the server's frames
with kgen's own :class:`~kgen.testing._spdy.Parser` and writes its SYN_STREAMs with the SPDY/3
dictionary, so it judges the session logic, not the framing (which kubectl judges)."""

from __future__ import annotations

import socket
import ssl
import struct
import zlib
from urllib.parse import urlencode

from kgen.testing import APIServer
from kgen.testing._spdy import DATA, DICTIONARY, FIN, SYN_REPLY, Parser, Writer


class SPDYExec:
    """One exec over plain SPDY: ``open`` streams, ``send`` on them, then ``collect``."""

    def __init__(
        self, server: APIServer, pod: str, query: list[tuple[str, str]], protocol: str
    ) -> None:
        assert server.ca_pem is not None
        host, port = server.url.removeprefix("https://").split(":")
        context = ssl.create_default_context(cadata=server.ca_pem.decode())
        raw = socket.create_connection((host, int(port)), timeout=10)
        self._sock = context.wrap_socket(raw, server_hostname=host)
        path = f"/api/v1/namespaces/default/pods/{pod}/exec?{urlencode(query)}"
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Authorization: Bearer {server.token}"]
        lines += ["Connection: Upgrade", "Upgrade: SPDY/3.1", "Content-Length: 0"]
        lines += [f"X-Stream-Protocol-Version: {protocol}"]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += self._sock.recv(4096)
        head, self._pending = answer.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        self._deflate = zlib.compressobj(zdict=DICTIONARY)
        self._parser = Parser()
        self._next = 1

    def open(self, stream_type: str) -> int:
        """Open a stream with the ``streamType`` header; its id."""
        stream, self._next = self._next, self._next + 2
        pairs = [("streamtype", stream_type)]
        block = struct.pack(">I", len(pairs)) + b"".join(
            struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode()
            for k, v in pairs
        )
        compressed = self._deflate.compress(block) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
        body = struct.pack(">IIH", stream, 0, 0) + compressed
        self._sock.sendall(struct.pack(">HHI", 0x8003, 1, len(body)) + body)
        return stream

    def send(self, stream: int, data: bytes, *, fin: bool = False) -> None:
        self._sock.sendall(Writer.data(stream, data, fin=fin))

    def collect(self, streams: list[int]) -> dict[int, bytes]:
        """What the server sends on each of ``streams`` until it has ended them all (FIN);
        every one must have been replied to."""
        got: dict[int, bytearray] = {s: bytearray() for s in streams}
        replied: set[int] = set()
        ended: set[int] = set()
        data, self._pending = self._pending, b""
        while ended != set(streams):
            for frame in self._parser.feed(data):
                if frame.kind == SYN_REPLY:
                    replied.add(frame.stream)
                elif frame.kind == DATA and frame.stream in got:
                    got[frame.stream] += frame.data
                    if frame.flags & FIN:
                        ended.add(frame.stream)
            if ended == set(streams):
                break
            data = self._sock.recv(65536)
            assert data, f"the connection ended with streams {set(streams) - ended} open"
        assert replied >= set(streams)
        return {s: bytes(b) for s, b in got.items()}

    def close(self) -> None:
        self._sock.close()
