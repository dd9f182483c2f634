"""Fixtures of the REST client tests: loopback servers (HTTP, HTTPS, mutual TLS), a trustme CA,
and clients that are closed after each test."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

from kgen.rest import Config, RESTClient

from .server import LoopbackServer


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "kgen.test")


@pytest.fixture()
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture()
def tls_server(ca: trustme.CA, server_cert: trustme.LeafCert) -> Iterator[LoopbackServer]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(ctx)
    ca.configure_trust(ctx)
    ctx.verify_mode = ssl.CERT_OPTIONAL  # record a client certificate when one is presented
    with LoopbackServer(ctx) as srv:
        yield srv


class Sleeps:
    """A fake ``sleep`` that records the requested pauses instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture()
def make_client(sleeps: Sleeps) -> Iterator[Callable[..., RESTClient]]:
    """``make_client(server_or_host, **config_fields)``: an unthrottled client with fake sleep."""
    clients: list[RESTClient] = []

    def make(target: LoopbackServer | str, /, **fields: Any) -> RESTClient:
        host = target if isinstance(target, str) else target.url
        fields.setdefault("qps", -1)
        client = RESTClient(Config(host=host, **fields), sleep=sleeps)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(autouse=True)
def no_thread_leak() -> Iterator[None]:
    """Every thread a test starts (servers, handlers, readers) must be gone when it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    leaked = set(threading.enumerate()) - before
    while leaked and time.monotonic() < deadline:
        time.sleep(0.01)
        leaked = {t for t in leaked if t.is_alive()}
    assert not leaked, f"threads left running: {leaked}"
