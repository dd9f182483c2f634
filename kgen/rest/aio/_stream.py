""":class:`AsyncBodyStream`: a response body as it arrives (logs, follow mode), for
``async for``."""

from __future__ import annotations

from types import TracebackType

import aiohttp

from kgen.rest.aio._connector import abort

__all__ = ["AsyncBodyStream"]


class AsyncBodyStream:
    """The chunks of a 2xx body as they arrive (whatever is there, never waiting to fill a
    buffer), owning the response: reading to the end returns the connection to the pool; an
    error, a cancellation of the reading task, :meth:`close` or leaving ``async with`` aborts
    it (before the first chunk too). One reading task; ``close()`` is idempotent."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response: aiohttp.ClientResponse | None = response

    def __aiter__(self) -> AsyncBodyStream:
        return self

    async def __anext__(self) -> bytes:
        response = self._response
        if response is None:
            raise StopAsyncIteration
        try:
            chunk = await response.content.readany()
        except BaseException:
            self.close()
            raise
        if not chunk:
            self._response = None
            response.release()
            raise StopAsyncIteration
        return chunk

    def close(self) -> None:
        """Stop reading and abort the connection."""
        response, self._response = self._response, None
        if response is not None:
            abort(response)

    async def __aenter__(self) -> AsyncBodyStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
