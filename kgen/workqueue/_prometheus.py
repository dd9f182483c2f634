"""A :class:`~kgen.workqueue.MetricsProvider` backed by ``prometheus_client`` (optional).

Install it with the ``prometheus`` extra (``pip install 'kgen[prometheus]'``). The module is
imported only when a provider is created, so kgen itself never needs it.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from kgen.workqueue._metrics import (
    CounterMetric,
    GaugeMetric,
    HistogramMetric,
    SettableGaugeMetric,
)

__all__ = ["PrometheusMetricsProvider"]


class _Child(Protocol):
    """The union of what the labelled children of Gauge, Counter and Histogram offer."""

    def inc(self) -> None: ...
    def dec(self) -> None: ...
    def set(self, value: float) -> None: ...
    def observe(self, value: float) -> None: ...


# Ten buckets from 10 ns to 10 s, each ten times the previous, as the Kubernetes components use.
_DURATION_BUCKETS = tuple(10.0**exp for exp in range(-8, 2))


def _import_prometheus_client() -> Any:
    try:
        return importlib.import_module("prometheus_client")
    except ImportError as exc:
        raise ImportError(
            "PrometheusMetricsProvider needs the prometheus_client package; "
            "install it with: pip install 'kgen[prometheus]'"
        ) from exc


class PrometheusMetricsProvider:
    """Registers the seven ``workqueue_*`` metrics, labelled by queue ``name``, in ``registry``
    (``prometheus_client.REGISTRY`` when omitted). Create one provider per registry and share it
    between queues; a second one on the same registry fails with prometheus_client's duplicate
    registration error. Raises :class:`ImportError` naming the extra when prometheus_client is
    missing."""

    def __init__(self, registry: Any = None) -> None:
        prom = _import_prometheus_client()
        reg = registry if registry is not None else prom.REGISTRY
        labels = ["name"]
        self._depth = prom.Gauge(
            "workqueue_depth", "Current depth of workqueue", labels, registry=reg
        )
        # prometheus_client adds the "_total" suffix to counters: workqueue_adds_total.
        self._adds = prom.Counter(
            "workqueue_adds", "Total number of adds handled by workqueue", labels, registry=reg
        )
        self._latency = prom.Histogram(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested.",
            labels,
            buckets=_DURATION_BUCKETS,
            registry=reg,
        )
        self._work_duration = prom.Histogram(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes.",
            labels,
            buckets=_DURATION_BUCKETS,
            registry=reg,
        )
        self._unfinished = prom.Gauge(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has done that is in progress and hasn't been observed by "
            "work_duration. Large values indicate stuck threads.",
            labels,
            registry=reg,
        )
        self._longest = prom.Gauge(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.",
            labels,
            registry=reg,
        )
        self._retries = prom.Counter(
            "workqueue_retries",
            "Total number of retries handled by workqueue",
            labels,
            registry=reg,
        )

    def new_depth_metric(self, name: str) -> GaugeMetric:
        return self._labelled(self._depth, name)

    def new_adds_metric(self, name: str) -> CounterMetric:
        return self._labelled(self._adds, name)

    def new_latency_metric(self, name: str) -> HistogramMetric:
        return self._labelled(self._latency, name)

    def new_work_duration_metric(self, name: str) -> HistogramMetric:
        return self._labelled(self._work_duration, name)

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self._labelled(self._unfinished, name)

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self._labelled(self._longest, name)

    def new_retries_metric(self, name: str) -> CounterMetric:
        return self._labelled(self._retries, name)

    @staticmethod
    def _labelled(metric: Any, name: str) -> _Child:
        child: _Child = metric.labels(name=name)
        return child
