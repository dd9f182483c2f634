"""The asyncio informer against the kgen.testing API server under the sync informer's fault
matrix (tests/cache/test_informer_e2e.py, shared: schedule, writer, checks).

An independent writer (the sync client, in a thread) creates, patches and deletes ConfigMaps
while the server cuts, half-opens and corrupts watches, answers 429/5xx, stalls and compacts
its history (410: relist). Afterwards the async informer's cache, a plain-function handler's
view and a slow coroutine handler's view must equal the server's list, each handler having seen
a consistent sequence; a calm phase must then converge through watches alone. Debug mode; no
task, session or socket may be left behind.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from kgen.cache import Backoff
from kgen.cache.aio import AsyncListWatch, AsyncSharedIndexInformer
from kgen.client import ResourceClient
from kgen.rest import Config, RESTClient
from kgen.rest.aio import AsyncRESTClient
from kgen.testing import APIServer
from tests.aio_helpers import run
from tests.cache.test_informer_e2e import (
    CONFIGMAPS,
    WATCH_READ_TIMEOUT,
    ConfigMap,
    ConfigMapList,
    ConsistencyChecker,
    Writer,
    check_fired,
    converger,
    exercise,
    namespace,
    prepare,
    server,
)

__all__ = ["namespace", "server"]  # the fixtures, shared with the sync test

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

SEEDS = 8
"""Fault schedules, one per seed (the sync test runs 20 of the same kind)."""


class SlowAsyncChecker(ConsistencyChecker):
    """The consistency checker as a coroutine handler that awaits a little before each
    notification (it must not stall the other handler, nor the informer)."""

    async def on_add(self, obj: Any, is_in_initial_list: bool) -> None:  # type: ignore[override]
        await asyncio.sleep(self.delay)
        super().on_add(obj, is_in_initial_list)

    async def on_update(self, old: Any, new: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(self.delay)
        super().on_update(old, new)

    async def on_delete(self, obj: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(self.delay)
        super().on_delete(obj)

    def _pause(self) -> None:
        pass  # the coroutine methods wait instead, without blocking the loop


@pytest.mark.parametrize("seed", range(1, SEEDS + 1))
def test_async_informer_converges_under_faults(
    server: APIServer, namespace: str, seed: int
) -> None:
    rng = random.Random(seed)
    faults = server.faults
    faults.clear()
    fired_before = len(faults.fired)
    plain, slow = ConsistencyChecker(), SlowAsyncChecker(delay=0.002)

    async def main() -> None:
        config = Config(
            host=server.url,
            bearer_token=server.token,
            qps=-1,
            watch_read_timeout=WATCH_READ_TIMEOUT,
        )
        with RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest:
            writer_client: ResourceClient[dict[str, Any], dict[str, Any]] = ResourceClient(
                rest, CONFIGMAPS, dict, dict, namespace
            )
            reader = ResourceClient(rest, CONFIGMAPS, ConfigMap, ConfigMapList, namespace)
            async with AsyncRESTClient(config) as client:
                informer: AsyncSharedIndexInformer[ConfigMap] = AsyncSharedIndexInformer(
                    AsyncListWatch.for_resource(
                        client, CONFIGMAPS, ConfigMap, ConfigMapList, namespace=namespace
                    ),
                    ConfigMap,
                    name=f"configmaps-async-{seed}",
                    backoff=Backoff(initial=0.01, cap=0.05, jitter=0.0),
                )
                informer.add_event_handler(plain)
                informer.add_event_handler(slow)
                writer = Writer(rng, writer_client)
                schedule, compaction = await asyncio.to_thread(prepare, server, rng, writer)
                informer.start()
                try:
                    converged = converger(reader, informer.get_indexer(), [plain, slow])
                    await asyncio.to_thread(
                        exercise, server, namespace, writer, schedule, compaction, converged
                    )
                finally:
                    await informer.stop()
                    faults.clear()

    run(main)
    assert plain.problems == [] and slow.problems == []
    check_fired(faults, fired_before)
