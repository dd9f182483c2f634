"""The asyncio discovery-backed REST mapper against kgen.testing's server, with the sync
DeferredDiscoveryRESTMapper as the judge, and its snapshot contract (a resource installed later
is seen by the next mapper, not by the old one)."""

from __future__ import annotations

import time

import pytest

from kgen.client import GroupKind, GroupVersionResource
from kgen.discovery import DiscoveryClient, MemCacheClient
from kgen.discovery.aio import AsyncDiscoveryClient
from kgen.dynamic import DynamicClient
from kgen.rest import Config, RESTClient
from kgen.rest.aio import AsyncRESTClient
from kgen.restmapper import DeferredDiscoveryRESTMapper, NoResourceMatchError, RESTScope
from kgen.restmapper.aio import discovery_rest_mapper
from tests.rest_async.conftest import run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

TYPED = ["deploy", "po", "cm", "hpa", "jobs", "cronjobs.batch", "ing", "ns", "deployments.apps"]
CRDS = GroupVersionResource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
        "scope": "Cluster",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object"}},
            }
        ],
    },
}


def _typed(text: str) -> GroupVersionResource:
    resource, _, group = text.partition(".")
    return GroupVersionResource(group, "", resource)


def test_the_async_mapper_answers_as_the_sync_one(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as rest:
            mapper = await discovery_rest_mapper(AsyncDiscoveryClient(rest))
        with RESTClient(config) as sync_rest:
            judge = DeferredDiscoveryRESTMapper(MemCacheClient(DiscoveryClient(sync_rest)))
            for text in TYPED:
                assert mapper.resource_for(_typed(text)) == judge.resource_for(_typed(text))
                assert mapper.kind_for(_typed(text)) == judge.kind_for(_typed(text))
            mapping = mapper.rest_mapping(GroupKind("apps", "Deployment"))
            assert mapping == judge.rest_mapping(GroupKind("apps", "Deployment"))
            assert mapping.scope is RESTScope.NAMESPACE
            assert mapper.resource_singularizer("pods") == "pod"

    run(main)


def test_a_mapper_is_a_snapshot_and_the_next_one_sees_new_resources(config: Config) -> None:
    async def main() -> None:
        async with AsyncRESTClient(config) as rest:
            discovery = AsyncDiscoveryClient(rest)
            before = await discovery_rest_mapper(discovery)
            with RESTClient(config) as sync_rest:
                crds = DynamicClient(sync_rest).resource(CRDS)
                crds.create(WIDGET_CRD)
                try:
                    deadline = time.monotonic() + 10
                    while True:
                        after = await discovery_rest_mapper(discovery)
                        try:
                            found = after.resource_for(GroupVersionResource("", "", "wd"))
                            break
                        except NoResourceMatchError:
                            assert time.monotonic() < deadline, "the CRD never appeared"
                    assert found == GroupVersionResource("example.com", "v1", "widgets")
                    with pytest.raises(NoResourceMatchError):
                        before.resource_for(GroupVersionResource("", "", "wd"))
                    widget = after.rest_mapping(GroupKind("example.com", "Widget"))
                    assert widget.scope is RESTScope.ROOT
                finally:
                    crds.delete("widgets.example.com")

    run(main)
