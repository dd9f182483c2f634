"""Workqueue metrics through a provider, on a fake clock."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field

import pytest

from kgen.clock import FakeClock
from kgen.workqueue import (
    CounterMetric,
    GaugeMetric,
    HistogramMetric,
    PrometheusMetricsProvider,
    Queue,
    RateLimitingQueue,
    SettableGaugeMetric,
    default_controller_rate_limiter,
)


@dataclass
class Metric:
    value: float = 0.0
    observations: list[float] = field(default_factory=list)

    def inc(self) -> None:
        self.value += 1

    def dec(self) -> None:
        self.value -= 1

    def set(self, value: float) -> None:
        self.value = value

    def observe(self, value: float) -> None:
        self.observations.append(value)


class MemoryProvider:
    def __init__(self) -> None:
        self.metrics: dict[tuple[str, str], Metric] = {}

    def _new(self, kind: str, name: str) -> Metric:
        return self.metrics.setdefault((kind, name), Metric())

    def new_depth_metric(self, name: str) -> GaugeMetric:
        return self._new("depth", name)

    def new_adds_metric(self, name: str) -> CounterMetric:
        return self._new("adds", name)

    def new_latency_metric(self, name: str) -> HistogramMetric:
        return self._new("latency", name)

    def new_work_duration_metric(self, name: str) -> HistogramMetric:
        return self._new("work_duration", name)

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self._new("unfinished", name)

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self._new("longest", name)

    def new_retries_metric(self, name: str) -> CounterMetric:
        return self._new("retries", name)


def test_queue_metrics() -> None:
    clock = FakeClock()
    provider = MemoryProvider()
    q: Queue[str] = Queue(name="web", clock=clock, metrics_provider=provider)
    m = {kind: provider.metrics[(kind, "web")] for kind, _ in provider.metrics}
    clock.block_until_waiters(1)  # the unfinished-work refresher sleeps
    q.add("a")
    q.add("b")
    q.add("a")  # collapsed: not counted
    assert m["adds"].value == 2 and m["depth"].value == 2
    clock.step(0.25)
    item = q.get()
    assert m["depth"].value == 1
    assert m["latency"].observations == [0.25]
    clock.step(0.25)  # 0.5 s since the refresher slept: it reports the running item
    clock.block_until_waiters(1)
    assert m["unfinished"].value == 0.25
    assert m["longest"].value == 0.25
    clock.step(0.5)
    q.done(item)
    assert m["work_duration"].observations == [0.75]
    q.shut_down()


def test_retries_are_counted_per_add_after() -> None:
    clock = FakeClock()
    provider = MemoryProvider()
    q: RateLimitingQueue[str] = RateLimitingQueue(
        default_controller_rate_limiter(clock=clock),
        name="retrying",
        clock=clock,
        metrics_provider=provider,
    )
    q.add_rate_limited("a")
    q.add_after("b", 0)
    assert provider.metrics[("retries", "retrying")].value == 2
    q.shut_down()


def test_no_metrics_without_a_name() -> None:
    provider = MemoryProvider()
    q: Queue[str] = Queue(metrics_provider=provider)
    q.add("a")
    assert provider.metrics == {}
    q.shut_down()


def test_prometheus_provider_without_prometheus_client_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import now fails
    with pytest.raises(ImportError, match=r"kgen\[prometheus\]"):
        PrometheusMetricsProvider()


@pytest.mark.skipif(
    importlib.util.find_spec("prometheus_client") is None,
    reason="the prometheus extra is not installed",
)
def test_prometheus_provider_exports_client_go_names() -> None:
    prom = importlib.import_module("prometheus_client")
    registry = prom.CollectorRegistry()
    provider = PrometheusMetricsProvider(registry)
    q: Queue[str] = Queue(name="web", metrics_provider=provider)
    q.add("a")
    q.shut_down()
    assert registry.get_sample_value("workqueue_depth", {"name": "web"}) == 1
    assert registry.get_sample_value("workqueue_adds_total", {"name": "web"}) == 1
