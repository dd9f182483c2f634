"""AsyncRESTClient watches against kgen.testing.APIServer over TLS: typed events and bookmarks,
a watch the server cuts, corrupt frames and expired versions as errors, cancellation and
``stop()`` closing the connection (the server sees it go), a silent watch ending at its read
timeout, and closing the client under a running watch. Debug mode, no leftovers (``run``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kgen.rest import Config, ListOptions, StatusError, is_gone, is_not_found, is_resource_expired
from kgen.rest.aio import AsyncRESTClient, AsyncWatch
from kgen.testing import APIServer
from tests.rest.models import Pod

from .conftest import request_threads, run, wait_for

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


async def make_namespace(client: AsyncRESTClient, name: str) -> str:
    """Create ``name``; returns the resource version of its (empty) pod list."""
    await client.post().group_version("", "v1").resource("namespaces").body(
        {"metadata": {"name": name}}
    ).do()
    listed = await client.get().group_version("", "v1").namespace(name).resource("pods").do()
    return str(listed.json()["metadata"]["resourceVersion"])


async def add_pod(client: AsyncRESTClient, namespace: str, name: str) -> None:
    await client.post().group_version("", "v1").namespace(namespace).resource("pods").body(
        {"metadata": {"name": name}, "spec": {"containers": [{"name": "a", "image": "b"}]}}
    ).do()


async def watch_pods(
    client: AsyncRESTClient, namespace: str, rv: str, *, bookmarks: bool = False
) -> AsyncWatch[Pod]:
    options = ListOptions(resource_version=rv, allow_watch_bookmarks=bookmarks)
    request = client.get().group_version("", "v1").namespace(namespace).resource("pods")
    return await request.list_options(options).watch(Pod)


async def threads_back_to(count: int) -> bool:
    """Whether the server is back to ``count`` connections within a few seconds."""
    return await asyncio.to_thread(wait_for, lambda: request_threads() <= count)


def test_typed_events_and_bookmarks(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            rv = await make_namespace(client, "w-typed")
            async with await watch_pods(client, "w-typed", rv, bookmarks=True) as events:
                await add_pod(client, "w-typed", "a")
                await add_pod(client, "w-typed", "b")
                seen: list[tuple[str, str]] = []
                async with asyncio.timeout(5):
                    async for event in events:
                        if event.type == "BOOKMARK":
                            assert event.object.metadata.resource_version  # type: ignore[union-attr]
                            seen.append(("BOOKMARK", ""))
                            break
                        assert isinstance(event.object, Pod)
                        seen.append((event.type, event.object.metadata.name))  # type: ignore[union-attr]
                assert seen == [("ADDED", "a"), ("ADDED", "b"), ("BOOKMARK", "")]

    run(main)


def test_a_watch_the_server_cuts_just_ends(server: APIServer, config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            rv = await make_namespace(client, "w-cut")
            await add_pod(client, "w-cut", "a")
            await add_pod(client, "w-cut", "b")
            server.faults.close_watch(1, resource="pods")
            events = [e async for e in await watch_pods(client, "w-cut", rv)]
            assert [(e.type, e.object.metadata.name) for e in events] == [("ADDED", "a")]  # type: ignore[union-attr]

    run(main)


def test_corrupt_frames_and_expired_versions_raise(server: APIServer, config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            rv = await make_namespace(client, "w-bad")
            await add_pod(client, "w-bad", "a")
            await add_pod(client, "w-bad", "b")  # in place of its event: a malformed line
            server.faults.corrupt_watch(1, resource="pods")
            watch = await watch_pods(client, "w-bad", rv)
            first = await anext(watch)
            assert first.type == "ADDED"
            with pytest.raises(StatusError) as caught:
                await anext(watch)
            assert caught.value.causes()[0].reason == "ClientWatchDecoding"
            with pytest.raises(StopAsyncIteration):
                await anext(watch)  # over after the error
            server.compact()
            with pytest.raises(StatusError) as caught:
                async for _ in await watch_pods(client, "w-bad", rv):
                    pass
            assert is_gone(caught.value) or is_resource_expired(caught.value)
            with pytest.raises(StatusError) as caught:
                await client.get().group_version("", "v1").resource("nothings").watch(dict)
            assert is_not_found(caught.value)

    run(main)


def test_cancelling_a_watching_task_closes_its_connection(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            assert await threads_back_to(0)  # earlier tests' connections are gone
            rv = await make_namespace(client, "w-cancel")
            watch = await watch_pods(client, "w-cancel", rv)  # on the one pooled connection
            assert request_threads() == 1
            started = asyncio.Event()

            async def consume() -> list[Any]:
                started.set()
                return [event async for event in watch]

            task = asyncio.create_task(consume())
            await started.wait()
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await threads_back_to(0), "the server still serves the watch"
            with pytest.raises(StopAsyncIteration):
                await anext(watch)

    run(main)


def test_stop_from_another_task_ends_the_watch(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            assert await threads_back_to(0)
            rv = await make_namespace(client, "w-stop")
            watch = await watch_pods(client, "w-stop", rv)
            assert request_threads() == 1
            task = asyncio.create_task(anext(watch, None))
            await asyncio.sleep(0.1)
            watch.stop()
            async with asyncio.timeout(2):
                assert await task is None
            assert watch.stopped
            assert await threads_back_to(0)

    run(main)


def test_a_silent_watch_ends_at_its_read_timeout(server: APIServer, config: Config) -> None:
    config.watch_read_timeout = 0.5

    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            rv = await make_namespace(client, "w-silent")
            await add_pod(client, "w-silent", "a")
            await add_pod(client, "w-silent", "b")  # never sent: the server goes silent
            server.faults.half_open(1, resource="pods")
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with asyncio.timeout(5):  # the watch must end by itself well before this
                events = [e async for e in await watch_pods(client, "w-silent", rv)]
            assert [e.type for e in events] == ["ADDED"]
            assert 0.4 < loop.time() - started < 3

    run(main)


def test_closing_the_client_ends_a_running_watch(config: Config) -> None:
    async def main() -> None:
        client = AsyncRESTClient(config)
        assert await threads_back_to(0)
        rv = await make_namespace(client, "w-close")
        await client.get().abs_path("/version").do()
        watch = await watch_pods(client, "w-close", rv)
        assert request_threads() >= 1
        task = asyncio.create_task(anext(watch, None))
        await asyncio.sleep(0.1)
        await client.close()
        async with asyncio.timeout(2):
            assert await task is None
        assert await threads_back_to(0)

    run(main)


def test_watches_are_retried_on_retry_after_and_not_throttled(
    server: APIServer, config: Config
) -> None:
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    config.qps, config.burst = 0.001, 1  # one request, then nothing for a long while

    async def main() -> None:
        async with AsyncRESTClient(config, sleep=fake_sleep) as client:
            rv = await make_namespace(client, "w-retry")  # two requests: the second waits
            assert len(sleeps) == 1
            await add_pod(client, "w-retry", "a")
            server.faults.fail(429, retry_after=3, verb="watch", resource="pods")
            async with await watch_pods(client, "w-retry", rv) as events:
                first = await anext(events)
            assert first.type == "ADDED"
            assert sleeps[2:] == [3]  # the server's wait; no throttling before or after it

    run(main)


def test_stream_hands_out_the_body_as_it_arrives_and_close_drops_it(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            assert await threads_back_to(0)
            rv = await make_namespace(client, "w-stream")
            await add_pod(client, "w-stream", "a")
            request = client.get().group_version("", "v1").namespace("w-stream").resource("pods")
            params = request.param("watch", "true").param("resourceVersion", rv)
            async with await params.stream() as body:
                first = await anext(body)  # the server keeps the stream open: no end to wait for
                assert b'"ADDED"' in first and b'"name":"a"' in first
                assert request_threads() == 1
            assert await threads_back_to(0), "closing the stream drops its connection"
            whole = b"".join(
                [chunk async for chunk in await client.get().abs_path("/api").stream()]
            )
            assert b'"APIVersions"' in whole
            with pytest.raises(StatusError) as caught:
                await client.get().group_version("", "v1").resource("nothings").stream()
            assert is_not_found(caught.value)

    run(main)
