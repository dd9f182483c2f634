"""A work queue whose items can be added after a delay.

:meth:`DelayingQueue.add_after` parks an item in a min-heap ordered by the time it becomes ready;
one background thread (started by the constructor, stopped and joined by ``shut_down``) moves
items into the queue when they are due. It re-checks at least every 10 s of the clock, so a clock
that jumps is noticed even without a new item.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import TypeVar

from kgen.clock import Clock
from kgen.workqueue._core import DelayHeap
from kgen.workqueue._metrics import MetricsProvider
from kgen.workqueue._queue import Queue

__all__ = ["DelayingQueue"]

T = TypeVar("T", bound=Hashable)

MAX_WAIT = 10.0
"""The waiting thread's heartbeat, in seconds."""


class DelayingQueue(Queue[T]):
    """A :class:`~kgen.workqueue.Queue` with :meth:`add_after`. Thread-safe.

    An item waiting twice keeps the earlier of its two ready times. Items still waiting when the
    queue is shut down are dropped.
    """

    def __init__(
        self,
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics_provider: MetricsProvider | None = None,
    ) -> None:
        super().__init__(name=name, clock=clock, metrics_provider=metrics_provider)
        self._waiting_cond = threading.Condition()
        self._heap: DelayHeap[T] = DelayHeap()
        self._stopped = False
        self._waiting_thread = threading.Thread(
            target=self._waiting_loop, name=f"workqueue-delay-{name or 'unnamed'}", daemon=True
        )
        self._waiting_thread.start()

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` once ``delay`` seconds have passed (at once if ``delay <= 0``).

        Ignored after shut down. Counts one retry in the queue's metrics.
        """
        if self.shutting_down():
            return
        with self._cond:
            self._metrics.retry()
        if delay <= 0:
            self.add(item)
            return
        ready_at = self._clock.now() + delay
        with self._waiting_cond:
            if self._heap.park(item, ready_at):
                self._waiting_cond.notify()

    def waiting(self) -> int:
        """How many items are parked until their ready time."""
        with self._waiting_cond:
            return len(self._heap)

    def shut_down(self) -> None:
        super().shut_down()
        self._stop_waiting()

    def shut_down_with_drain(self) -> None:
        self._stop_waiting()
        super().shut_down_with_drain()

    def _stop_waiting(self) -> None:
        with self._waiting_cond:
            self._stopped = True
            self._waiting_cond.notify_all()
        if self._waiting_thread is not threading.current_thread():
            self._waiting_thread.join()

    def _waiting_loop(self) -> None:
        with self._waiting_cond:
            while not self._stopped:
                now = self._clock.now()
                for item in self._heap.pop_ready(now):
                    self.add(item)
                self._clock.wait(self._waiting_cond, self._heap.wait_time(now, MAX_WAIT))
