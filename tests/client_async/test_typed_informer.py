"""The generated async informers of the 1.35 package (``aiok135.aio.informers``) against
kgen.testing's API server: the factory's typed accessors share one informer per type, scoped to
the factory's namespace (cluster-scoped types ignore it), the cache syncs, plain and coroutine
handlers see adds, updates and deletes in order, the generated (sync) listers read the cache,
and leaving the factory's block leaves no task behind. Debug mode, no leftovers (``run``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kgen.cache import ResourceEventHandlerFuncs
from kgen.client import GroupVersionResource
from kgen.meta import ObjectMeta
from kgen.rest import Config, StatusError, is_not_found
from tests.rest_async.conftest import run

from .conftest import module

pytestmark = [
    pytest.mark.filterwarnings("error::ResourceWarning"),
    pytest.mark.usefixtures("generated"),
]


def _recorder(seen: list[tuple[str, str]]) -> tuple[Any, Any, Any]:
    def add(obj: Any) -> None:
        seen.append(("add", obj.metadata.name))

    def update(old: Any, new: Any) -> None:
        seen.append(("update", f"{new.metadata.name}={new.data['v']}"))

    def delete(obj: Any) -> None:
        seen.append(("delete", obj.metadata.name))

    return add, update, delete


def test_typed_async_informers_sync_notify_and_list(config: Config) -> None:
    core = module("models.core_v1")
    clientset = module("aio").AsyncClientset
    factory_class = module("aio.informers").AsyncSharedInformerFactory
    lister_class = module("listers.core_v1").ConfigMapLister

    def config_map(name: str, value: str) -> Any:
        return core.ConfigMap(metadata=ObjectMeta(name=name), data={"v": value})

    async def main() -> None:
        async with clientset(config) as cs:
            for ns in ("tinf", "other"):
                await cs.core_v1.namespaces().create(core.Namespace(metadata=ObjectMeta(name=ns)))
            cms = cs.core_v1.config_maps("tinf")
            await cms.create(config_map("a", "1"))
            await cs.core_v1.config_maps("other").create(config_map("elsewhere", "1"))

            plain: list[tuple[str, str]] = []
            awaited: list[tuple[str, str]] = []
            add, update, delete = _recorder(awaited)

            async def on_add(obj: Any) -> None:
                await asyncio.sleep(0)
                add(obj)

            async def on_update(old: Any, new: Any) -> None:
                await asyncio.sleep(0)
                update(old, new)

            async def on_delete(obj: Any) -> None:
                await asyncio.sleep(0)
                delete(obj)

            async with factory_class(cs, 0, namespace="tinf") as factory:
                informers = factory.core_v1.config_maps()
                p_add, p_update, p_delete = _recorder(plain)
                informers.add_event_handler(ResourceEventHandlerFuncs(p_add, p_update, p_delete))
                informers.add_event_handler(ResourceEventHandlerFuncs(on_add, on_update, on_delete))
                lister = informers.lister()
                assert isinstance(lister, lister_class)
                assert factory.core_v1.config_maps().informer() is informers.informer()
                namespaces = factory.core_v1.namespaces().lister()  # asking creates the informer
                gvr = GroupVersionResource("", "v1", "configmaps")
                factory.for_resource(gvr, core.ConfigMap, core.ConfigMapList)  # via cs.rest_client
                factory.start()
                synced = await factory.wait_for_cache_sync(timeout=10)
                assert list(synced.values()) == [True, True, True]
                generic = factory.lister_for(gvr, core.ConfigMap).namespace("tinf").list()
                assert [c.metadata.name for c in generic] == ["a"]

                assert [c.metadata.name for c in lister.list()] == ["a"]
                ns_names = {n.metadata.name for n in namespaces.list()}
                assert {"tinf", "other"} <= ns_names, "cluster-scoped: no namespace filter"

                await cms.create(config_map("b", "1"))
                await cms.update(config_map("a", "2"))
                await cms.delete("a")
                expected = [("add", "a"), ("add", "b"), ("update", "a=2"), ("delete", "a")]
                async with asyncio.timeout(10):
                    while len(plain) < 4 or len(awaited) < 4:
                        await asyncio.sleep(0.01)
                assert plain == expected and awaited == expected

                got = lister.namespace("tinf").get("b")
                assert isinstance(got, core.ConfigMap) and got.data == {"v": "1"}
                with pytest.raises(StatusError) as missing:
                    lister.namespace("tinf").get("a")
                assert is_not_found(missing.value)
                assert [c.metadata.name for c in lister.list()] == ["b"]
            assert asyncio.all_tasks() == {asyncio.current_task()}, "shutdown awaited every task"

    run(main)
