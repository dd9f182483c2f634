"""The loop every controller of the test server runs in: events in, keys queued, one worker each.

A :class:`Controller` turns store events into keys (:meth:`Controller.observe`, called for every
commit under the store's lock, so it only computes keys) and reconciles one key at a time
(:meth:`Controller.sync`, on the controller's own thread, through the tracker's public
operations, as kube-controller-manager acts only through the API). Keys are deduplicated while
they wait, as client-go's workqueue does; a key whose sync raises is retried with a growing
delay (5 ms doubling to 1 s), and a sync may ask to be called again after some seconds.
Those delays are measured on the controller's ``clock`` attribute when it has one (a
:class:`kgen.clock.Clock`; the CronJob controller's, which a test may make a
:class:`kgen.clock.FakeClock` so that stepping it runs what is due), else on the system clock.

:class:`ControllerRunner` starts one thread per controller and :meth:`ControllerRunner.stop`
joins them all, so a server that stops leaves no thread behind.
"""

from __future__ import annotations

import heapq
import threading
import traceback
from collections.abc import Hashable, Iterable, Sequence
from typing import Protocol

from kgen.clock import REAL_CLOCK, Clock
from kgen.testing._store import Event, Store

__all__ = ["Controller", "ControllerRunner"]

_FIRST_RETRY = 0.005
_LAST_RETRY = 1.0


class Controller(Protocol):
    """What :class:`ControllerRunner` runs."""

    name: str
    """Names the worker thread (``kgen-<name>``)."""

    def observe(self, event: Event) -> Iterable[Hashable]:
        """The keys ``event`` makes worth a sync. Called under the store's lock for every commit:
        must be quick, must not write, and must not wait for another thread."""

    def initial(self) -> Iterable[Hashable]:
        """The keys to sync when the runner starts (called under the store's lock, right after
        the runner begins observing)."""

    def sync(self, key: Hashable) -> float | None:
        """Reconcile ``key``; return seconds after which to sync it again, or ``None``. Raising
        retries it later."""


class _Worker:
    """One controller's queue and thread."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self._clock: Clock = getattr(controller, "clock", REAL_CLOCK)
        self._cond = threading.Condition()
        self._ready: dict[Hashable, None] = {}
        self._later: list[tuple[float, int, Hashable]] = []
        self._count = 0
        self._failures: dict[Hashable, int] = {}
        self._stopping = False
        self.thread = threading.Thread(
            target=self._run, name=f"kgen-{controller.name}", daemon=True
        )

    def add(self, key: Hashable, after: float = 0.0) -> None:
        with self._cond:
            if after <= 0:
                self._ready[key] = None
            else:
                self._count += 1
                heapq.heappush(self._later, (self._clock.now() + after, self._count, key))
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()

    def _next(self) -> Hashable | None:
        with self._cond:
            while not self._stopping:
                now = self._clock.now()
                while self._later and self._later[0][0] <= now:
                    self._ready[heapq.heappop(self._later)[2]] = None
                if self._ready:
                    key = next(iter(self._ready))
                    del self._ready[key]
                    return key
                if self._later:
                    self._clock.wait(self._cond, self._later[0][0] - now)
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        while (key := self._next()) is not None:
            try:
                again = self.controller.sync(key)
            except Exception:  # a controller bug must not end the loop: log and retry
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                if failures == 5:
                    traceback.print_exc()
                self.add(key, min(_FIRST_RETRY * 2 ** (failures - 1), _LAST_RETRY))
                continue
            self._failures.pop(key, None)
            if again is not None:
                self.add(key, again)


class ControllerRunner:
    """Runs ``controllers`` over ``store`` between :meth:`start` and :meth:`stop`.

    :meth:`start` and :meth:`stop` may each be called more than once, and a stopped runner
    starts again (new threads, the initial keys queued again). Call them from one thread.
    """

    def __init__(self, store: Store, controllers: Sequence[Controller]) -> None:
        self._store = store
        self._controllers = list(controllers)
        self._workers: list[_Worker] = []

    def _observe(self, event: Event) -> None:
        for worker in self._workers:
            for key in worker.controller.observe(event):
                worker.add(key)

    def start(self) -> None:
        """Begin observing the store, queue each controller's initial keys, start the threads."""
        if self._workers:
            return
        self._workers = [_Worker(c) for c in self._controllers]
        with self._store.lock:
            self._store.add_listener(self._observe)
            for worker in self._workers:
                for key in worker.controller.initial():
                    worker.add(key)
        for worker in self._workers:
            worker.thread.start()

    def stop(self) -> None:
        """Stop observing and join every thread (a sync under way finishes first)."""
        self._store.remove_listener(self._observe)
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.thread.join()
