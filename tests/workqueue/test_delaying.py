"""Delaying and rate-limiting queues on a fake clock (S61)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from kgen.clock import FakeClock
from kgen.workqueue import (
    DelayingQueue,
    ItemExponentialFailureRateLimiter,
    QueueShutDown,
    RateLimitingQueue,
)

MS = 0.001


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (real time) for the queue's background thread to reach a state."""
    done = threading.Event()
    deadline = threading.Timer(timeout, done.set)
    deadline.start()
    try:
        while not condition():
            if done.wait(0.001):
                raise AssertionError("condition not reached")
    finally:
        deadline.cancel()
        deadline.join()


def drained(q: DelayingQueue[str]) -> Callable[[], bool]:
    return lambda: q.waiting() == 0


def test_simple_delay() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("foo", 50 * MS)
    assert len(q) == 0 and q.waiting() == 1
    clock.step(60 * MS)
    eventually(drained(q))
    assert len(q) == 1
    assert q.get() == "foo"
    q.done("foo")
    q.shut_down()


def test_dedup_keeps_the_earlier_ready_time() -> None:
    """S61: 50 ms then 70 ms -> once after 60 ms and nothing more; 50 ms then 30 ms -> at 30 ms."""
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("foo", 50 * MS)
    q.add_after("foo", 70 * MS)
    assert q.waiting() == 1
    clock.step(60 * MS)
    eventually(drained(q))
    assert len(q) == 1
    assert q.get() == "foo"
    q.done("foo")
    clock.step(20 * MS)
    assert q.waiting() == 0 and len(q) == 0

    q.add_after("foo", 50 * MS)
    q.add_after("foo", 30 * MS)
    clock.step(30 * MS)
    eventually(drained(q))
    assert len(q) == 1
    q.shut_down()


def test_items_fire_in_ready_order() -> None:
    """S61: foo(1 s), bar(50 ms) -> bar, then foo, then a later-added baz(2 s)."""
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("foo", 1.0)
    q.add_after("bar", 50 * MS)
    clock.step(60 * MS)
    eventually(lambda: q.waiting() == 1)
    assert q.get() == "bar"
    q.done("bar")
    q.add_after("baz", 2.0)
    clock.step(1.0)
    eventually(lambda: q.waiting() == 1)
    assert q.get() == "foo"
    q.done("foo")
    clock.step(2.0)
    eventually(drained(q))
    assert q.get() == "baz"
    q.done("baz")
    q.shut_down()


def test_non_positive_delay_adds_at_once_and_shut_down_drops_waiting_items() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("now", 0)
    assert len(q) == 1
    q.add_after("later", 5.0)
    q.shut_down()
    q.add_after("ignored", 0)
    assert q.get() == "now"
    with pytest.raises(QueueShutDown):
        q.get()


def test_rate_limiting_queue() -> None:
    """S61: waits 1 ms, 2 ms; NumRequeues 2; after forget the next wait is 1 ms again."""
    clock = FakeClock()
    limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(MS, 1.0)
    q: RateLimitingQueue[str] = RateLimitingQueue(limiter, clock=clock)
    q.add_rate_limited("one")
    clock.step(1.1 * MS)
    eventually(drained(q))
    assert q.get() == "one"
    q.add_rate_limited("one")  # second failure: 2 ms
    q.done("one")
    assert q.num_requeues("one") == 2
    clock.step(1.1 * MS)
    assert q.waiting() == 1 and len(q) == 0
    clock.step(1 * MS)
    eventually(drained(q))
    assert q.get() == "one"
    q.forget("one")
    q.done("one")
    assert q.num_requeues("one") == 0
    q.add_rate_limited("one")
    clock.step(1.1 * MS)
    eventually(drained(q))
    assert len(q) == 1
    q.shut_down()


def test_rate_limiting_queue_delays_follow_the_limiter() -> None:
    clock = FakeClock()
    limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(MS, 1.0)
    q: RateLimitingQueue[str] = RateLimitingQueue(limiter, clock=clock)
    q.add_rate_limited("one")  # 1 ms
    q.add_rate_limited("one")  # 2 ms: the earlier ready time (1 ms) is kept
    assert q.waiting() == 1 and q.num_requeues("one") == 2
    clock.step(0.6 * MS)
    assert len(q) == 0
    clock.step(0.6 * MS)
    eventually(drained(q))
    assert q.get() == "one"
    q.done("one")
    q.shut_down_with_drain()
