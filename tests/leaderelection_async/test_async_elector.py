"""The asyncio leader elector over real Leases (AsyncRESTLeaseLock through AsyncRESTClient
against kgen.testing): hand-over on stop with release, cancellation winding down like a stop,
and a thread elector and an async one taking turns on one Lease (one program, two drivers).
Debug mode; nothing left behind (``run``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgen.leaderelection import (
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElector,
    Lease,
    LeaseSpec,
    RESTLeaseLock,
)
from kgen.leaderelection.aio import (
    AsyncLeaderCallbacks,
    AsyncLeaderElectionConfig,
    AsyncLeaderElector,
    AsyncRESTLeaseLock,
)
from kgen.rest import Config, RESTClient
from kgen.rest.aio import AsyncRESTClient
from kgen.spec import load
from kgen.testing import APIServer
from tests.aio_helpers import run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

TIMING = {"lease_duration": 1.5, "renew_deadline": 1.0, "retry_period": 0.1}


@pytest.fixture(scope="module")
def server(specs_dir: Path) -> Iterator[APIServer]:
    model = load([specs_dir / "kubernetes" / "v1.30" / "swagger.json"], [])
    with APIServer(model) as running:
        with RESTClient(config_of(running)) as rest:
            for name in ("handover", "cancel", "mixed"):
                namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                rest.post().group_version("", "v1").resource("namespaces").body(namespace).do()
        yield running


def config_of(server: APIServer) -> Config:
    return Config(host=server.url, bearer_token=server.token, qps=-1)


async def holder(client: AsyncRESTClient, namespace: str) -> str:
    request = client.get().group_version("coordination.k8s.io", "v1").namespace(namespace)
    spec = (await request.resource("leases").name("ctl").do()).into(Lease).spec
    assert isinstance(spec, LeaseSpec)
    return spec.holder_identity if isinstance(spec.holder_identity, str) else ""


class Candidate:
    """An async elector whose leading coroutine records its start and its cancellation."""

    def __init__(self, client: AsyncRESTClient, namespace: str, identity: str) -> None:
        self.identity = identity
        self.leading = asyncio.Event()
        self.log: list[str] = []
        self.leaders: list[str] = []
        lock = AsyncRESTLeaseLock(client, namespace, "ctl", identity)
        self.elector = AsyncLeaderElector(
            AsyncLeaderElectionConfig(
                lock=lock,
                callbacks=AsyncLeaderCallbacks(
                    on_started_leading=self.lead,
                    on_stopped_leading=lambda: self.log.append("stopped leading"),
                    on_new_leader=self.leaders.append,
                ),
                release_on_cancel=True,
                **TIMING,
            )
        )

    async def lead(self) -> None:
        self.log.append("leading")
        self.leading.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.log.append("work cancelled")
            raise


async def within(awaitable: object, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        await awaitable  # type: ignore[misc]


def test_two_async_candidates_hand_over_on_stop(server: APIServer) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config_of(server)) as client:
            a, b = Candidate(client, "handover", "a"), Candidate(client, "handover", "b")
            run_a = asyncio.create_task(a.elector.run())
            await within(a.leading.wait())
            run_b = asyncio.create_task(b.elector.run())
            async with asyncio.timeout(10):
                while b.leaders != ["a"]:
                    await asyncio.sleep(0.01)
            assert not b.leading.is_set() and not b.elector.is_leader()
            assert await holder(client, "handover") == "a"
            a.elector.stop()
            await within(run_a)
            assert a.log == ["leading", "work cancelled", "stopped leading"]
            await within(b.leading.wait())  # released: no need to wait out the lease
            assert b.elector.is_leader() and b.leaders[-1] == "b"
            assert await holder(client, "handover") == "b"
            b.elector.stop()
            await within(run_b)
            assert await holder(client, "handover") == ""

    run(main)


def test_cancelling_the_elector_task_winds_down_like_a_stop(server: APIServer) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config_of(server)) as client:
            a = Candidate(client, "cancel", "a")
            task = asyncio.create_task(a.elector.run())
            await within(a.leading.wait())
            task.cancel()
            async with asyncio.timeout(5):
                with pytest.raises(asyncio.CancelledError):
                    await task
            assert a.log == ["leading", "work cancelled", "stopped leading"]
            assert await holder(client, "cancel") == ""  # released on the way out

    run(main)


def test_a_thread_elector_and_an_async_one_take_turns(server: APIServer) -> None:
    async def main() -> None:
        with RESTClient(config_of(server)) as rest:
            async with AsyncRESTClient(config_of(server)) as client:
                started = asyncio.Event()
                loop = asyncio.get_running_loop()

                def work(stop: object) -> None:
                    loop.call_soon_threadsafe(started.set)
                    stop.wait()  # type: ignore[attr-defined]

                threaded = LeaderElector(
                    LeaderElectionConfig(
                        lock=RESTLeaseLock(rest, "mixed", "ctl", "thread"),
                        callbacks=LeaderCallbacks(
                            on_started_leading=work, on_stopped_leading=lambda: None
                        ),
                        release_on_cancel=True,
                        **TIMING,
                    )
                )
                thread_run = asyncio.create_task(asyncio.to_thread(threaded.run))
                await within(started.wait())
                asynchronous = Candidate(client, "mixed", "async")
                async_run = asyncio.create_task(asynchronous.elector.run())
                async with asyncio.timeout(10):
                    while asynchronous.leaders != ["thread"]:
                        await asyncio.sleep(0.01)
                assert not asynchronous.leading.is_set()
                threaded.stop()
                await within(thread_run)
                await within(asynchronous.leading.wait())
                assert await holder(client, "mixed") == "async"
                asynchronous.elector.stop()
                await within(async_run)

    run(main)
