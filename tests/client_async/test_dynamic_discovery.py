"""The async dynamic and discovery clients against kgen.testing's server, with the sync clients
as the judge: the same answers, in asyncio debug mode with nothing left open."""

from __future__ import annotations

from typing import Any

import pytest

from kgen.client import GroupVersionResource, PatchType
from kgen.discovery import DiscoveryClient
from kgen.discovery.aio import AsyncDiscoveryClient
from kgen.dynamic.aio import AsyncDynamicClient
from kgen.rest import Config, RESTClient, StatusError, is_not_found
from kgen.rest.aio import AsyncRESTClient
from tests.rest_async.conftest import run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")


def test_the_async_dynamic_client_keeps_objects_as_dicts(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as rest:
            cms = AsyncDynamicClient(rest).resource(CONFIGMAPS).namespace("default")
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn"}}
            created = await cms.create({**body, "data": {"a": "1"}})
            assert isinstance(created, dict) and created["metadata"]["namespace"] == "default"
            listed = await cms.list()
            assert listed["kind"] == "ConfigMapList" and listed["metadata"]["resourceVersion"]
            start = listed["metadata"]["resourceVersion"]
            async with cms.watch(resource_version=start, timeout_seconds=10) as events:
                patched = await cms.patch("dyn", {"data": {"b": "2"}}, PatchType.MERGE)
                assert patched["data"] == {"a": "1", "b": "2"}
                event = await anext(events)
            assert event.type == "MODIFIED" and event.object["data"]["b"] == "2"
            await cms.delete("dyn")
            with pytest.raises(StatusError) as caught:
                await cms.get("dyn")
            assert is_not_found(caught.value)

    run(main)


def _names(resource_lists: list[Any]) -> list[tuple[str, list[str]]]:
    return [(r.group_version, sorted(x.name for x in r.resources)) for r in resource_lists]


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated", "legacy"])
def test_async_discovery_answers_as_the_sync_client(config: Config, aggregated: bool) -> None:
    with RESTClient(config) as rest:
        judge = DiscoveryClient(rest, aggregated=aggregated)
        groups = judge.server_groups()
        _, every = judge.server_groups_and_resources()
        preferred = judge.server_preferred_resources()
        namespaced = judge.server_preferred_namespaced_resources()
        version = judge.server_version()
        apps = judge.server_resources_for_group_version("apps/v1")

    async def main() -> tuple[Any, ...]:
        async with AsyncRESTClient(config) as rest:
            discovery = AsyncDiscoveryClient(rest, aggregated=aggregated)
            return (
                await discovery.server_groups(),
                (await discovery.server_groups_and_resources())[1],
                await discovery.server_preferred_resources(),
                await discovery.server_preferred_namespaced_resources(),
                await discovery.server_version(),
                await discovery.server_resources_for_group_version("apps/v1"),
            )

    got = run(main)
    assert got[0] == groups and len(groups.groups) > 10
    assert _names(got[1]) == _names(every)
    assert _names(got[2]) == _names(preferred)
    assert _names(got[3]) == _names(namespaced)
    assert got[4] == version
    assert _names([got[5]]) == _names([apps]) and "deployments" in _names([apps])[0][1]
