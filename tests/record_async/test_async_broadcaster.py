"""The asyncio event broadcaster against kgen.testing's API server: events created then
patched through AsyncRESTEventSink (the sync broadcaster's program), coroutine and logging
watchers, recorders called from other threads, and a shut down that cuts retry pauses short
and awaits every task. Debug mode; nothing left behind (``run``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgen.clock import FakeClock
from kgen.meta import Model
from kgen.record import Event
from kgen.record.aio import AsyncEventBroadcaster, AsyncRESTEventSink
from kgen.rest import Config, RESTClient
from kgen.rest.aio import AsyncRESTClient
from kgen.spec import load
from kgen.testing import APIServer
from tests.aio_helpers import run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1"},
}


class EventList(Model):
    items: tuple[Event, ...]


@pytest.fixture(scope="module")
def server(specs_dir: Path) -> Iterator[APIServer]:
    model = load([specs_dir / "kubernetes" / "v1.30" / "swagger.json"], [])
    with APIServer(model) as running:
        config = Config(host=running.url, bearer_token=running.token, qps=-1)
        with RESTClient(config) as rest:
            namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
            rest.post().group_version("", "v1").resource("namespaces").body(namespace).do()
        yield running


async def stored(client: AsyncRESTClient) -> list[Event]:
    request = client.get().group_version("", "v1").namespace("shop").resource("events")
    return sorted((await request.do()).into(EventList).items, key=lambda e: str(e.reason))


def test_events_are_created_then_patched_and_watched(server: APIServer) -> None:
    async def main() -> None:
        config = Config(host=server.url, bearer_token=server.token, qps=-1)
        clock = FakeClock()
        seen: list[str] = []
        lines: list[str] = []

        async def watch(event: Event) -> None:
            await asyncio.sleep(0)
            seen.append(str(event.reason))

        async with AsyncRESTClient(config) as client:
            async with AsyncEventBroadcaster(clock=clock) as broadcaster:
                broadcaster.start_recording_to_sink(AsyncRESTEventSink(client))
                broadcaster.start_event_watcher(watch)
                broadcaster.start_logging(lines.append)
                recorder = broadcaster.new_recorder("shop-controller")
                recorder.event(POD, "Warning", "BackOff", "restarting")
                clock.step(5)
                recorder.event(POD, "Warning", "BackOff", "restarting")
                # from a worker thread: handed to the loop
                await asyncio.to_thread(recorder.event, POD, "Normal", "Pulled", "image pulled")
            # leaving the block delivered everything queued and awaited the watcher tasks
            events = await stored(client)
        assert [(e.reason, e.count, e.message) for e in events] == [
            ("BackOff", 2, "restarting"),
            ("Pulled", 1, "image pulled"),
        ]
        assert seen == ["BackOff", "BackOff", "Pulled"]
        assert lines[0] == "Event(Pod shop/web-0): type: 'Warning' reason: 'BackOff' restarting"

    run(main)


class Unreachable:
    """A sink whose every write fails like a dropped connection (retried)."""

    def __init__(self) -> None:
        self.tries = 0

    async def create(self, event: Event) -> Event:
        self.tries += 1
        raise ConnectionResetError("connection reset")

    async def update(self, event: Event) -> Event:
        raise AssertionError("not called")

    async def patch(self, event: Event, data: bytes) -> Event:
        raise AssertionError("not called")


def test_shut_down_cuts_retry_pauses_short() -> None:
    async def main() -> None:
        sink = Unreachable()
        broadcaster = AsyncEventBroadcaster(sleep_duration=60.0, max_tries=5)
        broadcaster.start_recording_to_sink(sink)
        broadcaster.new_recorder("shop-controller").event(POD, "Normal", "Synced", "ok")
        async with asyncio.timeout(10):
            while sink.tries == 0:
                await asyncio.sleep(0.01)
            await broadcaster.shutdown()  # the pause before the second try ends at once
        assert sink.tries == 1
        broadcaster.new_recorder("late").event(POD, "Normal", "Synced", "dropped")
        with pytest.raises(RuntimeError):
            broadcaster.start_logging(print)

    run(main)
