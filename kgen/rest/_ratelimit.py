"""Client-side rate limiting: the :class:`RateLimiter` protocol and the :class:`TokenBucket`
built from ``Config.qps``/``burst``; for the async client, :class:`AsyncRateLimiter` and
:class:`AsyncTokenBucket`, which runs the same bucket arithmetic and awaits instead of blocking."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

__all__ = ["AsyncRateLimiter", "AsyncTokenBucket", "RateLimiter", "TokenBucket"]


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


async def _asyncio_sleep(delay: float) -> None:
    """``asyncio.sleep``, imported when first awaited: kgen.rest imports this module, and the
    threaded client must not pay for asyncio."""
    import asyncio

    await asyncio.sleep(delay)


@runtime_checkable
class AsyncRateLimiter(Protocol):
    """Admits the requests of an async client; shared by all its tasks."""

    async def wait(self) -> None:
        """Wait (without blocking the event loop) until one more request may be sent."""


class AsyncTokenBucket:
    """:class:`TokenBucket`'s arithmetic (``burst`` at once, then ``qps`` per second, served in
    the order tokens were reserved) with an awaitable :meth:`wait`.

    Safe to share between the tasks of any event loops and threads (the bucket's own lock is
    held only to reserve). A waiter cancelled while it sleeps has still used its token, as a
    request that was sent would have. ``clock`` and ``sleep`` (a coroutine function) are
    injectable for tests.
    """

    def __init__(
        self,
        qps: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = _asyncio_sleep,
    ) -> None:
        self.bucket = TokenBucket(qps, burst, clock=clock)
        self._sleep = sleep

    @classmethod
    def sharing(
        cls, bucket: TokenBucket, *, sleep: Callable[[float], Awaitable[object]] = _asyncio_sleep
    ) -> AsyncTokenBucket:
        """An async face on an existing ``bucket``: its tokens are shared with whoever else uses
        it (a sync client built from the same ``Config.rate_limiter``, say)."""
        limiter = cls.__new__(cls)
        limiter.bucket = bucket
        limiter._sleep = sleep
        return limiter

    @property
    def qps(self) -> float:
        return self.bucket.qps

    @property
    def burst(self) -> int:
        return self.bucket.burst

    async def wait(self) -> None:
        """Reserve a token and sleep until it is due (see :meth:`TokenBucket.reserve`)."""
        delay = self.bucket.reserve()
        if delay > 0:
            await self._sleep(delay)
