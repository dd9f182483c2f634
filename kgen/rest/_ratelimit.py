"""Client-side rate limiting: the :class:`RateLimiter` protocol and the :class:`TokenBucket`
built from ``Config.qps``/``burst``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["RateLimiter", "TokenBucket"]


@runtime_checkable
class RateLimiter(Protocol):
    """Admits requests; shared by all threads of a client, so it must be thread-safe."""

    def wait(self) -> None:
        """Block until one more request may be sent."""


class TokenBucket:
    """Allows ``burst`` requests at once, then ``qps`` per second on average.

    The bucket starts full. :meth:`wait` reserves a token and sleeps until it is due; waiters are
    served in the order they reserved. Thread-safe; the lock is never held while sleeping.
    ``clock`` (monotonic seconds) and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        qps: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if qps <= 0 or burst <= 0:
            raise ValueError(f"token bucket needs qps > 0 and burst > 0, got {qps} and {burst}")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._last = clock()

    def reserve(self) -> float:
        """Take a token now; return how many seconds the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
            self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def wait(self) -> None:
        """Block until a token is available (see :meth:`reserve`)."""
        delay = self.reserve()
        if delay > 0:
            self._sleep(delay)
