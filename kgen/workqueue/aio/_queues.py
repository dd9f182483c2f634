"""The asyncio work queues: :class:`kgen.workqueue._core` state, woken with futures and events.

Semantics are the thread queues' (see :mod:`kgen.workqueue`): items handed out in the order
first added, an item queued at most once and never handed to two workers at once, an item added
while a worker holds it queued again on :meth:`AsyncQueue.done`, queued items still handed out
after shut down. Background tasks (the delaying queue's waiter, the metrics refresher) start on
first use inside the running loop and are awaited by :meth:`AsyncQueue.shut_down` and
:meth:`AsyncQueue.shut_down_with_drain`, so nothing is left pending after either.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Coroutine, Hashable
from typing import Any, Generic, TypeVar

from kgen.clock import REAL_CLOCK, Clock
from kgen.workqueue._core import DelayHeap, QueueCore
from kgen.workqueue._delaying import MAX_WAIT
from kgen.workqueue._metrics import MetricsProvider, ProviderQueueMetrics, QueueMetrics
from kgen.workqueue._queue import UNFINISHED_WORK_UPDATE_PERIOD, QueueShutDown
from kgen.workqueue._rate_limiters import RateLimiter
from kgen.workqueue._rate_limiting_queue import RateLimited

__all__ = ["AsyncDelayingQueue", "AsyncQueue", "AsyncRateLimitingQueue"]

T = TypeVar("T", bound=Hashable)


class AsyncQueue(Generic[T]):
    """A FIFO of distinct items with a dirty set and a processing set, for one event loop.

    :meth:`add` and :meth:`done` return at once; :meth:`get` waits for an item (raising
    :class:`~kgen.workqueue.QueueShutDown` once shut down and empty); :meth:`shut_down_with_drain`
    waits until every handed-out item is done. A task cancelled in :meth:`get` takes nothing
    (an item meant for it goes to the next getter).

    ``name`` and ``metrics_provider`` together turn metrics on; a task then refreshes the
    unfinished-work gauges every 500 ms (loop time) until shut down. ``clock`` stamps the
    metrics and the ready times of delayed items; waiting is the loop's.
    """

    def __init__(
        self,
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics_provider: MetricsProvider | None = None,
    ) -> None:
        self.name = name
        self._clock: Clock = clock if clock is not None else REAL_CLOCK
        self._metrics: QueueMetrics[T] = QueueMetrics()
        if name and metrics_provider is not None:
            self._metrics = ProviderQueueMetrics(name, metrics_provider, self._clock)
        self._core = QueueCore(self._metrics)
        self._getters: deque[asyncio.Future[None]] = deque()
        self._drain_changed = asyncio.Event()
        self._stopping = asyncio.Event()  # ends the background tasks
        self._tasks: list[asyncio.Task[None]] = []
        self._wants_metrics_task = bool(name and metrics_provider is not None)

    # -- producers and workers ----------------------------------------------------------------

    def add(self, item: T) -> None:
        """Mark ``item`` as needing processing (rules as :meth:`kgen.workqueue.Queue.add`)."""
        self._start_background()
        if self._core.add(item):
            self._wake_one()

    def __len__(self) -> int:
        """Items waiting to be handed out (items held by workers are not counted)."""
        return len(self._core.queue)

    async def get(self) -> T:
        """Wait for an item and hand it out; the caller must call :meth:`done`. Raises
        :class:`~kgen.workqueue.QueueShutDown` once shut down with nothing left queued."""
        self._start_background()
        while True:
            item = self._core.take()
            if item is not None:
                return item
            if self._core.shutting_down:
                raise QueueShutDown(f"workqueue {self.name!r} is shut down")
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # the wake-up was meant for someone: pass it on
                raise
            finally:
                with contextlib.suppress(ValueError):
                    self._getters.remove(waiter)

    def done(self, item: T) -> None:
        """Mark ``item`` as processed; if it was added meanwhile, it is queued again."""
        if self._core.done(item):
            self._wake_one()
        elif not self._core.processing:
            self._drain_changed.set()

    def shutting_down(self) -> bool:
        """True once a shut down began."""
        return self._core.shutting_down

    async def shut_down(self) -> None:
        """Stop accepting items, wake every waiting getter (queued items are still handed out)
        and await the queue's background tasks. Idempotent; ends a waiting drain."""
        self._core.shut_down(drain=False)
        self._wake_all()
        self._drain_changed.set()
        await self._stop_background()

    async def shut_down_with_drain(self) -> None:
        """Like :meth:`shut_down`, then wait until every handed-out item is done (or until
        :meth:`shut_down` is called by another task)."""
        self._core.shut_down(drain=True)
        self._wake_all()
        await self._stop_background()
        while not self._core.drained():
            self._drain_changed.clear()
            await self._drain_changed.wait()

    # -- internals ----------------------------------------------------------------------------

    def _wake_one(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _wake_all(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _start_background(self) -> None:
        if self._wants_metrics_task and not self._core.shutting_down:
            self._wants_metrics_task = False
            self._spawn(self._update_unfinished_work_loop(), "metrics")

    def _spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.get_running_loop().create_task(
            coro, name=f"workqueue-{what}-{self.name or 'unnamed'}"
        )
        self._tasks.append(task)

    async def _stop_background(self) -> None:
        self._stopping.set()
        tasks, self._tasks = self._tasks, []
        if tasks:
            await asyncio.gather(*tasks)

    async def _update_unfinished_work_loop(self) -> None:
        while not self._core.shutting_down:
            if await _wait(self._stopping, UNFINISHED_WORK_UPDATE_PERIOD):
                return
            if not self._core.shutting_down:
                self._metrics.update_unfinished_work()


class AsyncDelayingQueue(AsyncQueue[T]):
    """An :class:`AsyncQueue` with :meth:`add_after`; items still waiting at shut down are
    dropped, an item waiting twice keeps the earlier ready time."""

    def __init__(
        self,
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics_provider: MetricsProvider | None = None,
    ) -> None:
        super().__init__(name=name, clock=clock, metrics_provider=metrics_provider)
        self._heap: DelayHeap[T] = DelayHeap()
        self._heap_changed = asyncio.Event()
        self._waiter_started = False

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` once ``delay`` seconds have passed (at once if ``delay <= 0``). Ignored
        after shut down. Counts one retry in the queue's metrics."""
        if self._core.shutting_down:
            return
        self._metrics.retry()
        if delay <= 0:
            self.add(item)
            return
        if not self._waiter_started:
            self._waiter_started = True
            self._spawn(self._waiting_loop(), "delay")
        if self._heap.park(item, self._clock.now() + delay):
            self._heap_changed.set()

    def waiting(self) -> int:
        """How many items are parked until their ready time."""
        return len(self._heap)

    async def _waiting_loop(self) -> None:
        while not self._stopping.is_set():
            now = self._clock.now()
            for item in self._heap.pop_ready(now):
                self.add(item)
            self._heap_changed.clear()
            await _wait(self._heap_changed, self._heap.wait_time(now, MAX_WAIT))

    async def _stop_background(self) -> None:
        self._heap_changed.set()  # wakes the waiter, which then sees the stop
        await super()._stop_background()


class AsyncRateLimitingQueue(RateLimited[T], AsyncDelayingQueue[T]):
    """The queue asyncio controllers use: :meth:`add_rate_limited` after a failure,
    :meth:`forget` after a success, ``done`` always. The rate limiter is the sync one (pure
    arithmetic), so its state may be shared with thread queues."""

    def __init__(
        self,
        rate_limiter: RateLimiter[T],
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics_provider: MetricsProvider | None = None,
    ) -> None:
        super().__init__(name=name, clock=clock, metrics_provider=metrics_provider)
        self.rate_limiter = rate_limiter


async def _wait(event: asyncio.Event, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``event``; return whether it is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(timeout, 0.0)):
            await event.wait()
    return event.is_set()
