"""AsyncRESTClient on the scripted loopback server of the sync REST tests, where the wire can be
seen and broken: the headers sent (defaults, credentials, impersonation as repeated lines), and
connection resets (retried after one second for GET and for watches, never for other verbs; a
watch whose connection keeps failing ends empty): the same rules (``kgen.rest._headers``,
``kgen.rest._retry``) as the sync client's ``tests/rest/test_auth.py`` and ``test_retry.py``."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from kgen.rest import Config, ImpersonationConfig
from kgen.rest.aio import AsyncRESTClient
from tests.rest.server import LoopbackServer

from .conftest import run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


def client_for(server: LoopbackServer, sleeps: list[float]) -> AsyncRESTClient:
    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return AsyncRESTClient(Config(host=server.url, qps=-1), sleep=fake_sleep)


def test_headers_defaults_credentials_and_repeated_impersonation_lines(
    loopback: LoopbackServer,
) -> None:
    loopback.reply(201, b"{}")
    imp = ImpersonationConfig(user="alice", groups=("dev", "ops"), extra={"scopes": ("a", "b")})
    config = Config(
        host=loopback.url, bearer_token="t0k", impersonate=imp, user_agent="ua/1", qps=-1
    )

    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            await client.post().abs_path("/a").body({"x": 1}).do()

    run(main)
    seen = loopback.requests[0]
    assert seen.header_values("Authorization") == ["Bearer t0k"]
    assert seen.header_values("Accept") == ["application/json, */*"]
    assert seen.header_values("User-Agent") == ["ua/1"]
    assert seen.header_values("Content-Type") == ["application/json"]
    assert seen.header_values("Impersonate-User") == ["alice"]
    assert seen.header_values("Impersonate-Group") == ["dev", "ops"]
    assert seen.header_values("Impersonate-Extra-scopes") == ["a", "b"]
    assert seen.body == b'{"x":1}'


def test_a_reset_is_retried_for_get(loopback: LoopbackServer) -> None:
    loopback.reply_reset()
    loopback.reply_reset()
    loopback.reply(200, b"{}")
    sleeps: list[float] = []

    async def main() -> int:
        async with client_for(loopback, sleeps) as client:
            return (await client.get().abs_path("/a").do()).status_code

    assert run(main) == 200
    assert len(loopback.requests) == 3 and sleeps == [1.0, 1.0]


def test_a_reset_is_not_retried_for_post(loopback: LoopbackServer) -> None:
    loopback.reply_reset()
    loopback.reply(200, b"{}")
    sleeps: list[float] = []

    async def main() -> None:
        async with client_for(loopback, sleeps) as client:
            with pytest.raises(aiohttp.ClientError):
                await client.post().abs_path("/a").body(b"{}").do()

    run(main)
    assert len(loopback.requests) == 1 and sleeps == []


def test_a_watch_whose_connection_keeps_failing_ends_empty(loopback: LoopbackServer) -> None:
    for _ in range(3):
        loopback.reply_reset()
    sleeps: list[float] = []

    async def main() -> list[object]:
        async with client_for(loopback, sleeps) as client:
            watch = await client.get().abs_path("/w").max_retries(2).watch(dict)
            return [event async for event in watch]

    assert run(main) == []
    assert len(loopback.requests) == 3 and sleeps == [1.0, 1.0]


def test_proxy_url_and_the_environments_proxy_carry_the_requests(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback.reply(200, b"{}")
    loopback.reply(200, b"{}")
    loopback.reply(200, b"{}")
    monkeypatch.setenv("http_proxy", loopback.url)
    monkeypatch.setenv("no_proxy", "direct.invalid")
    for name in ("HTTP_PROXY", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)

    async def main() -> None:
        configured = Config(host="http://cluster.invalid:6443", proxy_url=loopback.url, qps=-1)
        async with AsyncRESTClient(configured) as client:
            await client.get().group_version("", "v1").resource("pods").do()
        from_env = Config(host="http://other.invalid:6443", qps=-1)
        async with AsyncRESTClient(from_env) as client:
            await client.get().abs_path("/version").do()
        exempt = Config(host="http://direct.invalid:6443", qps=-1)
        async with AsyncRESTClient(exempt) as client:
            with pytest.raises(aiohttp.ClientError):  # no proxy: the name does not resolve
                await client.get().abs_path("/version").max_retries(0).do()

    run(main)
    assert [seen.target for seen in loopback.requests] == [
        "http://cluster.invalid:6443/api/v1/pods",
        "http://other.invalid:6443/version",
    ]
