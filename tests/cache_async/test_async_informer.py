"""The asyncio informer, reflector and factory against kgen.testing's API server: handler
kinds (plain, coroutine, function bundles), one delivery task per handler, late handlers,
transforms and indexers, resync, bookmarks, paging with the expired-token fallback, listers
read from other threads, the factory's lifecycle. Debug mode; nothing left behind (``run``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kgen.cache import (
    Backoff,
    Indexer,
    Lister,
    ResourceEventHandlerDetailedFuncs,
    ResourceEventHandlerFuncs,
    meta_namespace_key,
)
from kgen.cache.aio import (
    AsyncListWatch,
    AsyncReflector,
    AsyncSharedIndexInformer,
    AsyncSharedInformerFactory,
)
from kgen.client import ResourceClient
from kgen.meta import meta_name, meta_resource_version
from kgen.pager import async_paged_list
from kgen.rest import Config, ListOptions, RESTClient
from kgen.rest.aio import AsyncRESTClient
from kgen.testing import APIServer
from tests.aio_helpers import run
from tests.cache.test_informer_e2e import (
    CONFIGMAPS,
    ConfigMap,
    ConfigMapList,
    namespace,
    server,
)

__all__ = ["namespace", "server"]

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

Main = Callable[[AsyncRESTClient, "Writes"], Awaitable[None]]


class Writes:
    """The sync client writing ConfigMaps, each call in a worker thread (an independent
    writer: the loop never blocks on it)."""

    def __init__(self, rest: RESTClient, namespace: str) -> None:
        self.client: ResourceClient[dict[str, Any], dict[str, Any]] = ResourceClient(
            rest, CONFIGMAPS, dict, dict, namespace
        )

    async def create(self, name: str, **data: str) -> dict[str, Any]:
        body = {"metadata": {"name": name}, "data": data}
        return await asyncio.to_thread(self.client.create, body)

    async def update(self, name: str, **data: str) -> dict[str, Any]:
        def change() -> dict[str, Any]:
            obj = self.client.get(name)
            obj["data"] = data
            return self.client.update(obj)

        return await asyncio.to_thread(change)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self.client.delete, name)


def with_clients(server: APIServer, namespace: str, main: Main) -> None:
    config = Config(host=server.url, bearer_token=server.token, qps=-1)

    async def body() -> None:
        with RESTClient(config) as rest:
            async with AsyncRESTClient(config) as client:
                await main(client, Writes(rest, namespace))

    run(body)


def informer_of(
    client: AsyncRESTClient, namespace: str, resync: float = 0.0
) -> AsyncSharedIndexInformer[ConfigMap]:
    lw = AsyncListWatch.for_resource(
        client, CONFIGMAPS, ConfigMap, ConfigMapList, namespace=namespace
    )
    return AsyncSharedIndexInformer(lw, ConfigMap, resync, name="configmaps")


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.005)


class Log:
    """Records ``(event, name, data value)`` for each notification."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def note(self, kind: str, obj: Any) -> None:
        data = obj.data if isinstance(obj, ConfigMap) and isinstance(obj.data, dict) else {}
        self.events.append((kind, meta_name(obj), data.get("v", "")))


class PlainHandler(Log):
    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self.note("add-initial" if is_in_initial_list else "add", obj)

    def on_update(self, old: Any, new: Any) -> None:
        self.note("update", new)

    def on_delete(self, obj: Any) -> None:
        self.note("delete", obj)


