"""A running kgen.testing API server (Kubernetes 1.30) and clients of it, for the tests of
kgen.retry, kgen.pager and kgen.watchtools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from client.apiserver import running_api
from client.wire import no_leaked_threads  # noqa: F401 - autouse fixture

from kgen.client import GroupVersionResource, ResourceClient
from kgen.dynamic import DynamicClient, DynamicResourceClient
from kgen.meta import UNSET, ListMeta, Model, ObjectMeta, UnsetType
from kgen.rest import RESTClient
from kgen.testing import APIServer

NAMESPACES = GroupVersionResource("", "v1", "namespaces")
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")


class ConfigMap(Model):
    metadata: ObjectMeta
    data: dict[str, str] | None | UnsetType = UNSET


class ConfigMapList(Model):
    items: tuple[ConfigMap, ...] = ()
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


@pytest.fixture
def api(specs_dir: Path) -> Iterator[tuple[APIServer, RESTClient]]:
    with running_api(specs_dir) as pair:
        yield pair


@pytest.fixture
def server(api: tuple[APIServer, RESTClient]) -> APIServer:
    return api[0]


@pytest.fixture
def dynamic(api: tuple[APIServer, RESTClient]) -> DynamicClient:
    client = DynamicClient(api[1])
    client.resource(NAMESPACES).create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tools"}}
    )
    return client


@pytest.fixture
def configmaps(dynamic: DynamicClient) -> DynamicResourceClient:
    """ConfigMaps of the namespace ``tools``, as dicts."""
    return dynamic.resource(CONFIGMAPS).namespace("tools")


@pytest.fixture
def typed_configmaps(
    api: tuple[APIServer, RESTClient], configmaps: DynamicResourceClient
) -> ResourceClient[ConfigMap, ConfigMapList]:
    """The same ConfigMaps through a typed client."""
    return ResourceClient(api[1], CONFIGMAPS, ConfigMap, ConfigMapList, "tools")


def create_configmaps(client: DynamicResourceClient, count: int) -> list[str]:
    """``cm-000`` ... created in order; their names."""
    names = [f"cm-{i:03d}" for i in range(count)]
    for name in names:
        client.create(configmap(name, n=name))
    return names
