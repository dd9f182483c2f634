"""A container's log as it arrives: the body of ``pods/<name>/log`` read line by line or in
chunks.

The log is plain HTTP (chunked when following), read through the REST client's
:class:`kgen.rest.BodyStream`; :class:`LogStream` owns that body. Lines are decoded as UTF-8
(bytes that are not are replaced, so a line is always a ``str``); :meth:`LogStream.chunks`
gives the bytes unchanged. The stream ends when the server ends the body (the log ended, or,
without ``follow``, everything asked for was sent). A connection that breaks first raises
:class:`kgen.streams.StreamError`, never a silent end or a hang on a closed socket.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from kgen.rest import BodyStream
from kgen.streams._websocket import StreamError

__all__ = ["LogLines", "LogStream"]


class LogLines:
    """The line splitting of a log, without I/O, shared by :class:`LogStream` and
    :class:`kgen.streams.AsyncLogStream`: chunks go in (:meth:`feed`, :meth:`end`), complete
    lines come out (:meth:`pop`), decoded as UTF-8 with bytes that are not replaced. Belongs
    to one reader."""

    def __init__(self) -> None:
        self._pending = b""
        self._lines: deque[str] = deque()

    def feed(self, chunk: bytes) -> None:
        """Take a chunk of the body."""
        data = self._pending + chunk
        end = data.rfind(b"\n")
        if end < 0:
            self._pending = data
            return
        # a "\n" never falls inside a UTF-8 sequence: the complete lines decode at once
        self._lines.extend(data[:end].decode(errors="replace").split("\n"))
        self._pending = data[end + 1 :]

    def end(self) -> None:
        """The body has ended: an unterminated rest becomes the last line."""
        if self._pending:
            self._lines.append(self._pending.decode(errors="replace"))
            self._pending = b""

    def pop(self) -> str | None:
        """The next complete line (without its ``\\n``), ``None`` until more is fed."""
        return self._lines.popleft() if self._lines else None

    def take_bytes(self) -> bytes:
        """Everything fed and not popped, as bytes (lines encoded again as UTF-8), emptied:
        where a reader of lines turns to reading chunks."""
        buffered = "".join(line + "\n" for line in self._lines).encode() + self._pending
        self._lines.clear()
        self._pending = b""
        return buffered


class LogStream(Iterator[str]):
    """One open log request: an iterator of its lines (without their ``\\n``), or of its
    bytes as they arrive with :meth:`chunks`. Leaving a loop early keeps the stream open (the
    next loop goes on where it stopped); the end of the stream, or :meth:`close`, releases the
    connection. Use it as a context manager: :meth:`close` (idempotent) drops the connection,
    which ends the server's side of a ``follow``.

    One thread reads; reading blocks until the server sends more or ends the stream. Any
    thread may :meth:`close`: a reader blocked then ends its iteration quietly.
    """

    def __init__(self, body: BodyStream, description: str) -> None:
        self._body = body
        self._description = description
        self._closed = False
        self._ended = False
        self._lines = LogLines()

    def __next__(self) -> str:
        """The next complete line (a last line without ``\\n`` when the stream ends); errors
        as :meth:`chunks`."""
        while (line := self._lines.pop()) is None:
            chunk = self._next_chunk()
            if chunk is None:
                self._lines.end()
                if (line := self._lines.pop()) is None:
                    raise StopIteration
                return line
            self._lines.feed(chunk)
        return line

    def chunks(self) -> Iterator[bytes]:
        """The log's bytes as the server sends them, until the stream ends. After a line
        iteration, the lines it had decoded but not returned come first, encoded again as
        UTF-8 (so bytes that were not UTF-8 come back replaced). Raises :class:`StreamError`
        when the connection drops before the end."""
        if buffered := self._lines.take_bytes():
            yield buffered
        while (chunk := self._next_chunk()) is not None:
            yield chunk

    def _next_chunk(self) -> bytes | None:
        """The next chunk of the body, ``None`` at its end (the connection is then released)."""
        import requests
        import urllib3

        if self._ended:
            return None
        try:
            return next(self._body)
        except StopIteration:
            self._ended = True
            self.close()
            return None
        except Exception as err:
            self._ended = True
            if self._closed:
                return None  # closed while reading (by another thread): whatever broke, it is over
            self.close()
            if not isinstance(
                err, requests.RequestException | urllib3.exceptions.HTTPError | OSError
            ):
                raise
            raise StreamError(
                f"{self._description}: the connection dropped before the log ended ({err})"
            ) from err

    def close(self) -> None:
        """Stop reading and drop the connection (a reader in another thread stops too)."""
        self._closed = True
        self._body.interrupt()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
