"""Work queues for asyncio controllers: the same queues as :mod:`kgen.workqueue`, awaited.

:class:`AsyncQueue` (fair, stingy FIFO), :class:`AsyncDelayingQueue` (``add_after``) and
:class:`AsyncRateLimitingQueue` (``add_rate_limited``/``forget``/``num_requeues``) keep their
state in the same sans-I/O core as the thread queues (``kgen.workqueue._core``) and take the same
rate limiters (:class:`kgen.workqueue.RateLimiter`: pure arithmetic, shared as they are)::

    queue: AsyncRateLimitingQueue[str] = AsyncRateLimitingQueue(default_controller_rate_limiter())
    # producers: queue.add("ns/name")   workers: key = await queue.get(); ...; queue.done(key)
    await queue.shut_down()

Use a queue from one event loop's tasks only (it is not thread-safe); ``add``, ``done`` and
``add_after`` never wait, ``get`` and the shut downs are coroutines.
"""

from kgen.workqueue.aio._queues import AsyncDelayingQueue, AsyncQueue, AsyncRateLimitingQueue

__all__ = ["AsyncDelayingQueue", "AsyncQueue", "AsyncRateLimitingQueue"]
