"""A request that gets no answer raises kgen.rest.ConnectionFailedError naming the host and what
failed, from the sync and the async client alike (and still the transport's own error class)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
import requests
import trustme

from kgen.rest import Config, ConnectionFailedError, RESTClient
from kgen.rest.aio import AsyncRESTClient

from .server import LoopbackServer


@pytest.fixture()
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def silent() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@pytest.fixture()
def foreign_tls(server_cert: trustme.LeafCert) -> Iterator[LoopbackServer]:
    """HTTPS with a certificate the clients' CA (another trustme CA) did not sign."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(ctx)
    with LoopbackServer(ctx) as srv:
        yield srv


def _sync(config: Config) -> BaseException:
    with RESTClient(config, sleep=lambda _s: None) as client:
        try:
            client.get().abs_path("/version").do()
        except Exception as err:
            return err
    raise AssertionError("the request succeeded")


def _async(config: Config) -> BaseException:
    async def main() -> BaseException:
        async def no_sleep(_s: float) -> None:
            return None

        async with AsyncRESTClient(config, sleep=no_sleep) as client:
            try:
                await client.get().abs_path("/version").do()
            except Exception as err:
                return err
        raise AssertionError("the request succeeded")

    return asyncio.run(main())


CLIENTS: dict[str, tuple[Callable[[Config], BaseException], type[BaseException]]] = {
    "sync": (_sync, requests.RequestException),
    "async": (_async, aiohttp.ClientError),
}


@pytest.fixture(params=sorted(CLIENTS))
def attempt(request: pytest.FixtureRequest) -> tuple[Callable[[Config], BaseException], Any]:
    return CLIENTS[request.param]


def _check(err: BaseException, host: str, what: str) -> ConnectionFailedError:
    assert isinstance(err, ConnectionFailedError), repr(err)
    assert err.host == host
    assert err.what.startswith(what), err.what
    assert str(err).startswith(f"GET {err.url}: cannot reach {host}: {what}")
    assert "/version" in err.url
    assert err.__cause__ is not None
    return err


def test_refused(attempt: Any, closed_port: int) -> None:
    run, transport_error = attempt
    host = f"127.0.0.1:{closed_port}"
    err = _check(run(Config(host=f"http://{host}", qps=-1)), host, "connection refused")
    assert isinstance(err, transport_error)  # handlers written for the transport still catch it


def test_unresolvable_host(attempt: Any) -> None:
    run, _ = attempt
    host = "no-such-host.invalid:6443"
    _check(run(Config(host=f"https://{host}", qps=-1)), host, "cannot resolve the host name")


def test_tls_handshake(attempt: Any, foreign_tls: LoopbackServer, ca: trustme.CA) -> None:
    run, _ = attempt
    config = Config(host=foreign_tls.url, ca_data=ca.cert_pem.bytes(), qps=-1)
    host = foreign_tls.url.removeprefix("https://")
    err = _check(run(config), host, "TLS handshake failed: ")
    assert "certificate" in err.what  # unable to get local issuer certificate


def test_timeout(attempt: Any, silent: int) -> None:
    run, _ = attempt
    host = f"127.0.0.1:{silent}"
    err = _check(run(Config(host=f"http://{host}", qps=-1, timeout=0.3)), host, "timed out")
    assert isinstance(err, TimeoutError | requests.Timeout)
