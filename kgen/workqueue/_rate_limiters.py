"""Rate limiters: how long an item should wait before it is retried.

Every limiter answers three questions about an item: :meth:`~RateLimiter.when` (the delay before
the next retry, which also records the failure), :meth:`~RateLimiter.forget` (the item succeeded:
clear its history) and :meth:`~RateLimiter.num_requeues` (failures recorded so far). Delays are in
seconds. All limiters here are thread-safe.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from kgen.clock import Clock
from kgen.workqueue._token_bucket import TokenBucket

__all__ = [
    "BucketRateLimiter",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MaxOfRateLimiter",
    "RateLimiter",
    "WithMaxWaitRateLimiter",
    "default_controller_rate_limiter",
    "default_item_based_rate_limiter",
]

T = TypeVar("T", bound=Hashable)
T_contra = TypeVar("T_contra", bound=Hashable, contravariant=True)


class RateLimiter(Protocol[T_contra]):
    """Decides per item how long to wait before the next retry."""

    def when(self, item: T_contra) -> float:
        """Seconds to wait before retrying ``item``; records one more failure."""
        ...

    def forget(self, item: T_contra) -> None:
        """Clear ``item``'s history (it succeeded or was given up on)."""
        ...

    def num_requeues(self, item: T_contra) -> int:
        """How many failures are recorded for ``item``."""
        ...


class _PerItemFailures(Generic[T]):
    """The failure count per item that the per-item limiters keep (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[T, int] = {}

    def _record_failure(self, item: T) -> int:
        """Count one more failure of ``item``; return how many were counted before it."""
        with self._lock:
            before = self._failures.get(item, 0)
            self._failures[item] = before + 1
        return before

    def forget(self, item: T) -> None:
        with self._lock:
            self._failures.pop(item, None)

    def num_requeues(self, item: T) -> int:
        with self._lock:
            return self._failures.get(item, 0)


class ItemExponentialFailureRateLimiter(_PerItemFailures[T]):
    """``base_delay * 2**failures``, capped at ``max_delay`` (also when the power overflows).

    With (1 ms, 1 s) an item waits 1, 2, 4, 8, 16 ms ... until :meth:`forget`.
    """

    def __init__(self, base_delay: float, max_delay: float) -> None:
        super().__init__()
        self.base_delay = base_delay
        self.max_delay = max_delay

    def when(self, item: T) -> float:
        exp = self._record_failure(item)
        try:
            backoff = math.ldexp(self.base_delay, exp)
        except OverflowError:
            return self.max_delay
        return min(backoff, self.max_delay)


class ItemFastSlowRateLimiter(_PerItemFailures[T]):
    """``fast_delay`` for the first ``max_fast_attempts`` failures of an item, then ``slow_delay``."""

    def __init__(self, fast_delay: float, slow_delay: float, max_fast_attempts: int) -> None:
        super().__init__()
        self.fast_delay = fast_delay
        self.slow_delay = slow_delay
        self.max_fast_attempts = max_fast_attempts

    def when(self, item: T) -> float:
        failures = self._record_failure(item) + 1
        return self.fast_delay if failures <= self.max_fast_attempts else self.slow_delay


class BucketRateLimiter(Generic[T]):
    """One token bucket shared by all items: ``qps`` tokens per second, holding at most ``burst``.

    The bucket starts full. Each :meth:`when` reserves a token and returns how long until it is
    available: the first ``burst`` calls return 0, then without time passing ``1/qps``,
    ``2/qps``, ... Items have no history, so :meth:`num_requeues` is always 0.
    """

    def __init__(self, qps: float, burst: int, *, clock: Clock | None = None) -> None:
        self.bucket = TokenBucket(qps, burst, clock=clock)

    def when(self, item: T) -> float:
        return self.bucket.reserve()

    def forget(self, item: T) -> None:
        pass

    def num_requeues(self, item: T) -> int:
        return 0


class MaxOfRateLimiter(Generic[T]):
    """Asks every limiter (each records the failure) and returns the longest delay."""

    def __init__(self, *limiters: RateLimiter[T]) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self.limiters = limiters

    def when(self, item: T) -> float:
        return max([limiter.when(item) for limiter in self.limiters])

    def forget(self, item: T) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


class WithMaxWaitRateLimiter(Generic[T]):
    """Caps another limiter's delay at ``max_delay``."""

    def __init__(self, limiter: RateLimiter[T], max_delay: float) -> None:
        self.limiter = limiter
        self.max_delay = max_delay

    def when(self, item: T) -> float:
        return min(self.limiter.when(item), self.max_delay)

    def forget(self, item: T) -> None:
        self.limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.limiter.num_requeues(item)


def default_item_based_rate_limiter() -> ItemExponentialFailureRateLimiter[T]:
    """Exponential per item from 1 ms up to 1000 s."""
    return ItemExponentialFailureRateLimiter(0.001, 1000.0)


def default_controller_rate_limiter(*, clock: Clock | None = None) -> MaxOfRateLimiter[T]:
    """The usual controller limiter: the longer of an exponential per-item backoff (5 ms up to
    1000 s) and an overall token bucket (10 qps, burst 100)."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(0.005, 1000.0),
        BucketRateLimiter(10.0, 100, clock=clock),
    )
