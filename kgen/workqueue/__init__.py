"""Work queues for controllers: a fair, stingy FIFO, a delaying queue, a rate-limiting queue,
the rate limiters that drive retries, and metrics hooks.

Typical use::

    queue: RateLimitingQueue[str] = RateLimitingQueue(default_controller_rate_limiter(), name="web")
    # producers: queue.add("ns/name")      workers: key = queue.get(); ...; queue.done(key)
    queue.shut_down()

Every queue is thread-safe, generic in its item type (items must be hashable) and takes an
injectable :class:`kgen.clock.Clock`; a :class:`kgen.clock.FakeClock` makes delays deterministic
in tests. Background threads (the delaying queue's waiting thread, the metrics refresher) are
stopped and joined by ``shut_down()`` / ``shut_down_with_drain()``.
"""

from kgen.workqueue._delaying import DelayingQueue
from kgen.workqueue._metrics import (
    CounterMetric,
    GaugeMetric,
    HistogramMetric,
    MetricsProvider,
    NoopMetricsProvider,
    SettableGaugeMetric,
)
from kgen.workqueue._prometheus import PrometheusMetricsProvider
from kgen.workqueue._queue import Queue, QueueShutDown
from kgen.workqueue._rate_limiters import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    WithMaxWaitRateLimiter,
    default_controller_rate_limiter,
    default_item_based_rate_limiter,
)
from kgen.workqueue._rate_limiting_queue import RateLimitingQueue
from kgen.workqueue._token_bucket import TokenBucket

__all__ = [
    "BucketRateLimiter",
    "CounterMetric",
    "DelayingQueue",
    "GaugeMetric",
    "HistogramMetric",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MaxOfRateLimiter",
    "MetricsProvider",
    "NoopMetricsProvider",
    "PrometheusMetricsProvider",
    "Queue",
    "QueueShutDown",
    "RateLimiter",
    "RateLimitingQueue",
    "SettableGaugeMetric",
    "TokenBucket",
    "WithMaxWaitRateLimiter",
    "default_controller_rate_limiter",
    "default_item_based_rate_limiter",
]
