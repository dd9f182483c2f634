"""AsyncSharedIndexInformer: one list-watch, one cache, any number of handlers, on asyncio.

Tasks. :meth:`AsyncSharedIndexInformer.start` (called in the running loop) creates a reflector
task (list and watch into an :class:`AsyncDeltaFIFO`), a processing task (drain deltas, write
the indexer, buffer notifications) and one delivery task per handler; the reflector's resync
task runs when a resync period is set. Handlers never run on the reflector or processing
task, so a slow handler (a coroutine awaiting I/O, say) delays only its own notifications.
:meth:`~AsyncSharedIndexInformer.stop` ends and awaits every one of those tasks; cancelling a
task awaiting :meth:`~AsyncSharedIndexInformer.run` does the same.

The cache is the sync runtime's thread-safe :class:`~kgen.cache.Indexer`: listers
(:class:`~kgen.cache.Lister`) read it with plain calls, from the loop or any thread. The
guarantees are the sync informer's (:mod:`kgen.cache._informer_core`): per handler, the order
the informer applied; the cache written before a notification is buffered; objects shared,
never to be mutated.

From where: ``start``, ``add_event_handler``, ``set_*`` and ``add_indexers`` from the loop's
tasks; ``has_synced``, ``last_sync_resource_version`` and the cache from anywhere. Do not await
``stop`` from a handler (it cancels the handler's own task): schedule it on another task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from kgen.cache._delta_fifo import FIFOClosedError
from kgen.cache._handlers import AsyncResourceEventHandler
from kgen.cache._index import Indexers
from kgen.cache._informer_core import InformerCore, ResourceEventHandlerRegistration
from kgen.cache._keys import meta_namespace_key
from kgen.cache._reflector import default_watch_error_handler
from kgen.cache._shared_informer import SYNCED_POLL_PERIOD
from kgen.cache.aio._delta_fifo import AsyncDeltaFIFO
from kgen.cache.aio._listwatch import AsyncListerWatcher
from kgen.cache.aio._processor import AsyncProcessorListener
from kgen.cache.aio._reflector import AsyncReflector, AsyncWatchErrorHandler
from kgen.clock import REAL_CLOCK, Clock
from kgen.retry import Backoff

__all__ = ["AsyncSharedIndexInformer", "wait_for_cache_sync"]

log = logging.getLogger("kgen.cache")

T = TypeVar("T")


class AsyncSharedIndexInformer(InformerCore[T]):
    """See the module docstring. Parameters as :class:`~kgen.cache.SharedIndexInformer`'s,
    with an :class:`~kgen.cache.aio.AsyncListerWatcher`."""

    def __init__(
        self,
        lister_watcher: AsyncListerWatcher[T],
        object_type: type[T] | None = None,
        resync_period: float = 0.0,
        indexers: Indexers | None = None,
        *,
        name: str = "informer",
        use_watch_list: bool = False,
        clock: Clock = REAL_CLOCK,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(
            object_type, resync_period, indexers, name=name, clock=clock, backoff=backoff
        )
        self._lw = lister_watcher
        self._use_watch_list = use_watch_list
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped_event = asyncio.Event()

    # -- configuration and handlers -----------------------------------------------------------

    def set_watch_error_handler(self, handler: AsyncWatchErrorHandler) -> None:
        """Called with every list/watch error before the backoff. Only before :meth:`start`."""
        self._set_watch_error_handler(handler)

    def add_event_handler(
        self, handler: AsyncResourceEventHandler, resync_period: float | None = None
    ) -> ResourceEventHandlerRegistration:
        """Register ``handler`` (methods: plain functions or coroutine functions) with its own
        resync period (default: the informer's). Added after start, it first receives an add
        (``is_in_initial_list=True``) for every cached object. Raises
        :class:`~kgen.cache.InformerStateError` once stopped. Call from the loop."""
        return self._register(handler, resync_period, AsyncProcessorListener)

    async def remove_event_handler(self, registration: ResourceEventHandlerRegistration) -> None:
        """Stop notifying the handler (buffered notifications are dropped) and await its
        delivery task. Removing twice is harmless."""
        listener = registration._listener
        self._processor.remove_listener(listener)
        if isinstance(listener, AsyncProcessorListener):
            await listener.wait_stopped()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start listing, watching and delivering on tasks of the running loop. Runs at most
        once; later calls (and calls after :meth:`stop`) do nothing."""
        loop = asyncio.get_running_loop()
        with self._state_lock:
            if self._started or self._stopped:
                log.warning("%s: start called again; ignored", self.name)
                return
            fifo = AsyncDeltaFIFO(
                key_func=meta_namespace_key,
                known_objects=self._indexer,
                emit_delta_type_replaced=True,
                transform=self._transform,
            )
            self._fifo = fifo
            reflector = AsyncReflector(
                self._lw,
                fifo,
                name=self.name,
                expected_type=self._object_type,
                resync_period=self._resync_check_period,
                should_resync=self._should_resync,
                clock=self._clock,
                backoff=self._backoff,
                use_watch_list=self._use_watch_list,
                watch_error_handler=self._watch_error_handler or default_watch_error_handler,
            )
            self._reflector = reflector
            self._processor.start()
            self._tasks = [
                loop.create_task(reflector.run(), name=f"{self.name}-reflector"),
                loop.create_task(self._process_loop(fifo), name=f"{self.name}-process"),
            ]
            self._started = True

    async def stop(self) -> None:
        """Stop the reflector (its watch connection is closed), the processing and every
        delivery task (a coroutine handler in progress is cancelled) and await them all.
        Idempotent."""
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
            reflector, fifo, tasks = self._reflector, self._fifo, self._tasks
        self._stopped_event.set()
        if isinstance(reflector, AsyncReflector):
            reflector.stop()
        if isinstance(fifo, AsyncDeltaFIFO):
            fifo.close()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        listeners = self._processor.listeners()
        self._processor.stop()
        for listener in listeners:
            if isinstance(listener, AsyncProcessorListener):
                await listener.wait_stopped()

    async def run(self) -> None:
        """Start, then wait until :meth:`stop` is called or the awaiting task is cancelled,
        and stop (everything is awaited before this returns or re-raises the cancellation)."""
        self.start()
        try:
            await self._stopped_event.wait()
        finally:
            await self.stop()

    async def wait_for_cache_sync(self, timeout: float | None = None) -> bool:
        """Wait until the cache has synced (``True``) or ``timeout`` seconds pass."""
        return await wait_for_cache_sync(self.has_synced, timeout=timeout)

    async def __aenter__(self) -> AsyncSharedIndexInformer[T]:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- processing (processing task, FIFO lock held in _handle_batch) -----------------------

    async def _process_loop(self, fifo: AsyncDeltaFIFO) -> None:
        while True:
            try:
                await fifo.drain_batch(self._handle_batch)
            except FIFOClosedError:
                return


async def wait_for_cache_sync(*synced: Callable[[], bool], timeout: float | None = None) -> bool:
    """Wait until every ``synced()`` is true (``True``), or until ``timeout`` seconds pass
    (``False``). Polls every 100 ms; cancel the awaiting task to give up early."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if all(check() for check in synced):
            return True
        wait = SYNCED_POLL_PERIOD
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait = min(wait, remaining)
        await asyncio.sleep(wait)
