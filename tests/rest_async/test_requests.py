"""AsyncRESTClient against kgen.testing.APIServer over TLS with token auth: CRUD with typed
decoding, patches of every type, server-side apply, paging, errors and their predicates,
retries, timeouts, throttling, warnings, credentials. Every test runs in asyncio debug mode and
fails on leftovers (see ``conftest.run``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import aiohttp
import pytest

from kgen.meta import Status
from kgen.rest import (
    AsyncTokenBucket,
    Config,
    StatusError,
    TokenBucket,
    WarningWriter,
    is_already_exists,
    is_conflict,
    is_internal_error,
    is_invalid,
    is_not_found,
    is_too_many_requests,
)
from kgen.rest.aio import AsyncRESTClient
from kgen.testing import APIServer
from tests.rest.models import Pod

from .conftest import request_threads, run, wait_for

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


def pods(client: AsyncRESTClient, verb: str = "get", namespace: str = "default") -> Any:
    request = client.verb(verb) if verb != "patch" else None
    assert request is not None
    return request.group_version("", "v1").namespace(namespace).resource("pods")


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]},
    }


def test_crud_with_typed_decoding(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            created = await pods(client, "POST").body(pod("crud-a", app="web")).do()
            assert created.was_created
            assert created.into(Pod).metadata.name == "crud-a"  # type: ignore[union-attr]
            got = (await pods(client).name("crud-a").do()).into(Pod)
            assert got.metadata.labels == {"app": "web"}  # type: ignore[union-attr]
            updated = json.loads((await pods(client).name("crud-a").do()).body)
            updated["metadata"]["labels"]["tier"] = "front"
            put = await pods(client, "PUT").name("crud-a").body(updated).do()
            assert put.json()["metadata"]["labels"] == {"app": "web", "tier": "front"}
            await pods(client, "DELETE").name("crud-a").do()
            with pytest.raises(StatusError) as caught:
                await pods(client).name("crud-a").do()
            assert is_not_found(caught.value)
            assert caught.value.code == 404

    run(main)


def test_patches_of_every_type_and_server_side_apply(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            await pods(client, "POST").body(pod("patch-a", app="web")).do()

            def patch(kind: str) -> Any:
                return client.patch(kind).group_version("", "v1").namespace("default")

            merged = await (
                patch("application/merge-patch+json")
                .resource("pods")
                .name("patch-a")
                .body({"metadata": {"labels": {"merge": "yes"}}})
                .do()
            )
            assert merged.json()["metadata"]["labels"]["merge"] == "yes"
            json_patch = b'[{"op":"add","path":"/metadata/labels/json","value":"yes"}]'
            jsoned = await (
                patch("application/json-patch+json")
                .resource("pods")
                .name("patch-a")
                .body(json_patch)
                .do()
            )
            assert jsoned.json()["metadata"]["labels"]["json"] == "yes"
            strategic = {"spec": {"containers": [{"name": "side", "image": "busybox"}]}}
            spatched = await (
                patch("application/strategic-merge-patch+json")
                .resource("pods")
                .name("patch-a")
                .body(strategic)
                .do()
            )
            names = [c["name"] for c in spatched.json()["spec"]["containers"]]
            assert names == ["app", "side"]  # merged by the container name, not replaced

            def apply(manager: str, image: str) -> Any:
                applied = pod("apply-a")
                applied["spec"]["containers"][0]["image"] = image
                del applied["metadata"]["labels"]
                return (
                    patch("application/apply-patch+yaml")
                    .resource("pods")
                    .name("apply-a")
                    .param("fieldManager", manager)
                    .body(applied)
                )

            first = await apply("alice", "nginx:1").do()  # apply creates
            assert first.was_created
            assert first.json()["spec"]["containers"][0]["image"] == "nginx:1"
            with pytest.raises(StatusError) as caught:
                await apply("bob", "nginx:2").do()
            assert is_conflict(caught.value)  # another manager owns the image
            forced = await apply("bob", "nginx:2").param("force", "true").do()
            assert forced.json()["spec"]["containers"][0]["image"] == "nginx:2"
            managers = {m["manager"] for m in forced.json()["metadata"]["managedFields"]}
            assert "bob" in managers

    run(main)


def test_list_with_paging(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            await client.post().group_version("", "v1").resource("namespaces").body(
                {"metadata": {"name": "paging"}}
            ).do()
            for i in range(7):
                await pods(client, "POST", "paging").body(pod(f"p{i}", app="paged")).do()
            seen: list[str] = []
            sizes: list[int] = []
            async for page in (
                pods(client, "GET", "paging").param("labelSelector", "app=paged").pages(3)
            ):
                items = page.json()["items"]
                sizes.append(len(items))
                seen += [item["metadata"]["name"] for item in items]
            assert sizes == [3, 3, 1]
            assert sorted(seen) == [f"p{i}" for i in range(7)]
            with pytest.raises(ValueError, match="limit must be positive"):
                pods(client).pages(0)

    run(main)


def test_errors_are_the_sync_clients(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            await pods(client, "POST").body(pod("err-a")).do()
            with pytest.raises(StatusError) as caught:
                await pods(client, "POST").body(pod("err-a")).do()
            assert is_already_exists(caught.value)
            with pytest.raises(StatusError) as caught:
                await pods(client, "POST").body({"metadata": {"name": "Bad_Name"}}).do()
            assert is_invalid(caught.value) and caught.value.code == 422
            with pytest.raises(ValueError, match="resource name may not be empty"):
                await pods(client).name("").do()
            with pytest.raises(ValueError, match="already set"):
                await pods(client).namespace("other").do()
            with pytest.raises(ValueError, match="bytes bodies only"):
                import io

                await pods(client, "POST").body(io.BytesIO(b"{}")).do()
            bad = await pods(client).name("err-a").do()
            with pytest.raises(Exception, match="does not decode as Status"):
                bad.into(Status)

    run(main)


def test_retries_on_429_and_500_with_retry_after(server: APIServer, config: Config) -> None:
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def main() -> None:
        async with AsyncRESTClient(config, sleep=fake_sleep) as client:
            await pods(client, "POST").body(pod("retry-a")).do()
            server.faults.fail(429, retry_after=2, verb="get", resource="pods", times=2)
            got = await pods(client).name("retry-a").do()
            assert got.json()["metadata"]["name"] == "retry-a"
            server.faults.fail(500, retry_after=1, verb="get", resource="pods", times=1)
            assert (await pods(client).name("retry-a").do()).status_code == 200
            assert sleeps == [2, 2, 1]
            server.faults.fail(500, verb="get", resource="pods")  # no Retry-After: final
            with pytest.raises(StatusError) as caught:
                await pods(client).name("retry-a").do()
            assert is_internal_error(caught.value)
            server.faults.fail(429, retry_after=0, verb="get", resource="pods", times=None)
            with pytest.raises(StatusError) as caught:
                await pods(client).name("retry-a").max_retries(2).do()
            assert is_too_many_requests(caught.value)
            fired = [f for f in server.faults.fired if f[0] == "status"]
            assert len(fired) == 2 + 1 + 1 + 3

    run(main)


def test_timeouts_end_slow_requests_naming_them(server: APIServer, config: Config) -> None:
    async def main() -> None:
        config.timeout = 0.3
        async with AsyncRESTClient(config) as client:
            server.faults.delay(3.0, verb="get", resource="configmaps")
            started = asyncio.get_running_loop().time()
            with pytest.raises(TimeoutError, match=r"GET .*configmaps/slow"):
                await client.get().group_version("", "v1").namespace("default").resource(
                    "configmaps"
                ).name("slow").do()
            assert asyncio.get_running_loop().time() - started < 2.0
            request = client.get().group_version("", "v1").resource("pods")
            assert "timeout=300ms" in request.url()

    run(main)


def test_requests_are_throttled_by_a_shared_token_bucket(config: Config) -> None:
    now = [0.0]
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(2.0, 2, clock=lambda: now[0])
    config.rate_limiter = bucket

    async def main() -> None:
        async with AsyncRESTClient(config, sleep=fake_sleep) as client:
            assert isinstance(client.rate_limiter, AsyncTokenBucket)
            assert client.rate_limiter.bucket is bucket  # the sync client's arithmetic, shared
            for _ in range(4):
                await client.get().abs_path("/version").do()
        assert sleeps == [0.5, 0.5]  # burst of 2, then 2 per second

    run(main)


def test_warnings_reach_the_handler(config: Config) -> None:
    import io

    out = io.StringIO()
    config.warning_handler = WarningWriter(out)

    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            await client.post().group_version("", "v1").namespace("default").resource(
                "configmaps"
            ).body({"metadata": {"name": "warned"}, "data": {"a": "1"}, "unknownField": 1}).do()

    run(main)
    assert "unknown field" in out.getvalue()


class CountingProvider:
    """A blocking auth provider (as an exec plugin is): runs in a thread, rotates its token."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.calls = 0
        self.rejected = 0

    def authorize(self, headers: MutableMapping[str, str]) -> None:
        self.calls += 1
        headers["Authorization"] = f"Bearer {self.tokens[0]}"

    def client_certificate(self) -> tuple[bytes, bytes] | None:
        return None

    def on_unauthorized(self) -> bool:
        self.rejected += 1
        self.tokens.pop(0)
        return True


