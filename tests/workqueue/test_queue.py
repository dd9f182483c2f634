"""Queue semantics: fairness, collapsing, no double processing, shut down and drain (S55-S57)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from kgen.workqueue import Queue, QueueShutDown


def start(target: Callable[..., object], *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def test_collapse_and_fifo_order() -> None:
    q: Queue[str] = Queue()
    q.add("foo")
    q.add("bar")
    q.add("foo")
    assert len(q) == 2
    assert q.get() == "foo"
    assert q.get() == "bar"
    assert len(q) == 0
    q.shut_down()


def test_re_add_while_processing_waits_for_done_and_is_handed_out_once() -> None:
    """S55: worker B blocks until A is done with "foo", then gets it exactly once."""
    q: Queue[str] = Queue()
    q.add("foo")
    assert q.get() == "foo"  # worker A holds it
    q.add("foo")
    q.add("foo")
    assert len(q) == 0  # not queued while A processes it

    got: list[str] = []
    b_started = threading.Event()

    def worker_b() -> None:
        b_started.set()
        got.append(q.get())

    b = start(worker_b)
    b_started.wait()
    b.join(0.05)
    assert b.is_alive() and got == []  # still blocked: A has not called done
    q.done("foo")
    b.join()
    assert got == ["foo"]
    q.done("foo")
    assert len(q) == 0
    q.shut_down()
    with pytest.raises(QueueShutDown):
        q.get()


def test_len_counts_only_waiting_items() -> None:
    q: Queue[int] = Queue()
    q.add(1)
    q.add(2)
    item = q.get()
    assert len(q) == 1
    q.add(item)  # re-added while processing: not in the queue yet
    assert len(q) == 1
    q.done(item)
    assert len(q) == 2
    q.shut_down()


@pytest.mark.parametrize("drain", [False, True])
def test_many_producers_and_consumers_then_shut_down(drain: bool) -> None:
    """S56: 50 producers, 10 consumers that re-add each item up to twice."""
    q: Queue[int] = Queue()
    lock = threading.Lock()
    processed: dict[int, int] = {}
    in_flight: set[int] = set()
    overlaps: list[int] = []

    def producer(i: int) -> None:
        q.add(i)

    def consumer() -> None:
        while True:
            try:
                item = q.get()
            except QueueShutDown:
                return
            with lock:
                if item in in_flight:
                    overlaps.append(item)
                in_flight.add(item)
                processed[item] = processed.get(item, 0) + 1
                again = processed[item] <= 2
            if again:
                q.add(item)
            with lock:
                in_flight.discard(item)
            q.done(item)

    consumers = [start(consumer) for _ in range(10)]
    producers = [start(producer, i) for i in range(50)]
    for p in producers:
        p.join()
    # Every item is processed three times (the first add and two re-adds) before shut down.
    while True:
        with lock:
            if sum(processed.values()) == 150:
                break
        threading.Event().wait(0.001)
    if drain:
        q.shut_down_with_drain()
    else:
        q.shut_down()
    for c in consumers:
        c.join()
    assert len(q) == 0
    assert overlaps == []
    assert processed == {i: 3 for i in range(50)}
    q.add(99)  # ignored after shut down
    assert len(q) == 0


def test_shut_down_with_drain_waits_for_in_flight_items() -> None:
    """S57: drain blocks until both in-flight items are done; get reports shut down meanwhile."""
    q: Queue[str] = Queue()
    q.add("a")
    q.add("b")
    a, b = q.get(), q.get()
    drained = threading.Event()

    def drainer() -> None:
        q.shut_down_with_drain()
        drained.set()

    t = start(drainer)
    while not q.shutting_down():
        threading.Event().wait(0.001)
    with pytest.raises(QueueShutDown):
        q.get()
    q.done(a)
    assert not drained.wait(0.05)
    q.done(b)
    t.join()
    assert drained.is_set()


def test_shut_down_ends_a_waiting_drain() -> None:
    """S57: a concurrent shut_down() unblocks shut_down_with_drain."""
    q: Queue[str] = Queue()
    q.add("a")
    q.get()
    t = start(q.shut_down_with_drain)
    while not q.shutting_down():
        threading.Event().wait(0.001)
    q.shut_down()
    t.join()
    assert not t.is_alive()


def test_drain_with_an_item_re_added_while_in_flight() -> None:
    """S57: done re-queues the dirty item, get hands it out once more, then reports shut down."""
    q: Queue[str] = Queue()
    q.add("a")
    item = q.get()
    q.add("a")  # dirty while in flight
    t = start(q.shut_down_with_drain)
    while not q.shutting_down():
        threading.Event().wait(0.001)
    q.done(item)
    assert q.get() == "a"
    q.done("a")
    t.join()
    with pytest.raises(QueueShutDown):
        q.get()


def test_shut_down_wakes_blocked_getters_and_hands_out_remaining_items() -> None:
    q: Queue[str] = Queue()
    results: list[str] = []

    def getter() -> None:
        try:
            results.append(q.get())
        except QueueShutDown:
            results.append("shutdown")

    getters = [start(getter) for _ in range(3)]
    while True:  # let the getters block
        threading.Event().wait(0.01)
        if all(g.is_alive() for g in getters):
            break
    q.shut_down()
    q.shut_down()  # idempotent
    for g in getters:
        g.join()
    assert results == ["shutdown"] * 3

    q2: Queue[str] = Queue()
    q2.add("left")
    q2.shut_down()
    assert q2.get() == "left"
    with pytest.raises(QueueShutDown):
        q2.get()
