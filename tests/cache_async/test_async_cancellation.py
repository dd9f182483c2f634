"""Cancelling the task that runs an async factory or informer stops everything promptly, a
coroutine handler in progress included, and closes the watch connection (the server sees it
go). A server of its own, so that its connection count is this module's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from kgen.cache import ResourceEventHandlerFuncs
from kgen.cache.aio import AsyncListWatch, AsyncSharedIndexInformer, AsyncSharedInformerFactory
from kgen.rest import Config
from kgen.rest.aio import AsyncRESTClient
from kgen.testing import APIServer
from tests.aio_helpers import run
from tests.cache.test_informer_e2e import CONFIGMAPS, ConfigMap, ConfigMapList, api_model
from tests.rest_async.conftest import request_threads, wait_for

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


@pytest.fixture(scope="module")
def server() -> Iterator[APIServer]:
    with APIServer(api_model(), window=200, bookmark_interval=0.05) as running:
        yield running


async def threads_back_to(count: int) -> bool:
    return await asyncio.to_thread(wait_for, lambda: request_threads() <= count)


async def setup(client: AsyncRESTClient, namespace: str) -> None:
    await client.post().group_version("", "v1").resource("namespaces").body(
        {"metadata": {"name": namespace}}
    ).do()
    await client.post().group_version("", "v1").namespace(namespace).resource("configmaps").body(
        {"metadata": {"name": "a"}}
    ).do()


def stuck_handler(entered: asyncio.Event) -> ResourceEventHandlerFuncs:
    """A coroutine handler that never finishes its first notification."""

    async def on_add(obj: Any) -> None:
        entered.set()
        await asyncio.Event().wait()

    return ResourceEventHandlerFuncs(add_func=on_add)


def test_cancelling_the_factory_task_stops_it_and_closes_the_watch(server: APIServer) -> None:
    async def main() -> None:
        config = Config(host=server.url, bearer_token=server.token, qps=-1)
        async with AsyncRESTClient(config) as client:
            await setup(client, "cancel-factory")
            assert await threads_back_to(1)  # the one pooled connection
            synced, entered = asyncio.Event(), asyncio.Event()
            informers: list[AsyncSharedIndexInformer[Any]] = []

            async def controller() -> None:
                async with AsyncSharedInformerFactory(client, namespace="cancel-factory") as f:
                    informer = f.for_resource(CONFIGMAPS, ConfigMap, ConfigMapList)
                    informer.add_event_handler(stuck_handler(entered))
                    informers.append(informer)
                    f.start()
                    await f.wait_for_cache_sync(timeout=10)
                    synced.set()
                    await asyncio.Event().wait()

            task = asyncio.create_task(controller())
            async with asyncio.timeout(10):
                await synced.wait()
                await entered.wait()
            assert request_threads() == 1  # the watch, on the pooled connection
            task.cancel()
            async with asyncio.timeout(5):
                with pytest.raises(asyncio.CancelledError):
                    await task
            assert informers[0].is_stopped
            assert await threads_back_to(0), "the server still serves the watch"

    run(main)


def test_cancelling_a_task_awaiting_informer_run_stops_it(server: APIServer) -> None:
    async def main() -> None:
        config = Config(host=server.url, bearer_token=server.token, qps=-1)
        async with AsyncRESTClient(config) as client:
            await setup(client, "cancel-run")
            lw = AsyncListWatch.for_resource(
                client, CONFIGMAPS, ConfigMap, ConfigMapList, namespace="cancel-run"
            )
            informer: AsyncSharedIndexInformer[ConfigMap] = AsyncSharedIndexInformer(lw, ConfigMap)
            entered = asyncio.Event()
            informer.add_event_handler(stuck_handler(entered))
            task = asyncio.create_task(informer.run())
            async with asyncio.timeout(10):
                await entered.wait()
            assert informer.has_synced() and len(informer.get_indexer()) == 1
            task.cancel()
            async with asyncio.timeout(5):
                with pytest.raises(asyncio.CancelledError):
                    await task
            assert informer.is_stopped
            assert await threads_back_to(0), "the server still serves the watch"

    run(main)
