"""Clocks: the one source of time for the cache, the workqueue, event recording and leader
election.

Everything in the runtime that waits or measures time goes through a :class:`Clock`, so a test
can hand in a :class:`FakeClock` and drive time by hand instead of sleeping.

A clock offers two readings (a monotonic one for intervals and deadlines, a wall-clock one for
timestamps written to the API) and one way to block: :meth:`Clock.wait`, which waits on a
``threading.Condition`` the caller holds until it is notified or the timeout has passed *on this
clock*. Callers re-check their own state after ``wait`` returns, as with any condition;
:func:`wait_until` is that loop, written once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = [
    "REAL_CLOCK",
    "Clock",
    "FakeClock",
    "RealClock",
    "format_micro_time",
    "format_time",
    "sleep",
    "wait_until",
]


class Clock(Protocol):
    """Time as seen by the runtime's timed code. Implementations are thread-safe."""

    def now(self) -> float:
        """Monotonic seconds; only differences between two readings mean anything."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch (for timestamps sent to the API)."""
        ...

    def wait(self, cond: threading.Condition, timeout: float) -> None:
        """Release ``cond`` (held by the caller) and block until it is notified or ``timeout``
        seconds of this clock have passed, then re-acquire it. May return early; callers re-check.
        """
        ...


class RealClock:
    """The system clocks: ``time.monotonic`` and ``time.time``."""

    def now(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def wait(self, cond: threading.Condition, timeout: float) -> None:
        cond.wait(max(timeout, 0.0))


REAL_CLOCK = RealClock()
"""The shared system clock: the default wherever a clock is taken."""


def wait_until(
    clock: Clock, cond: threading.Condition, done: Callable[[], bool], timeout: float
) -> bool:
    """With ``cond`` held by the caller, wait on ``clock`` until ``done()`` is true or ``timeout``
    seconds of the clock have passed; return ``done()``.

    Whoever makes ``done()`` true must do so holding ``cond`` and notify it, or the wait lasts
    until the timeout.
    """
    deadline = clock.now() + timeout
    while not done():
        remaining = deadline - clock.now()
        if remaining <= 0:
            return False
        clock.wait(cond, remaining)
    return True


def sleep(clock: Clock, seconds: float) -> None:
    """Block the calling thread for ``seconds`` of ``clock`` (nothing cuts it short)."""
    cond = threading.Condition()
    with cond:
        wait_until(clock, cond, lambda: False, seconds)


class _Waiter:
    __slots__ = ("cond", "deadline")

    def __init__(self, deadline: float, cond: threading.Condition) -> None:
        self.deadline = deadline
        self.cond = cond


class FakeClock:
    """A clock that only moves when :meth:`step` or :meth:`set` is called. For tests.

    Threads blocked in :meth:`wait` are woken when the clock passes their deadline (a waiter stops
    counting in :meth:`waiters` as soon as it is woken). :meth:`block_until_waiters` lets a test
    step time only once its background threads have gone back to sleep, which makes tests of
    delays deterministic; :meth:`wait_calls` tells a test that a loop has come round again. All
    methods are thread-safe.
    """

    def __init__(self, start: float = 1_000_000.0, wall_start: float = 1_700_000_000.0) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._now = start
        self._wall_offset = wall_start - start
        self._waiters: list[_Waiter] = []
        self._wait_calls = 0

    def now(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        with self._lock:
            return self._now + self._wall_offset

    def waiters(self) -> int:
        """How many threads are blocked in :meth:`wait` and not yet woken."""
        with self._lock:
            return len(self._waiters)

    def wait_calls(self) -> int:
        """How many calls to :meth:`wait` with a positive timeout have begun so far."""
        with self._lock:
            return self._wait_calls

    def block_until_waiters(self, count: int, timeout: float = 10.0) -> None:
        """Block (in real time) until at least ``count`` threads wait on this clock.

        Raises :class:`TimeoutError` after ``timeout`` real seconds.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._waiters) >= count, timeout):
                raise TimeoutError(
                    f"FakeClock: {len(self._waiters)} waiters after {timeout} s, wanted {count}"
                )

    def wait(self, cond: threading.Condition, timeout: float) -> None:
        if timeout <= 0:
            return
        with self._lock:
            waiter = _Waiter(self._now + timeout, cond)
            self._waiters.append(waiter)
            self._wait_calls += 1
            self._changed.notify_all()
        try:
            # _wake_due takes ``cond`` to notify it, which it cannot do before this thread
            # releases it here, so no wake-up is lost.
            cond.wait()
        finally:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                    self._changed.notify_all()

    def step(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake every waiter whose deadline has passed."""
        with self._lock:
            self._now += seconds
        self._wake_due()

    def set(self, now: float) -> None:
        """Move the monotonic reading to ``now`` (never backwards) and wake due waiters."""
        with self._lock:
            if now < self._now:
                raise ValueError(
                    f"FakeClock.set: {now} is earlier than the current time {self._now}"
                )
            self._now = now
        self._wake_due()

    def _wake_due(self) -> None:
        with self._lock:
            due = [w for w in self._waiters if w.deadline <= self._now]
            self._waiters = [w for w in self._waiters if w.deadline > self._now]
            self._changed.notify_all()
        for waiter in due:
            with waiter.cond:
                waiter.cond.notify_all()


def format_time(seconds: float) -> str:
    """A wall-clock reading as an API ``Time``: RFC 3339 in UTC, whole seconds, ``Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(seconds)))


def format_micro_time(seconds: float) -> str:
    """A wall-clock reading as an API ``MicroTime``: RFC 3339 in UTC with microseconds."""
    micros = round(seconds * 1_000_000)
    whole, frac = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{frac:06d}Z"
