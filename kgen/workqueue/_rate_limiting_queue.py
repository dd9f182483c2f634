"""A delaying queue that asks a rate limiter how long each retry should wait."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from kgen.clock import Clock
from kgen.workqueue._delaying import DelayingQueue
from kgen.workqueue._metrics import MetricsProvider
from kgen.workqueue._rate_limiters import RateLimiter

__all__ = ["RateLimited", "RateLimitingQueue"]

T = TypeVar("T", bound=Hashable)


class RateLimited(Generic[T]):
    """What a rate-limited queue adds to a delaying one, for the thread and the asyncio
    queues alike (``add_after`` never blocks in either): the rate limiter decides each retry's
    delay. Mixed in before the delaying queue, which provides ``add_after``."""

    rate_limiter: RateLimiter[T]

    if TYPE_CHECKING:

        def add_after(self, item: T, delay: float) -> None: ...

    def add_rate_limited(self, item: T) -> None:
        """Add ``item`` after the delay the rate limiter gives it (recording a failure)."""
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """Clear ``item``'s failure history. The caller must still call :meth:`done`."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        """Failures the rate limiter has recorded for ``item``."""
        return self.rate_limiter.num_requeues(item)


class RateLimitingQueue(RateLimited[T], DelayingQueue[T]):
    """The queue controllers use: retry a failed item with :meth:`add_rate_limited`, clear its
    history with :meth:`forget` once it succeeds. Thread-safe.

    The usual worker loop::

        key = queue.get()
        try:
            reconcile(key)
        except Exception:
            queue.add_rate_limited(key)
        else:
            queue.forget(key)
        finally:
            queue.done(key)
    """

    def __init__(
        self,
        rate_limiter: RateLimiter[T],
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics_provider: MetricsProvider | None = None,
    ) -> None:
        super().__init__(name=name, clock=clock, metrics_provider=metrics_provider)
        self.rate_limiter = rate_limiter