def test_a_rotating_provider_token_is_refreshed_on_401(server: APIServer, config: Config) -> None:
    provider = CountingProvider(["stale", server.token])
    config.bearer_token = ""
    config.auth_provider = provider

    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            result = await client.get().abs_path("/api").do()
            assert result.json()["kind"] == "APIVersions"

    run(main)
    assert provider.calls == 2 and provider.rejected == 1


def test_a_connection_refused_is_an_aiohttp_error(config: Config) -> None:
    async def main() -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        async with AsyncRESTClient(Config(host=f"http://127.0.0.1:{port}", qps=-1)) as client:
            with pytest.raises(aiohttp.ClientConnectorError):
                await client.get().abs_path("/version").do()

    run(main)


def test_bad_configs_fail_at_construction_as_the_sync_client() -> None:
    with pytest.raises(ValueError, match="not a URL or host:port"):
        AsyncRESTClient(Config(host="https://bad host:port"))
    with pytest.raises(ValueError, match="not both"):
        AsyncRESTClient(Config(bearer_token="t", username="u"))


def test_cancelling_a_list_ends_it_at_once_and_drops_its_connection(
    server: APIServer, config: Config
) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as client:
            assert await asyncio.to_thread(wait_for, lambda: request_threads() == 0)
            server.faults.delay(1.0, verb="list", resource="configmaps")
            listing = client.get().group_version("", "v1").resource("configmaps").do()
            task = asyncio.create_task(listing)
            await asyncio.sleep(0.2)
            assert request_threads() == 1
            loop = asyncio.get_running_loop()
            cancelled_at = loop.time()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert loop.time() - cancelled_at < 0.1
            # Once the delayed answer is written, the server finds the connection gone (a
            # connection back in the pool would keep its thread waiting for the next request).
            assert await asyncio.to_thread(wait_for, lambda: request_threads() == 0, 4.0)

    run(main)
