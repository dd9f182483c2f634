"""A token bucket: ``qps`` tokens per second, holding at most ``burst``, starting full.

Shared by :class:`~kgen.workqueue.BucketRateLimiter` (which reserves a token and waits for it)
and by event spam filtering in :mod:`kgen.record` (which only takes a token when one is there).
"""

from __future__ import annotations

import threading

from kgen.clock import REAL_CLOCK, Clock

__all__ = ["TokenBucket"]


class TokenBucket:
    """Thread-safe. Time comes from ``clock``; tokens accrue continuously."""

    def __init__(self, qps: float, burst: int, *, clock: Clock | None = None) -> None:
        if not qps > 0:
            raise ValueError(f"token bucket: qps must be positive, got {qps}")
        if burst < 1:
            raise ValueError(f"token bucket: burst must be at least 1, got {burst}")
        self.qps = qps
        self.burst = burst
        self._clock: Clock = clock if clock is not None else REAL_CLOCK
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._last = self._clock.now()

    def _advance(self) -> float:
        now = self._clock.now()
        elapsed = max(0.0, now - self._last)
        self._last = max(now, self._last)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.qps)
        return self._tokens

    def reserve(self) -> float:
        """Take a token, going into debt if there is none; return seconds until it is paid for
        (0 when a token was available)."""
        with self._lock:
            self._tokens = self._advance() - 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def try_accept(self) -> bool:
        """Take a token if one is available now; never waits, never goes into debt."""
        with self._lock:
            if self._advance() >= 1.0:
                self._tokens -= 1.0
                return True
            return False
