"""Clocks: where the cache reads the time and waits, so that tests can drive time by hand.

A :class:`Clock` gives a monotonic ``now()`` in seconds and an interruptible ``wait``. The
reflector's backoff, its resync timer and the informer's per-handler resync schedule all go
through one; :class:`FakeClock` lets a test move time forward instantly and deterministically.
Both clocks are thread-safe.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["REAL_CLOCK", "Clock", "FakeClock", "RealClock"]


class Clock(Protocol):
    """A monotonic time source with a wait that a stop event can cut short."""

    def now(self) -> float:
        """Seconds on a monotonic scale (only differences are meaningful)."""
        ...

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Block until ``seconds`` have passed or ``stop`` is set; return whether it is set."""
        ...


class RealClock:
    """The system's monotonic clock."""

    def now(self) -> float:
        return time.monotonic()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(max(seconds, 0.0))


REAL_CLOCK = RealClock()


class FakeClock:
    """A clock that only moves when :meth:`step` is called.

    Waiters wake as soon as the fake time reaches their deadline or their stop event is set.
    ``waiters`` lets a test step time only once the code under test has started waiting.
    """

    _POLL = 0.005

    def __init__(self, start: float = 0.0) -> None:
        self._cond = threading.Condition()
        self._now = start
        self._waiters = 0
        self._wait_calls = 0

    def now(self) -> float:
        with self._cond:
            return self._now

    @property
    def waiters(self) -> int:
        """How many threads are currently blocked in :meth:`wait`."""
        with self._cond:
            return self._waiters

    @property
    def wait_calls(self) -> int:
        """How many calls to :meth:`wait` have begun so far."""
        with self._cond:
            return self._wait_calls

    def step(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake the waiters that are now due."""
        with self._cond:
            self._now += seconds
            self._cond.notify_all()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        with self._cond:
            deadline = self._now + seconds
            self._waiters += 1
            self._wait_calls += 1
            try:
                while self._now < deadline and not stop.is_set():
                    # Stop events are not tied to this condition: re-check them often.
                    self._cond.wait(self._POLL)
            finally:
                self._waiters -= 1
            return stop.is_set()
