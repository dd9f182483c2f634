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

from collections.abc import Iterator

import requests
import urllib3

from kgen.rest import BodyStream
from kgen.streams._websocket import StreamError

__all__ = ["LogStream"]


class LogStream:
    """One open log request; iterate it for lines (without their ``\\n``), or read
    :meth:`chunks`. Use it as a context manager: :meth:`close` (idempotent) drops the
    connection, which ends the server's side of a ``follow``.

    One thread reads and closes; reading blocks until the server sends more or ends the stream.
    """

    def __init__(self, body: BodyStream, description: str) -> None:
        self._body = body
        self._description = description
        self._closed = False

    def chunks(self) -> Iterator[bytes]:
        """The log's bytes as the server sends them, until the stream ends (closed then).
        Raises :class:`StreamError` when the connection drops before the end."""
        try:
            yield from self._body
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as err:
            if self._closed:
                return  # closed by the caller while reading
            raise StreamError(
                f"{self._description}: the connection dropped before the log ended ({err})"
            ) from err
        finally:
            self.close()

    def __iter__(self) -> Iterator[str]:
        """The lines of the log as they complete (a last line without ``\\n`` when the
        stream ends); errors as :meth:`chunks`."""
        pending = b""
        for chunk in self.chunks():
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                yield line.decode(errors="replace")
        if pending:
            yield pending.decode(errors="replace")

    def close(self) -> None:
        """Stop reading and drop the connection."""
        self._closed = True
        self._body.close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
