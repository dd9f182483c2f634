"""Workqueue metrics: the provider protocol, the no-op default and the per-queue bookkeeping.

A queue reports metrics only when it has a ``name`` and a :class:`MetricsProvider` is given. The
provider is asked once per queue for seven metrics, each labelled with the queue's name; their
Prometheus names (used by :class:`~kgen.workqueue.PrometheusMetricsProvider`) are those of the
Kubernetes components:

=============================================  ======================================  ==========
provider method                                Prometheus name                         kind
=============================================  ======================================  ==========
``new_depth_metric``                           ``workqueue_depth``                     gauge
``new_adds_metric``                            ``workqueue_adds_total``                counter
``new_latency_metric``                         ``workqueue_queue_duration_seconds``    histogram
``new_work_duration_metric``                   ``workqueue_work_duration_seconds``     histogram
``new_unfinished_work_seconds_metric``         ``workqueue_unfinished_work_seconds``   gauge
``new_longest_running_processor_seconds_...``  ``workqueue_longest_running_...``       gauge
``new_retries_metric``                         ``workqueue_retries_total``             counter
=============================================  ======================================  ==========

Latency is add -> get, work duration is get -> done, both in seconds. The two "unfinished" gauges
are refreshed by the queue every 500 ms while it runs. Metric objects are called with the
queue's lock held: they must be quick and must not call back into the queue.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from kgen.clock import Clock

__all__ = [
    "CounterMetric",
    "GaugeMetric",
    "HistogramMetric",
    "MetricsProvider",
    "NoopMetricsProvider",
    "SettableGaugeMetric",
]

T = TypeVar("T", bound=Hashable)


class GaugeMetric(Protocol):
    """A value that goes up and down by one (queue depth)."""

    def inc(self) -> None: ...
    def dec(self) -> None: ...


class SettableGaugeMetric(Protocol):
    """A value that is set outright (seconds of unfinished work)."""

    def set(self, value: float) -> None: ...


class CounterMetric(Protocol):
    """A value that only goes up by one (adds, retries)."""

    def inc(self) -> None: ...


class HistogramMetric(Protocol):
    """A distribution of observed values, in seconds."""

    def observe(self, value: float) -> None: ...


class MetricsProvider(Protocol):
    """Makes the metrics of one named queue. See the module docstring for names and meanings."""

    def new_depth_metric(self, name: str) -> GaugeMetric: ...
    def new_adds_metric(self, name: str) -> CounterMetric: ...
    def new_latency_metric(self, name: str) -> HistogramMetric: ...
    def new_work_duration_metric(self, name: str) -> HistogramMetric: ...
    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric: ...
    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric: ...
    def new_retries_metric(self, name: str) -> CounterMetric: ...


class _NoopMetric:
    def inc(self) -> None:
        pass

    def dec(self) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def observe(self, value: float) -> None:
        pass


_NOOP = _NoopMetric()


class NoopMetricsProvider:
    """The default provider: every metric discards what it is given."""

    def new_depth_metric(self, name: str) -> GaugeMetric:
        return _NOOP

    def new_adds_metric(self, name: str) -> CounterMetric:
        return _NOOP

    def new_latency_metric(self, name: str) -> HistogramMetric:
        return _NOOP

    def new_work_duration_metric(self, name: str) -> HistogramMetric:
        return _NOOP

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return _NOOP

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return _NOOP

    def new_retries_metric(self, name: str) -> CounterMetric:
        return _NOOP


class QueueMetrics(Generic[T]):
    """What a queue tells its metrics, called with the queue's lock held. This base records
    nothing: queues without a name or a provider use it as is."""

    def add(self, item: T) -> None:
        pass

    def get(self, item: T) -> None:
        pass

    def done(self, item: T) -> None:
        pass

    def retry(self) -> None:
        pass

    def update_unfinished_work(self) -> None:
        pass


class ProviderQueueMetrics(QueueMetrics[T]):
    """Tracks add and start times per item and feeds a provider's metrics for one queue."""

    def __init__(self, name: str, provider: MetricsProvider, clock: Clock) -> None:
        self._clock = clock
        self._depth = provider.new_depth_metric(name)
        self._adds = provider.new_adds_metric(name)
        self._latency = provider.new_latency_metric(name)
        self._work_duration = provider.new_work_duration_metric(name)
        self._unfinished = provider.new_unfinished_work_seconds_metric(name)
        self._longest = provider.new_longest_running_processor_seconds_metric(name)
        self._retries = provider.new_retries_metric(name)
        self._add_times: dict[T, float] = {}
        self._processing_start: dict[T, float] = {}

    def add(self, item: T) -> None:
        self._adds.inc()
        self._depth.inc()
        self._add_times.setdefault(item, self._clock.now())

    def get(self, item: T) -> None:
        now = self._clock.now()
        self._depth.dec()
        added = self._add_times.pop(item, None)
        if added is not None:
            self._latency.observe(now - added)
        self._processing_start[item] = now

    def done(self, item: T) -> None:
        started = self._processing_start.pop(item, None)
        if started is not None:
            self._work_duration.observe(self._clock.now() - started)

    def retry(self) -> None:
        self._retries.inc()

    def update_unfinished_work(self) -> None:
        now = self._clock.now()
        total = 0.0
        longest = 0.0
        for started in self._processing_start.values():
            running = now - started
            total += running
            longest = max(longest, running)
        self._unfinished.set(total)
        self._longest.set(longest)