class CoroutineHandler(PlainHandler):
    async def on_add(self, obj: Any, is_in_initial_list: bool) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_add(obj, is_in_initial_list)

    async def on_update(self, old: Any, new: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_update(old, new)

    async def on_delete(self, obj: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_delete(obj)


EXPECTED = [
    ("add-initial", "a", "1"),
    ("add", "b", "1"),
    ("update", "a", "2"),
    ("delete", "b", "1"),
]


def test_plain_coroutine_and_function_handlers_see_the_same_sequence(
    server: APIServer, namespace: str
) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        await writes.create("a", v="1")
        informer = informer_of(client, namespace)
        plain, coro, funcs_log, detailed_log = PlainHandler(), CoroutineHandler(), Log(), Log()

        async def async_add(obj: Any) -> None:
            await asyncio.sleep(0)
            funcs_log.note("add", obj)

        informer.add_event_handler(plain)
        informer.add_event_handler(coro)
        informer.add_event_handler(
            ResourceEventHandlerFuncs(
                add_func=async_add,
                update_func=lambda old, new: funcs_log.note("update", new),
                delete_func=lambda obj: funcs_log.note("delete", obj),
            )
        )
        informer.add_event_handler(
            ResourceEventHandlerDetailedFuncs(
                add_func=lambda obj, initial: detailed_log.note(
                    "add-initial" if initial else "add", obj
                )
            )
        )
        async with informer:
            assert await informer.wait_for_cache_sync(timeout=10)
            await writes.create("b", v="1")
            await writes.update("a", v="2")
            await writes.delete("b")
            await until(lambda: len(plain.events) == 4 and len(coro.events) == 4)
            await until(lambda: len(funcs_log.events) == 4)
        assert plain.events == coro.events == EXPECTED
        assert funcs_log.events == [("add", "a", "1"), *EXPECTED[1:]]
        assert detailed_log.events == EXPECTED[:2]
        assert informer.is_stopped

    with_clients(server, namespace, main)


def test_a_stalled_handler_stalls_nobody_else(server: APIServer, namespace: str) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        gate = asyncio.Event()
        stalled, free = PlainHandler(), PlainHandler()

        async def blocked_add(obj: Any) -> None:
            await gate.wait()
            stalled.note("add", obj)

        informer = informer_of(client, namespace)
        informer.add_event_handler(ResourceEventHandlerFuncs(add_func=blocked_add))
        informer.add_event_handler(free)
        async with informer:
            await informer.wait_for_cache_sync(timeout=10)
            for name in "xyz":
                await writes.create(name, v="1")
            await until(lambda: [e[1] for e in free.events] == list("xyz"))
            assert len(informer.get_indexer()) == 3 and stalled.events == []
            gate.set()
            await until(lambda: len(stalled.events) == 3)
            assert [e[1] for e in stalled.events] == list("xyz")

    with_clients(server, namespace, main)


def test_a_late_handler_catches_up_and_reports_synced(server: APIServer, namespace: str) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        await writes.create("a", v="1")
        await writes.create("b", v="1")
        informer = informer_of(client, namespace)
        async with informer:
            await informer.wait_for_cache_sync(timeout=10)
            late = CoroutineHandler()
            registration = informer.add_event_handler(late)
            await until(registration.has_synced)
            assert sorted(late.events) == [("add-initial", "a", "1"), ("add-initial", "b", "1")]
            await informer.remove_event_handler(registration)
            await writes.create("c", v="1")
            await until(lambda: len(informer.get_indexer()) == 3)
            assert len(late.events) == 2

    with_clients(server, namespace, main)


def test_transform_indexers_and_listers_read_from_any_thread(
    server: APIServer, namespace: str
) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        await writes.create("apple", v="1", secret="s")
        await writes.create("avocado", v="1")
        await writes.create("banana", v="1")
        informer = informer_of(client, namespace)

        def drop_secret(obj: object) -> object:
            assert isinstance(obj, ConfigMap)
            if isinstance(obj.data, dict):
                obj.data.pop("secret", None)
            return obj

        def by_initial(obj: object) -> list[str]:
            return [meta_name(obj)[:1]]

        informer.set_transform(drop_secret)
        informer.add_indexers({"initial": by_initial})
        async with informer:
            await informer.wait_for_cache_sync(timeout=10)
            cache = informer.get_indexer()
            assert sorted(meta_name(o) for o in cache.by_index("initial", "a")) == [
                "apple",
                "avocado",
            ]
            lister: Lister[ConfigMap] = Lister(cache, "configmaps")

            def read_in_a_thread() -> tuple[str, dict[str, str] | None, str]:
                obj = lister.namespace(namespace).get("apple")
                data = obj.data if isinstance(obj.data, dict) else None
                return meta_name(obj), data, threading.current_thread().name

            name, data, thread = await asyncio.to_thread(read_in_a_thread)
            assert name == "apple" and data == {"v": "1"}
            assert thread != threading.current_thread().name

    with_clients(server, namespace, main)


def test_resync_redelivers_the_cache_as_updates(server: APIServer, namespace: str) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        await writes.create("a", v="1")
        informer = informer_of(client, namespace, resync=1.0)
        resyncs: list[tuple[str, str]] = []

        def on_update(old: Any, new: Any) -> None:
            resyncs.append((meta_resource_version(old), meta_resource_version(new)))

        informer.add_event_handler(ResourceEventHandlerFuncs(update_func=on_update))
        assert informer.resync_check_period == 1.0
        async with informer:
            await until(lambda: len(resyncs) >= 2, seconds=15)
        assert all(old == new for old, new in resyncs)

    with_clients(server, namespace, main)


def test_bookmarks_advance_the_resource_version(server: APIServer, namespace: str) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        await writes.create("a", v="1")
        informer = informer_of(client, namespace)
        config = Config(host=server.url, bearer_token=server.token, qps=-1)
        async with informer:
            await informer.wait_for_cache_sync(timeout=10)
            listed = int(informer.last_sync_resource_version())
            # Writes elsewhere move the server's version; only bookmarks can tell this watch.
            with RESTClient(config) as rest:
                elsewhere = Writes(rest, "default")
                await elsewhere.create(f"elsewhere-{listed}")
                await elsewhere.delete(f"elsewhere-{listed}")
            await until(lambda: int(informer.last_sync_resource_version()) > listed)
        assert len(informer.get_indexer()) == 1

    with_clients(server, namespace, main)


def list_queries(server: APIServer, namespace: str) -> list[str]:
    prefix = f"/api/v1/namespaces/{namespace}/configmaps?"
    return [
        p for m, p in server.requests if m == "GET" and p.startswith(prefix) and "watch" not in p
    ]


def test_the_reflector_pages_its_list(server: APIServer, namespace: str) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        for i in range(5):
            await writes.create(f"cm-{i}")
        store: Indexer[ConfigMap] = Indexer()
        lw = AsyncListWatch.for_resource(
            client, CONFIGMAPS, ConfigMap, ConfigMapList, namespace=namespace
        )
        reflector = AsyncReflector(
            lw, store, expected_type=ConfigMap, page_size=2, backoff=Backoff(initial=0.01)
        )
        # The first list ("0": any cached state) is served whole; a 410 on the first watch
        # makes the reflector relist at its version, which the server pages.
        server.faults.fail(410, verb="watch", resource="configmaps")
        task = asyncio.create_task(reflector.run())
        await until(lambda: len(list_queries(server, namespace)) >= 4)
        await writes.create("cm-5")
        await until(lambda: len(store) == 6)
        reflector.stop()
        await task
        queries = list_queries(server, namespace)
        assert all("limit=2" in q for q in queries)
        assert ["continue=" in q for q in queries] == [False, False, True, True]
        assert "resourceVersion=0" in queries[0] and "resourceVersion=0" not in queries[1]
        assert sorted(store.list_keys()) == [f"{namespace}/cm-{i}" for i in range(6)]

    with_clients(server, namespace, main)


def test_async_paging_falls_back_to_a_full_list_when_a_token_expires(
    server: APIServer, namespace: str
) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        for i in range(6):
            await writes.create(f"cm-{i}")
        lw = AsyncListWatch.for_resource(client, CONFIGMAPS, dict, dict, namespace=namespace)
        calls: list[ListOptions] = []

        async def compacting(options: ListOptions) -> Any:
            calls.append(options)
            page = await lw.list(options)
            if len(calls) == 1:  # the snapshot the token points into goes away
                await writes.create("late")
                await asyncio.to_thread(server.compact)
            return page

        result = await async_paged_list(compacting, ListOptions(resource_version=""), page_size=4)
        assert [(c.limit, bool(c.continue_)) for c in calls] == [(4, False), (4, True), (0, False)]
        assert sorted(meta_name(o) for o in result.items) == sorted(
            [f"cm-{i}" for i in range(6)] + ["late"]
        )
        assert result.paginated

    with_clients(server, namespace, main)


def test_the_factory_shares_starts_on_demand_and_awaits_everything(
    server: APIServer, namespace: str
) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        await writes.create("a", v="1")
        before = len(list_queries(server, namespace))
        async with AsyncSharedInformerFactory(client, namespace=namespace) as factory:
            informer = factory.for_resource(CONFIGMAPS, ConfigMap, ConfigMapList)
            assert factory.for_resource(CONFIGMAPS, ConfigMap, ConfigMapList) is informer
            handler = CoroutineHandler()
            informer.add_event_handler(handler)
            await asyncio.sleep(0.05)
            assert not informer.is_started and len(list_queries(server, namespace)) == before
            factory.start()
            assert await factory.wait_for_cache_sync(timeout=10) == {CONFIGMAPS: True}
            lister = factory.lister_for(CONFIGMAPS, ConfigMap)
            assert meta_namespace_key(lister.namespace(namespace).get("a")) == f"{namespace}/a"
            await until(lambda: handler.events == [("add-initial", "a", "1")])
        assert informer.is_stopped
        factory.start()  # after shut down: nothing starts
        late = factory.for_resource(CONFIGMAPS, dict)
        assert late is informer and informer.is_stopped

    with_clients(server, namespace, main)


def test_streaming_list_against_the_server(server: APIServer, namespace: str) -> None:
    async def main(client: AsyncRESTClient, writes: Writes) -> None:
        await writes.create("a", v="1")
        await writes.create("b", v="1")
        lw = AsyncListWatch.for_resource(
            client, CONFIGMAPS, ConfigMap, ConfigMapList, namespace=namespace
        )
        informer: AsyncSharedIndexInformer[ConfigMap] = AsyncSharedIndexInformer(
            lw, ConfigMap, use_watch_list=True
        )
        handler = PlainHandler()
        informer.add_event_handler(handler)
        async with informer:
            assert await informer.wait_for_cache_sync(timeout=10)
            await writes.delete("a")
            await writes.create("c", v="1")
            await until(
                lambda: sorted(informer.get_indexer().list_keys())
                == [f"{namespace}/b", f"{namespace}/c"]
            )
            await until(lambda: len(handler.events) == 4)
        assert sorted(handler.events[:2]) == [("add-initial", "a", "1"), ("add-initial", "b", "1")]
        assert handler.events[2:] == [("delete", "a", "1"), ("add", "c", "1")]
        prefix = f"/api/v1/namespaces/{namespace}/configmaps?"
        requests = [path for method, path in server.requests if path.startswith(prefix)]
        assert requests and all("watch=true" in path for path in requests)
        assert "sendInitialEvents=true" in requests[0]
        assert "resourceVersionMatch=NotOlderThan" in requests[0]

    with_clients(server, namespace, main)
