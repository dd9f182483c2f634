"""The async reflector and delta queue with a scripted in-memory lister-watcher (the test
decides every list answer and watch event): the list/watch/relist sequence the sync reflector
follows, driven by the shared rules, and the async delta queue's consumer. Debug mode."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kgen.cache import (
    Backoff,
    DeletedFinalStateUnknown,
    Deltas,
    DeltaType,
    FIFOClosedError,
    Indexer,
    ListFailedError,
)
from kgen.cache.aio import AsyncDeltaFIFO, AsyncReflector
from kgen.meta import Status
from kgen.rest import ListOptions, WatchEvent
from kgen.rest.watch import watch_error
from tests.aio_helpers import run
from tests.cache.objects import Pod, pod
from tests.cache.scripted import pod_list, status_error

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


class FakeAsyncWatch:
    """One watch: the test pushes events; ``ERROR`` raises as AsyncWatch does."""

    def __init__(self, options: ListOptions) -> None:
        self.options = options
        self.events: asyncio.Queue[WatchEvent[Any] | None] = asyncio.Queue()
        self.stopped = False

    def __aiter__(self) -> FakeAsyncWatch:
        return self

    async def __anext__(self) -> WatchEvent[Any]:
        event = await self.events.get()
        if event is None or self.stopped:
            raise StopAsyncIteration
        if event.type == "ERROR":
            raise watch_error(event.object)
        return event

    def send(self, type_: str, obj: object) -> None:
        self.events.put_nowait(WatchEvent(type_, obj))  # type: ignore[arg-type]

    def stop(self) -> None:
        self.stopped = True
        self.events.put_nowait(None)


class ScriptedAsync:
    """Lists answer from ``lists`` in order (results or exceptions); watches are handed to the
    test through a queue."""

    def __init__(self, lists: list[object]) -> None:
        self.lists = lists
        self.list_calls: list[ListOptions] = []
        self.watches: asyncio.Queue[FakeAsyncWatch] = asyncio.Queue()

    async def list(self, options: ListOptions) -> Any:
        self.list_calls.append(options)
        answer = self.lists.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def watch(self, options: ListOptions) -> FakeAsyncWatch:
        watch = FakeAsyncWatch(options)
        self.watches.put_nowait(watch)
        return watch


async def until(condition: Any, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.001)


def test_list_fails_then_lists_watches_and_relists_after_410() -> None:
    async def main() -> None:
        lw = ScriptedAsync(
            [
                status_error(500, "InternalError"),
                pod_list("10", pod("a", rv="9")),
                status_error(410, "Expired"),  # the relist at the last version: gone
                pod_list("20", pod("a", rv="9")),
            ]
        )
        store: Indexer[Pod] = Indexer()
        errors: list[BaseException] = []
        reflector = AsyncReflector(
            lw,
            store,
            expected_type=Pod,
            backoff=Backoff(initial=0.001, jitter=0.0),
            watch_error_handler=lambda _, err: errors.append(err),
        )
        task = asyncio.create_task(reflector.run())
        first = await lw.watches.get()
        assert [o.resource_version for o in lw.list_calls] == ["0", "0"]
        assert isinstance(errors[0], ListFailedError)
        assert first.options.resource_version == "10" and first.options.allow_watch_bookmarks
        assert 300 <= (first.options.timeout_seconds or 0) < 600
        first.send("ADDED", pod("b", rv="11"))
        first.send("BOOKMARK", pod("", rv="15"))
        await until(lambda: reflector.last_sync_resource_version() == "15")
        assert sorted(store.list_keys()) == ["default/a", "default/b"]
        first.send("ERROR", Status(status="Failure", code=410, reason="Expired"))
        second = await lw.watches.get()
        # a 410 watch ends the round; the relist at "15" is gone too, so it reads consistently
        assert [o.resource_version for o in lw.list_calls] == ["0", "0", "15", ""]
        assert second.options.resource_version == "20" and first.stopped
        assert store.list_keys() == ["default/a"]
        second.send("MODIFIED", pod("a", rv="21"))
        await until(lambda: reflector.last_sync_resource_version() == "21")
        second.stop()  # the server ends the watch: the reflector watches again from "21"
        third = await lw.watches.get()
        assert third.options.resource_version == "21" and len(lw.list_calls) == 4
        reflector.stop()
        await task
        assert third.stopped

    run(main)


def test_the_async_delta_queue_awaits_and_infers_deletions() -> None:
    async def main() -> None:
        known: Indexer[Pod] = Indexer()
        known.add(pod("gone", rv="1"))
        fifo = AsyncDeltaFIFO(known_objects=known, emit_delta_type_replaced=True)
        popped: list[tuple[str, list[DeltaType], bool]] = []

        def process(deltas: Deltas, initial: bool) -> None:
            newest = deltas.newest
            assert newest is not None
            popped.append((fifo_key(newest.object), [d.type for d in deltas], initial))

        def fail(err: BaseException) -> None:
            raise AssertionError(err)

        drain = asyncio.create_task(fifo.drain(process, fail))
        await asyncio.sleep(0)
        assert not drain.done()  # nothing queued: it waits
        fifo.replace([pod("a", rv="2")], "2")
        fifo.update(pod("a", rv="3"))
        assert await drain == 2
        assert popped == [
            ("default/a", [DeltaType.REPLACED, DeltaType.UPDATED], True),
            ("default/gone", [DeltaType.DELETED], True),
        ]
        assert fifo.has_synced()
        fifo.close()
        with pytest.raises(FIFOClosedError):
            await fifo.drain(process, fail)

    run(main)


def fifo_key(obj: object) -> str:
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    assert isinstance(obj, Pod) and obj.metadata.name
    return f"{obj.metadata.namespace}/{obj.metadata.name}"
