"""The bookkeeping every work queue runs, sync or asyncio: sans-I/O, no locks, no waiting.

:class:`QueueCore` is the fair, stingy FIFO (a queue, a dirty set, a processing set, the
shut-down and drain flags, the metrics calls); :class:`DelayHeap` parks items until a ready
time, keeping the earlier of two times for one item. Neither is thread-safe on its own: the
thread queues (:class:`~kgen.workqueue.Queue`, :class:`~kgen.workqueue.DelayingQueue`) call
them with their lock held, the asyncio queues (:mod:`kgen.workqueue.aio`) from their loop.
What the callers add is how to wait and whom to wake, which the return values tell them.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from kgen.workqueue._metrics import QueueMetrics

__all__ = ["DelayHeap", "QueueCore"]

T = TypeVar("T", bound=Hashable)


class QueueCore(Generic[T]):
    """The state of one work queue; see the module docstring."""

    def __init__(self, metrics: QueueMetrics[T]) -> None:
        self.metrics = metrics
        self.queue: deque[T] = deque()
        self.dirty: set[T] = set()
        self.processing: set[T] = set()
        self.shutting_down = False
        self.draining = False

    def add(self, item: T) -> bool:
        """Mark ``item`` dirty; return whether it joined the queue (a getter may take it).
        Ignored after shut down and while it is already dirty; an item a worker holds is
        queued again by :meth:`done`."""
        if self.shutting_down or item in self.dirty:
            return False
        self.metrics.add(item)
        self.dirty.add(item)
        if item in self.processing:
            return False
        self.queue.append(item)
        return True

    def take(self) -> T | None:
        """Hand out the next item (now processing), or ``None`` when none is queued."""
        if not self.queue:
            return None
        item = self.queue.popleft()
        self.metrics.get(item)
        self.processing.add(item)
        self.dirty.discard(item)
        return item

    def done(self, item: T) -> bool:
        """Mark ``item`` processed; return whether it was queued again (added meanwhile)."""
        self.metrics.done(item)
        self.processing.discard(item)
        if item in self.dirty:
            self.queue.append(item)
            return True
        return False

    def shut_down(self, drain: bool) -> None:
        """Stop accepting items; ``drain``: the caller will wait for the processing set to
        empty (a plain shut down ends such a wait)."""
        self.draining = drain
        self.shutting_down = True

    def drained(self) -> bool:
        """Whether a drain wait may end: nothing is processing, or the drain was called off."""
        return not self.processing or not self.draining


@dataclass(order=True)
class _Waiting(Generic[T]):
    ready_at: float
    seq: int
    item: T = field(compare=False)


class DelayHeap(Generic[T]):
    """Items waiting for their ready time, soonest first."""

    def __init__(self) -> None:
        self._heap: list[_Waiting[T]] = []
        self._waiting: dict[T, _Waiting[T]] = {}
        self._seq = itertools.count()

    def park(self, item: T, ready_at: float) -> bool:
        """Park ``item`` until ``ready_at``, or move its ready time earlier; return whether the
        soonest ready time may have changed (the waiter should look again)."""
        current = self._waiting.get(item)
        if current is None:
            entry = _Waiting(ready_at, next(self._seq), item)
            self._waiting[item] = entry
            heapq.heappush(self._heap, entry)
        elif ready_at < current.ready_at:
            current.ready_at = ready_at
            heapq.heapify(self._heap)
        else:
            return False
        return True

    def pop_ready(self, now: float) -> list[T]:
        """Remove and return the items ready at ``now``, soonest first."""
        ready: list[T] = []
        while self._heap and self._heap[0].ready_at <= now:
            entry = heapq.heappop(self._heap)
            del self._waiting[entry.item]
            ready.append(entry.item)
        return ready

    def wait_time(self, now: float, max_wait: float) -> float:
        """How long the waiter may sleep at ``now``: until the soonest item, at most
        ``max_wait``."""
        if self._heap:
            return min(max_wait, self._heap[0].ready_at - now)
        return max_wait

    def __len__(self) -> int:
        return len(self._heap)
