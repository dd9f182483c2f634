""":class:`AsyncWatch`: one running watch as an async iterator of typed :class:`WatchEvent`."""

from __future__ import annotations

import collections
import logging
from types import TracebackType
from typing import Any, Generic, TypeVar

import aiohttp

from kgen.rest._frames import WatchDecoder
from kgen.rest.aio._connector import abort
from kgen.rest.watch import WatchEvent, watch_error

__all__ = ["AsyncWatch"]

_log = logging.getLogger("kgen.rest")

T = TypeVar("T")

_READ_SIZE = 64 * 1024


class AsyncWatch(Generic[T]):
    """``async for event in watch`` until the server ends the stream, the connection goes
    silent for longer than ``Config.watch_read_timeout`` or drops (the watch then just ends: the
    caller watches again), or :meth:`stop` is called.

    An ``ERROR`` event raises :class:`~kgen.rest.StatusError` carrying the server's Status (a
    410 ``Expired``: list again), as does a frame that does not decode (``InternalError`` with a
    ``ClientWatchDecoding`` cause); the watch is over after that. The end, an error, a
    cancellation of the task awaiting the next event, :meth:`stop` and ``async with`` all close
    the connection (it is never reused). One task iterates; :meth:`stop` may be called from any
    task of the loop.
    """

    def __init__(self, response: aiohttp.ClientResponse | None, decoder: WatchDecoder) -> None:
        self._response = response
        self._decoder = decoder
        self._pending: collections.deque[WatchEvent[Any]] = collections.deque()
        self._stopped = False

    @classmethod
    def empty(cls, object_type: type[Any]) -> AsyncWatch[T]:
        """A watch that yields nothing (a watch whose connection kept failing)."""
        return cls(None, WatchDecoder(object_type))

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` has been called."""
        return self._stopped

    def stop(self) -> None:
        """End the watch and close its connection; a task awaiting the next event gets the end
        of the iteration. Idempotent."""
        self._stopped = True
        self._close()

    def _close(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            abort(response)

    def __aiter__(self) -> AsyncWatch[T]:
        return self

    async def __anext__(self) -> WatchEvent[T]:
        try:
            event = await self._next_event()
        except BaseException:
            self._close()
            raise
        if event is None or self._stopped:
            self._close()
            raise StopAsyncIteration
        if event.type == "ERROR":
            self.stop()
            raise watch_error(event.object)
        return event

    async def _next_event(self) -> WatchEvent[Any] | None:
        """The next decoded event, reading as needed; ``None`` at the end of the stream."""
        while not self._pending:
            response = self._response
            if response is None or self._stopped or self._decoder.broken:
                return None
            try:
                chunk = await response.content.read(_READ_SIZE)
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                if self._stopped:
                    return None
                _log.debug("watch stream ended: %s", type(err).__name__)
                return None
            if not chunk:
                self._pending.extend(self._decoder.finish())
                if not self._pending:
                    return None
            else:
                self._pending.extend(self._decoder.feed(chunk))
        return self._pending.popleft()

    async def __aenter__(self) -> AsyncWatch[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
