"""A container's log as it arrives, for asyncio: the twin of :mod:`kgen.streams._logs` over
:class:`kgen.rest.AsyncRESTClient`'s streaming GET (:class:`kgen.rest.aio.AsyncBodyStream`).

The splitting into lines is :class:`kgen.streams._logs.LogLines`, as for the threaded stream;
only the reading of chunks differs. Cancelling a task that awaits the stream aborts its
connection (the body's contract), so a ``follow`` ends on the server too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp

from kgen.streams._logs import LogLines
from kgen.streams._websocket import StreamError

if TYPE_CHECKING:
    from kgen.rest.aio import AsyncBodyStream, AsyncRequest

__all__ = ["AsyncLogStream", "open_async_logs"]


class AsyncLogStream:
    """One open log request, for one event loop: ``async for line in stream`` gives its lines
    (without their ``\\n``; a last one without it when the stream ends), :meth:`chunks` its
    bytes as they arrive. The end of the stream or :meth:`close` releases the connection; use
    ``async with``. One task reads. A connection that breaks before the end raises
    :class:`kgen.streams.StreamError`."""

    def __init__(self, body: AsyncBodyStream, description: str) -> None:
        self._body = body
        self._description = description
        self._ended = False
        self._lines = LogLines()

    def __aiter__(self) -> AsyncLogStream:
        return self

    async def __anext__(self) -> str:
        while (line := self._lines.pop()) is None:
            chunk = await self._next_chunk()
            if chunk is None:
                self._lines.end()
                if (line := self._lines.pop()) is None:
                    raise StopAsyncIteration
                return line
            self._lines.feed(chunk)
        return line

    async def chunks(self) -> AsyncIterator[bytes]:
        """The log's bytes as the server sends them, until the stream ends; lines decoded by
        an earlier ``async for`` and not returned come first, as for
        :meth:`kgen.streams.LogStream.chunks`."""
        if buffered := self._lines.take_bytes():
            yield buffered
        while (chunk := await self._next_chunk()) is not None:
            yield chunk

    async def _next_chunk(self) -> bytes | None:
        if self._ended:
            return None
        try:
            return await self._body.__anext__()
        except StopAsyncIteration:
            self._ended = True
            return None
        except (aiohttp.ClientError, OSError) as err:
            self._ended = True
            raise StreamError(
                f"{self._description}: the connection dropped before the log ended ({err})"
            ) from err

    def close(self) -> None:
        """Stop reading and drop the connection; idempotent."""
        self._ended = True
        self._body.close()

    async def __aenter__(self) -> AsyncLogStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def open_async_logs(request: AsyncRequest, *, description: str = "") -> AsyncLogStream:
    """Open ``request`` (an async GET of ``<pod>/log``, with its options as query parameters:
    ``follow``, ``container``, ``tailLines``...) as a log stream. No timeout applies once it
    is open. Errors on opening as the request's ``stream()`` (a StatusError for a missing pod
    or container)."""
    body = await request.timeout(None).stream()
    return AsyncLogStream(body, description or f"log at {request.url().split('?')[0]}")
