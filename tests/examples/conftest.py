"""Fixtures of the example controllers' tests.

One test API server per module, over HTTPS (a self-signed CA; the token is sent only over TLS, as
kubectl does), serving Kubernetes 1.35 (ConfigMaps, Events, Leases) and kgen's example CRDs. The examples are scripts, not a package: ``examples/`` and ``generated/`` are put
on ``sys.path`` for each module and the modules imported from there are forgotten afterwards, so
that other tests generating their own ``kgen_databases`` never see this one.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kgen.rest import Config, RESTClient
from kgen.testing import APIServer

from .helpers import IMPORT_PATHS, REPO, create_namespace

if TYPE_CHECKING:
    from kgen_databases.clientset import Clientset

EXAMPLE_SPEC = REPO / "openapi-specs" / "databases.kgen.dev.yaml"
IMPORTED = ("kgen_databases", "database_controller", "leader_elected", "async_database_controller")

_namespaces = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def example_imports() -> Iterator[None]:
    sys.path[:0] = IMPORT_PATHS
    yield
    for path in IMPORT_PATHS:
        sys.path.remove(path)
    for name in list(sys.modules):
        if name.split(".")[0] in IMPORTED:
            del sys.modules[name]


@pytest.fixture(scope="module")
def server(specs_dir: Path) -> Iterator[APIServer]:
    specs = [specs_dir / "kubernetes" / "v1.35" / "swagger.json", EXAMPLE_SPEC]
    with APIServer(specs=specs, tls="self-signed") as s:
        yield s
    assert not [t for t in threading.enumerate() if _is_server_thread(t)], "server threads left"


@pytest.fixture
def config(server: APIServer) -> Config:
    assert server.ca_pem
    return Config(
        host=server.url, bearer_token=server.token, ca_data=server.ca_pem, qps=-1, timeout=10
    )


@pytest.fixture
def rest(config: Config) -> Iterator[RESTClient]:
    """A REST client for the test's own reads and writes."""
    with RESTClient(config) as client:
        yield client


@pytest.fixture
def clientset(config: Config) -> Iterator[Clientset]:
    """The generated package's clientset, for the test's own reads and writes."""
    from kgen_databases.clientset import Clientset

    clientset = Clientset(config)
    yield clientset
    clientset.rest_client.close()


@pytest.fixture
def namespace(rest: RESTClient) -> str:
    """A fresh namespace, so that tests sharing the module's server do not see each other."""
    name = f"test-{next(_namespaces)}"
    create_namespace(rest, name)
    return name


def _is_server_thread(thread: threading.Thread) -> bool:
    """A request thread of the module's API server (joined when the server stops)."""
    return thread.name == "kgen-apiserver" or "process_request_thread" in thread.name


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    """Fail the test if a thread it started (other than the server's) is still alive."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while True:
        left = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not _is_server_thread(t)
        ]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not left, f"threads left running: {[t.name for t in left]}"
