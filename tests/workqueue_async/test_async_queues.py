"""The asyncio work queues: the sync queue's semantics (checked against the thread queue on
random operation sequences), waking, cancellation, shut down and drain, delays and rate limits
through the sync rate limiters. Every test runs in debug mode and leaves no task behind."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgen.clock import FakeClock
from kgen.workqueue import (
    ItemExponentialFailureRateLimiter,
    Queue,
    QueueShutDown,
    RateLimitingQueue,
)
from kgen.workqueue.aio import AsyncDelayingQueue, AsyncQueue, AsyncRateLimitingQueue
from tests.aio_helpers import run
from tests.workqueue.test_metrics import MemoryProvider

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 5)),
        st.tuples(st.just("get"), st.just(0)),
        st.tuples(st.just("done"), st.integers(0, 5)),
    ),
    max_size=60,
)


async def settle() -> None:
    """Let every ready task run until it waits again."""
    for _ in range(10):
        await asyncio.sleep(0)


@settings(max_examples=60, deadline=None)
@given(ops)
def test_async_queue_hands_out_what_the_thread_queue_does(sequence: list[tuple[str, int]]) -> None:
    async def main() -> None:
        sync: Queue[int] = Queue()
        aq: AsyncQueue[int] = AsyncQueue()
        held: set[int] = set()
        for op, item in sequence:
            if op == "add":
                sync.add(item)
                aq.add(item)
            elif op == "get" and len(sync):
                got = sync.get()
                assert await aq.get() == got
                held.add(got)
            elif op == "done" and item in held:
                sync.done(item)
                aq.done(item)
                held.discard(item)
            assert len(aq) == len(sync)
        sync.shut_down()
        await aq.shut_down()

    run(main)


def test_waiting_getters_are_woken_one_item_each() -> None:
    async def main() -> None:
        q: AsyncQueue[str] = AsyncQueue()
        getters = [asyncio.create_task(q.get()) for _ in range(3)]
        await settle()
        assert not any(g.done() for g in getters)
        q.add("a")
        q.add("b")
        q.add("a")  # dirty already: not queued twice
        await settle()
        assert sorted(g.result() for g in getters if g.done()) == ["a", "b"]
        waiting = [g for g in getters if not g.done()]
        q.add("a")  # held by a worker: queued again only when it is done
        await settle()
        assert not waiting[0].done()
        q.done("a")
        assert await waiting[0] == "a"
        await q.shut_down()

    run(main)


def test_a_cancelled_getter_passes_its_item_on() -> None:
    async def main() -> None:
        q: AsyncQueue[str] = AsyncQueue()
        first = asyncio.create_task(q.get())
        second = asyncio.create_task(q.get())
        await settle()
        q.add("x")  # wakes the first getter...
        first.cancel()  # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await second == "x"
        await q.shut_down()

    run(main)


def test_shut_down_hands_out_what_is_queued_then_raises() -> None:
    async def main() -> None:
        q: AsyncQueue[str] = AsyncQueue(name="shut")
        waiting = asyncio.create_task(q.get())
        await settle()
        q.add("a")
        q.add("b")
        assert await waiting == "a"
        blocked = asyncio.create_task(AsyncQueue[str]().get())
        await settle()
        blocked.cancel()
        await q.shut_down()
        assert q.shutting_down()
        q.add("c")  # ignored
        assert await q.get() == "b"
        with pytest.raises(QueueShutDown):
            await q.get()
        with pytest.raises(asyncio.CancelledError):
            await blocked

    run(main)


def test_shut_down_wakes_every_waiting_getter() -> None:
    async def main() -> None:
        q: AsyncQueue[str] = AsyncQueue()
        getters = [asyncio.create_task(q.get()) for _ in range(2)]
        await settle()
        await q.shut_down()
        results = await asyncio.gather(*getters, return_exceptions=True)
        assert all(isinstance(r, QueueShutDown) for r in results)

    run(main)


def test_shut_down_with_drain_waits_for_the_items_handed_out() -> None:
    async def main() -> None:
        q: AsyncQueue[str] = AsyncQueue()
        q.add("a")
        q.add("b")
        a, b = await q.get(), await q.get()
        drain = asyncio.create_task(q.shut_down_with_drain())
        await settle()
        q.done(a)
        await settle()
        assert not drain.done()
        q.done(b)
        await drain

        # a plain shut down ends a waiting drain
        q2: AsyncQueue[str] = AsyncQueue()
        q2.add("a")
        await q2.get()
        drain = asyncio.create_task(q2.shut_down_with_drain())
        await settle()
        assert not drain.done()
        await q2.shut_down()
        await drain

    run(main)


def test_add_after_orders_by_ready_time_and_keeps_the_earlier() -> None:
    async def main() -> None:
        q: AsyncDelayingQueue[str] = AsyncDelayingQueue(name="delay")
        q.add_after("late", 0.2)
        q.add_after("early", 0.02)
        q.add_after("late", 0.04)  # moves earlier
        q.add_after("early", 5.0)  # later than parked: ignored
        q.add_after("now", 0)
        assert q.waiting() == 2
        got = [await q.get() for _ in range(3)]
        assert got == ["now", "early", "late"]
        assert q.waiting() == 0
        q.add_after("dropped", 60)
        await q.shut_down()  # the waiter task ends; the parked item is dropped
        q.add_after("ignored", 0)
        assert len(q) == 0

    run(main)


def test_rate_limited_retries_share_the_sync_limiter_arithmetic() -> None:
    async def main() -> None:
        limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(
            0.001, 1.0
        )
        q: AsyncRateLimitingQueue[str] = AsyncRateLimitingQueue(limiter)
        for _ in range(3):
            q.add_rate_limited("k")
            assert await q.get() == "k"
            q.done("k")
        assert q.num_requeues("k") == 3
        # the same limiter object drives a thread queue too: one failure history
        sync: RateLimitingQueue[str] = RateLimitingQueue(limiter)
        assert sync.num_requeues("k") == 3
        sync.shut_down()
        q.forget("k")
        assert q.num_requeues("k") == 0 and limiter.when("k") == 0.001
        await q.shut_down_with_drain()

    run(main)


def test_metrics_are_the_thread_queues() -> None:
    async def main() -> None:
        clock = FakeClock()
        provider = MemoryProvider()
        q: AsyncDelayingQueue[str] = AsyncDelayingQueue(
            name="web", clock=clock, metrics_provider=provider
        )
        q.add("a")
        q.add("b")
        q.add("a")
        m = {kind: provider.metrics[(kind, "web")] for kind, _ in provider.metrics}
        assert m["adds"].value == 2 and m["depth"].value == 2
        clock.step(0.25)
        item = await q.get()
        assert m["depth"].value == 1 and m["latency"].observations == [0.25]
        clock.step(0.5)
        q.done(item)
        assert m["work_duration"].observations == [0.5]
        q.add_after("c", 0)
        assert m["retries"].value == 1
        await q.shut_down()  # also ends the unfinished-work refresher task

    run(main)
