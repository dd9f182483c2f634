"""Fixtures of the async REST client tests: kgen.testing's API server over TLS with token auth,
and :func:`run`, which runs a test's coroutine in asyncio debug mode and fails it on anything
left behind (pending tasks, unclosed sessions, sockets or transports: ResourceWarning)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import trustme

from kgen.rest import Config
from kgen.testing import APIServer
from tests.aio_helpers import run
from tests.testing.conftest import small_model

__all__ = ["run"]


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server(ca: trustme.CA) -> Iterator[APIServer]:
    cert = ca.issue_cert("127.0.0.1")
    with APIServer(
        small_model(),
        tls=(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()),
        ca_pem=ca.cert_pem.bytes(),
        window=50,
        bookmark_interval=0.2,
    ) as running:
        yield running


@pytest.fixture
def config(server: APIServer) -> Config:
    """An unthrottled config for ``server``: its CA and its token."""
    return Config(host=server.url, ca_data=server.ca_pem or b"", bearer_token=server.token, qps=-1)


@pytest.fixture(autouse=True)
def _clear_faults(server: APIServer) -> Iterator[None]:
    yield
    server.faults.clear()


def request_threads() -> int:
    """How many connections kgen.testing's server is serving now (a thread each)."""
    return sum(1 for t in threading.enumerate() if "process_request" in t.name)


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
