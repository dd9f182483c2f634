""":class:`AsyncRESTClient`: the async client of one API server, on aiohttp, built from the same
:class:`~kgen.rest.Config` and running the same rules as :class:`~kgen.rest.RESTClient`."""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import ssl
import time
import urllib.request
import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yarl

from kgen.rest._backoff import backoff_from_env
from kgen.rest._credentials import Credentials
from kgen.rest._headers import OutgoingHeaders, outgoing_headers
from kgen.rest._ratelimit import AsyncRateLimiter, AsyncTokenBucket, RateLimiter, TokenBucket
from kgen.rest._transport import TLSSettings
from kgen.rest._upgrade import UpgradeSettings, upgrade_settings
from kgen.rest._useragent import default_user_agent
from kgen.rest._verbs import RequestVerbs
from kgen.rest._warning_header import hand_over_warnings
from kgen.rest.aio._connector import Connector, ConnectorFactory
from kgen.rest.aio._request import AsyncRequest
from kgen.rest.aio._watch import AsyncWatch
from kgen.rest.auth import AuthProvider
from kgen.rest.client import _base_url, _rate_limiter
from kgen.rest.config import Config

__all__ = ["AsyncRESTClient"]

_log = logging.getLogger("kgen.rest")

DEFAULT_CONNECTIONS = 100
"""Connections the client keeps to the server at most (each running watch holds one)."""
DEFAULT_IDLE_TIMEOUT = 90.0
"""Seconds an unused pooled connection is kept open (what Go's HTTP transport, and so client-go,
keeps idle connections for)."""


