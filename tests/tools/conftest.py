"""A running kgen.testing API server (Kubernetes 1.30) and clients of it, for the tests of
kgen.retry, kgen.pager and kgen.watchtools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from client.apiserver import running_api
from client.wire import no_leaked_threads  # noqa: F401 - autouse fixture

from kgen.client import GroupVersionResource
from kgen.dynamic import DynamicClient, DynamicResourceClient
from kgen.rest import RESTClient
from kgen.testing import APIServer

NAMESPACES = GroupVersionResource("", "v1", "namespaces")
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")


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
