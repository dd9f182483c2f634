"""An async informer over a generated async typed client (``AsyncListWatch.from_client``):
typed objects in the cache and in handlers, a lister over it, with a label selector passed
through ``tweak_list_options``. Debug mode, no leftovers (``run``)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from kgen.cache import Lister, ResourceEventHandlerFuncs
from kgen.cache.aio import AsyncListWatch, AsyncSharedIndexInformer
from kgen.meta import ObjectMeta
from kgen.rest import Config
from tests.rest_async.conftest import run

from .conftest import module

pytestmark = [
    pytest.mark.filterwarnings("error::ResourceWarning"),
    pytest.mark.usefixtures("generated"),
]


def test_an_async_informer_over_a_generated_async_client(config: Config) -> None:
    core = module("models.core_v1")
    clientset = module("aio").AsyncClientset

    async def main() -> None:
        async with clientset(config) as cs:
            await cs.core_v1.namespaces().create(core.Namespace(metadata=ObjectMeta(name="inf")))
            cms = cs.core_v1.config_maps("inf")
            for name, app in (("a", "web"), ("b", "db")):
                await cms.create(
                    core.ConfigMap(metadata=ObjectMeta(name=name, labels={"app": app}))
                )
            lw = AsyncListWatch.from_client(
                cms, lambda options: dataclasses.replace(options, label_selector="app=web")
            )
            informer: AsyncSharedIndexInformer[Any] = AsyncSharedIndexInformer(lw, core.ConfigMap)
            added: list[Any] = []

            async def on_add(obj: Any) -> None:
                added.append(obj)

            informer.add_event_handler(ResourceEventHandlerFuncs(add_func=on_add))
            async with informer:
                assert await informer.wait_for_cache_sync(timeout=10)
                await cms.create(
                    core.ConfigMap(metadata=ObjectMeta(name="c", labels={"app": "web"}))
                )
                async with asyncio.timeout(10):
                    while len(added) < 2:
                        await asyncio.sleep(0.01)
                lister: Lister[Any] = Lister(informer.get_indexer(), "configmaps")
                assert sorted(o.metadata.name for o in lister.namespace("inf").list()) == ["a", "c"]
            assert all(isinstance(o, core.ConfigMap) for o in added)

    run(main)