class AsyncRESTClient(RequestVerbs[AsyncRequest]):
    """Sends requests to the API server described by a :class:`Config`, from asyncio tasks.

    The same rules as :class:`~kgen.rest.RESTClient` (URL building, headers and credentials,
    retries, throttling, warnings, errors: they are shared code), over one pooled
    ``aiohttp.ClientSession`` created on first use in the running event loop. Use it from that
    loop only; share it between the loop's tasks (one per config and loop). Close it with
    ``await client.close()`` or ``async with``: that closes every connection it opened, those of
    running watches too (which then end).

    Blocking work runs in a thread (``asyncio.to_thread``): the auth provider's
    ``authorize``/``client_certificate``/``on_unauthorized`` (an exec plugin may take seconds).
    A bearer token file is re-read inline, at most every 50 seconds (a small local read).

    Throttling: ``rate_limiter`` (an :class:`~kgen.rest.AsyncRateLimiter`) when given, else what
    the sync client would use, waited on asynchronously: ``Config.rate_limiter`` or a bucket of
    ``qps``/``burst`` with the same defaults (a :class:`~kgen.rest.TokenBucket` through
    :class:`~kgen.rest.AsyncTokenBucket`, sharing its tokens; another limiter in a thread).

    TLS as the sync client: kgen's context (TLS 1.2 or later; configured CA, else the system's)
    when any TLS setting or an auth provider is present; a client certificate that rotates
    (files re-read every five minutes, or the provider's) is used for new connections.

    ``connections`` bounds the connections to the server (each running watch holds one;
    requests beyond it wait for one); ``idle_timeout`` is how long an unused one is kept.
    ``connector_factory`` makes the session's connector (called with both, in the running loop,
    whenever a session is opened): a :class:`~kgen.rest.aio.Connector` subclass that
    connects elsewhere, as :class:`kgen.testing.aio.FakeConnector` serving an in-process fake
    cluster; every connection it opens is closed (aborted) by :meth:`close` all the same.
    ``clock`` (monotonic seconds) and ``sleep`` (a coroutine function) drive deadlines,
    throttling and retry pauses; tests inject fakes. Construction raises ``ValueError`` for an
    unusable config, as the sync client does. Connection failures raise ``aiohttp.ClientError``;
    timeouts raise ``TimeoutError`` naming the request.
    """

    def __init__(
        self,
        config: Config,
        *,
        rate_limiter: AsyncRateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        connections: int = DEFAULT_CONNECTIONS,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        connector_factory: ConnectorFactory = Connector,
    ) -> None:
        self.config = config.copy()
        self.base_origin, self.base_path = _base_url(self.config)
        own_tls = self.config.has_tls() or self.config.auth_provider is not None
        self._tls = TLSSettings(self.config, clock=clock) if own_tls else None
        self._credentials = Credentials(self.config, clock=clock)
        self.rate_limiter = rate_limiter or _async_limiter(self.config, clock, sleep)
        self.user_agent = self.config.user_agent or default_user_agent()
        self._clock = clock
        self._sleep = sleep
        self._backoff = backoff_from_env(clock=clock)
        self._connections = connections
        self._idle_timeout = idle_timeout
        self._connector_factory = connector_factory
        self._session: aiohttp.ClientSession | None = None
        self._connector: Connector | None = None
        self._watches: weakref.WeakSet[AsyncWatch[Any]] = weakref.WeakSet()
        self._context: ssl.SSLContext | None = None
        self._context_pair: tuple[bytes, bytes] | None = None
        self._proxy = self.config.proxy_url or None
        self._env_proxies = urllib.request.getproxies_environment()

    @property
    def base_url(self) -> str:
        """Scheme, host and base path every request URL starts with."""
        return self.base_origin + self.base_path

    @property
    def auth_provider(self) -> AuthProvider | None:
        """The config's auth provider, if any."""
        return self._credentials.provider

    # -- requests (get, post, put, delete and patch come from RequestVerbs) ---------------

    def verb(self, method: str) -> AsyncRequest:
        """A request with any HTTP method."""
        return AsyncRequest(self, method)

    async def upgrade_settings(self) -> UpgradeSettings:
        """As :meth:`kgen.rest.RESTClient.upgrade_settings`: the identity, TLS and proxy a
        WebSocket (exec, attach) needs; an auth provider runs in a worker thread."""
        build = functools.partial(
            upgrade_settings,
            credentials=self._credentials,
            user_agent=self.user_agent,
            https=self.base_origin.startswith("https://"),
            tls=self._tls,
            proxy=self._proxy_for(self.base_origin),
        )
        if self._credentials.provider is not None:
            return await asyncio.to_thread(build)
        return build()

    def upgrade_socket(self) -> socket.socket | None:
        """A socket to the server from this client's connector for a WebSocket upgrade, or
        ``None`` (the usual case: the caller connects over TCP). Only a connector that serves
        in-process (:class:`kgen.testing.aio.FakeConnector`) returns one; the caller owns it."""
        self._session_now()
        return self._connector.upgrade_socket() if self._connector is not None else None

    # -- used by AsyncRequest (same package) --------------------------------------------------

    async def _throttle(self) -> None:
        """Wait until the client-side rate limiter admits one more request."""
        if self.rate_limiter is not None:
            await self.rate_limiter.wait()

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[aiohttp.ClientResponse, bool]:
        """Send one attempt; returns the response (headers read, body not) and whether the
        auth provider supplied the credentials."""
        if self._credentials.provider is not None:
            outgoing, pair = await asyncio.to_thread(self._outgoing, headers, body is not None)
        else:
            outgoing, pair = self._outgoing(headers, body is not None)
        session = self._session_now()
        _log.debug("%s %s", method, url)
        response = await session.request(
            method,
            yarl.URL(url, encoded=True),
            headers=outgoing.lines(),
            data=body,
            timeout=timeout,
            ssl=self._ssl_context(pair) if url.startswith("https:") else True,
            server_hostname=self._server_hostname(),
            proxy=self._proxy_for(url),
        )
        _log.debug("%s %s -> %d", method, url, response.status)
        return response, outgoing.from_provider

    def _outgoing(
        self, headers: Mapping[str, str], has_body: bool
    ) -> tuple[OutgoingHeaders, tuple[bytes, bytes] | None]:
        """The headers and the client certificate of the next attempt (may block)."""
        outgoing = outgoing_headers(
            headers,
            user_agent=self.user_agent,
            disable_compression=self.config.disable_compression,
            has_body=has_body,
            credentials=self._credentials,
        )
        pair = None
        if self._tls is not None:
            provider = self._credentials.provider
            pair = provider.client_certificate() if provider is not None else None
            pair = pair or self._tls.file_pair()
        return outgoing, pair

    def _ssl_context(self, pair: tuple[bytes, bytes] | None) -> ssl.SSLContext | bool:
        """kgen's context presenting ``pair`` (a new one when the pair changes: aiohttp pools
        connections per context, so a rotated certificate gets new connections), or aiohttp's
        default. A pair that does not load is logged and the previous context kept."""
        if self._tls is None:
            return True
        if self._context is None or pair != self._context_pair:
            try:
                context = self._tls.build_context(pair)
            except ValueError as err:
                if self._context is None:
                    raise
                _log.warning("keeping the previous client certificate: %s", err)
                self._context_pair = pair  # not retried on every request
                return self._context
            if self._context is not None:
                _log.info("client certificate changed; new connections use the new certificate")
            self._context, self._context_pair = context, pair
        return self._context

    def _proxy_for(self, url: str) -> str | None:
        """``Config.proxy_url``, else the environment's proxy (as it was when the client was
        built) for the URL's scheme unless ``NO_PROXY`` exempts its host (what requests does for
        the sync client). The environment is not otherwise trusted: no ``.netrc`` credentials
        are added."""
        if self._proxy:
            return self._proxy
        parts = urlsplit(url)
        proxy = self._env_proxies.get(parts.scheme)
        if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
            return proxy
        return None

    def _server_hostname(self) -> str | None:
        tls = self._tls
        return tls.server_name if tls is not None and tls.server_name else None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._connector = self._connector_factory(
                limit=self._connections, keepalive_timeout=self._idle_timeout
            )
            self._session = aiohttp.ClientSession(
                connector=self._connector, trust_env=False, auto_decompress=True
            )
            # aiohttp resends an idempotent request once, at once, when its connection fails;
            # kgen's retry rules (kgen.rest._retry) decide that, as for the sync client. There is
            # no public switch for it (aiohttp 3.14).
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    def _handle_warnings(self, response: aiohttp.ClientResponse) -> None:
        """Hand the warnings of a final response to the config's (or the default) handler."""
        hand_over_warnings(self.config.warning_handler, response.headers.getall("Warning", []))

    # -- lifetime --------------------------------------------------------------------------

    async def close(self) -> None:
        """Close every connection this client opened, those of running watches and streams
        too. Idempotent; the client stays usable (later requests open a new session)."""
        for watch in list(self._watches):
            watch.stop()  # wakes the task reading it (closing the session alone would not)
        session, self._session = self._session, None
        connector, self._connector = self._connector, None
        if session is not None:
            await session.close()
        if connector is not None:
            connector.abort_all()

    async def __aenter__(self) -> AsyncRESTClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncRESTClient({self.base_url!r})"


class _InThread:
    """A sync :class:`RateLimiter` waited on in a thread."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def wait(self) -> None:
        await asyncio.to_thread(self.limiter.wait)


def _async_limiter(
    config: Config, clock: Callable[[], float], sleep: Callable[[float], Awaitable[object]]
) -> AsyncRateLimiter | None:
    """The sync client's limiter for ``config`` (the same defaults), waited on asynchronously:
    a token bucket through its arithmetic, anything else in a thread."""
    limiter = _rate_limiter(config, clock, time.sleep)
    if isinstance(limiter, TokenBucket):
        return AsyncTokenBucket.sharing(limiter, sleep=sleep)
    return _InThread(limiter) if limiter is not None else None
