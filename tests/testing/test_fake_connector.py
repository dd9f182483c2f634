"""kgen.testing.aio.FakeConnector: AsyncRESTClient's aiohttp path served in-process by a Fake
(or a bare Handler) of the real 1.35 API, on a socket pair and a thread per connection. The
twin of ``test_fake.py``'s session tests, plus what only a connection has: keep-alive reuse,
the connection limit, a half-open watch given up on, a closed client reused. Every test runs in
asyncio debug mode, fails on pending tasks and ResourceWarnings, and must end with no
connection thread left."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.rest import Config, StatusError, is_not_found
from kgen.rest.aio import AsyncRESTClient
from kgen.spec import load
from kgen.spec.model import APIModel
from kgen.testing import Fake, ObjectTracker
from kgen.testing._handler import Handler
from kgen.testing.aio import FakeConnector
from tests.aio_helpers import run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


@pytest.fixture(scope="module")
def model(specs_dir: Path) -> APIModel:
    return load([specs_dir / "kubernetes/v1.35/swagger.json"])


@pytest.fixture(autouse=True)
def _no_thread_left() -> Iterator[None]:
    before = threading.active_count()
    yield
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]


def _client(target: Fake | Handler, **options: Any) -> AsyncRESTClient:
    config = Config(host=Fake.url, qps=-1)
    return AsyncRESTClient(config, connector_factory=FakeConnector.factory(target), **options)


def _pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }


def _pods(client: AsyncRESTClient, method: str = "GET") -> Any:
    return client.verb(method).group_version("", "v1").namespace("default").resource("pods")


def _connection_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "kgen-fake-connection")


def test_requests_reach_the_fake_over_one_kept_alive_connection(model: APIModel) -> None:
    fake = Fake(model)

    async def main() -> None:
        async with _client(fake) as client:
            assert (await _pods(client, "POST").body(_pod("a")).do()).was_created
            assert (await _pods(client, "POST").body(_pod("b")).do()).was_created
            listed = (await _pods(client).do()).json()
            assert [p["metadata"]["name"] for p in listed["items"]] == ["a", "b"]
            assert _connection_threads() == 1, "one connection, reused"
        assert _connection_threads() == 0, "close() waited for the connection thread"

    run(main)
    assert [(a.verb, a.resource, a.namespace) for a in fake.actions] == [
        ("create", "pods", "default"),
        ("create", "pods", "default"),
        ("list", "pods", "default"),
    ]
    assert fake.actions[0].object()["metadata"]["name"] == "a"


def test_a_bare_handler_is_served_without_recording(model: APIModel) -> None:
    handler = Handler(ObjectTracker(model))

    async def main() -> None:
        async with _client(handler) as client:
            await _pods(client, "POST").body(_pod("a")).do()
            with pytest.raises(StatusError) as missing:
                await _pods(client).name("nope").do()
            assert is_not_found(missing.value)
            assert missing.value.status.message == 'pods "nope" not found'
            listed = (await _pods(client).do()).json()
            assert [p["metadata"]["name"] for p in listed["items"]] == ["a"]

    run(main)


def test_the_connection_limit_holds_and_every_thread_ends(model: APIModel) -> None:
    """Ten concurrent requests over at most two connections: two threads, then none."""
    fake = Fake(model)
    fake.handler.faults.delay(0.05, verb="list", times=None)
    peak: list[int] = []

    async def main() -> None:
        async with _client(fake, connections=2) as client:

            async def one() -> None:
                await _pods(client).do()
                peak.append(_connection_threads())

            await asyncio.gather(*(one() for _ in range(10)))
        assert _connection_threads() == 0

    run(main)
    assert max(peak) == 2
    assert [a.verb for a in fake.actions] == ["list"] * 10


def test_a_half_open_watch_given_up_on_ends_its_thread(model: APIModel) -> None:
    """The server stops sending after one event and keeps the connection (a half-open
    fault); the client gives up (a timeout cancels the reading task) and closes: the thread
    holding the connection sees the client go and ends within the close."""
    fake = Fake(model)
    fake.tracker.add({**_pod("a"), "metadata": {"name": "a", "namespace": "default"}})
    fake.handler.faults.half_open(1)

    async def main() -> None:
        async with _client(fake) as client:
            seen: list[str] = []
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    async with await _pods(client).watch(dict) as watch:
                        async for event in watch:
                            seen.append(event.type)
            assert seen == ["ADDED"]
        assert _connection_threads() == 0

    run(main)


def test_a_closed_client_opens_a_new_connector(model: APIModel) -> None:
    fake = Fake(model)

    async def main() -> None:
        client = _client(fake)
        await _pods(client, "POST").body(_pod("a")).do()
        await client.close()
        assert _connection_threads() == 0
        assert [p["metadata"]["name"] for p in (await _pods(client).do()).json()["items"]] == ["a"]
        await client.close()
        await client.close()

    run(main)
    assert [a.verb for a in fake.actions] == ["create", "list"]
