"""The basic work queue: fair, stingy, safe for many producers and many workers.

* Fair: items are handed out in the order they were first added.
* Stingy: an item added several times before a worker takes it is handed out once, and an item
  is never handed to two workers at once. An item added again while a worker holds it is queued
  again only when that worker calls :meth:`Queue.done`.

Workers loop on :meth:`Queue.get` and must call :meth:`Queue.done` for every item they got, even
on error. Items must be hashable and should be immutable values (keys such as ``"ns/name"``).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

from kgen.clock import REAL_CLOCK, Clock
from kgen.workqueue._core import QueueCore
from kgen.workqueue._metrics import (
    MetricsProvider,
    ProviderQueueMetrics,
    QueueMetrics,
)

__all__ = ["Queue", "QueueShutDown"]

T = TypeVar("T", bound=Hashable)

UNFINISHED_WORK_UPDATE_PERIOD = 0.5
"""Seconds between two refreshes of the unfinished-work gauges (only with metrics)."""


class QueueShutDown(Exception):
    """Raised by :meth:`Queue.get` once the queue is shut down and has nothing left to hand out."""


class Queue(Generic[T]):
    """A FIFO of distinct items with a dirty set and a processing set.

    All methods are thread-safe. :meth:`get` blocks until an item is available or the queue is
    shut down; :meth:`shut_down_with_drain` blocks until every item handed out is done.

    ``name`` and ``metrics_provider`` together turn metrics on (see :mod:`kgen.workqueue`); with
    metrics a background thread refreshes the unfinished-work gauges every 500 ms of ``clock``
    until the queue is shut down.
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
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # getters, drainers
        self._metrics_cond = threading.Condition(lock)  # the metrics thread only
        self._metrics: QueueMetrics[T] = QueueMetrics()
        self._metrics_thread: threading.Thread | None = None
        if name and metrics_provider is not None:
            self._metrics = ProviderQueueMetrics(name, metrics_provider, self._clock)
        self._core = QueueCore(self._metrics)
        if name and metrics_provider is not None:
            self._metrics_thread = threading.Thread(
                target=self._update_unfinished_work_loop,
                name=f"workqueue-metrics-{name}",
                daemon=True,
            )
            self._metrics_thread.start()

    def add(self, item: T) -> None:
        """Mark ``item`` as needing processing. Ignored after shut down; a no-op if it already
        waits; if a worker holds it, it is queued again when that worker calls :meth:`done`."""
        with self._cond:
            if self._core.add(item):
                self._cond.notify()

    def __len__(self) -> int:
        """Items waiting to be handed out (items held by workers are not counted)."""
        with self._cond:
            return len(self._core.queue)

    def get(self) -> T:
        """Block until an item is available and hand it out; the caller must call :meth:`done`.

        Items still queued at shut down are handed out; once none is left, raises
        :class:`QueueShutDown`.
        """
        core = self._core
        with self._cond:
            while not core.queue and not core.shutting_down:
                self._cond.wait()
            item = core.take()
            if item is None:
                raise QueueShutDown(f"workqueue {self.name!r} is shut down")
            return item

    def done(self, item: T) -> None:
        """Mark ``item`` as processed; if it was added meanwhile, it is queued again."""
        with self._cond:
            if self._core.done(item):
                self._cond.notify()
            elif not self._core.processing:
                self._cond.notify_all()  # wakes shut_down_with_drain

    def shut_down(self) -> None:
        """Stop accepting items and wake every blocked caller; returns at once.

        Items already queued are still handed out by :meth:`get`. Idempotent; also ends a
        :meth:`shut_down_with_drain` that is waiting.
        """
        with self._cond:
            self._core.shut_down(drain=False)
            self._cond.notify_all()
            self._metrics_cond.notify_all()
        self._join_background_threads()

    def shut_down_with_drain(self) -> None:
        """Like :meth:`shut_down`, then block until every handed-out item is done (or until
        :meth:`shut_down` is called from another thread)."""
        with self._cond:
            self._core.shut_down(drain=True)
            self._cond.notify_all()
            self._metrics_cond.notify_all()
            while not self._core.drained():
                self._cond.wait()
        self._join_background_threads()

    def shutting_down(self) -> bool:
        """True once :meth:`shut_down` or :meth:`shut_down_with_drain` was called."""
        with self._cond:
            return self._core.shutting_down

    def _join_background_threads(self) -> None:
        if (
            self._metrics_thread is not None
            and self._metrics_thread is not threading.current_thread()
        ):
            self._metrics_thread.join()

    def _update_unfinished_work_loop(self) -> None:
        with self._metrics_cond:
            while not self._core.shutting_down:
                self._clock.wait(self._metrics_cond, UNFINISHED_WORK_UPDATE_PERIOD)
                if not self._core.shutting_down:
                    self._metrics.update_unfinished_work()
