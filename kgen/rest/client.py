""":class:`RESTClient`: the pooled, throttled, authenticated HTTP client of one API server."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from kgen.rest._backoff import backoff_from_env
from kgen.rest._credentials import Credentials
from kgen.rest._headers import outgoing_headers
from kgen.rest._ratelimit import RateLimiter, TokenBucket
from kgen.rest._transport import REPEATED_HEADERS_ATTR, TLSSettings
from kgen.rest._upgrade import UpgradeSettings, upgrade_settings
from kgen.rest._useragent import default_user_agent
from kgen.rest._verbs import RequestVerbs
from kgen.rest._warning_header import hand_over_warnings
from kgen.rest.auth import AuthProvider
from kgen.rest.config import DEFAULT_BURST, DEFAULT_QPS, Config
from kgen.rest.request import Request

if TYPE_CHECKING:
    import requests

    from kgen.rest._adapter import KgenAdapter

# requests and urllib3 are imported where they are used (a session is made, a request sent), so
# that importing kgen.rest (and a generated clientset) does not pay for them.
__all__ = ["RESTClient", "UpgradeSettings"]

_log = logging.getLogger("kgen.rest")


class RESTClient(RequestVerbs[Request]):
    """Sends requests to the API server described by a :class:`Config`.

    Make one per config and share it: it is thread-safe, keeps one pooled
    ``requests.Session``, and applies one client-side token bucket to all its requests.
    Every request goes through that session; pass ``session`` to supply your own (its adapters
    then do the transport, e.g. an in-process fake; kgen's TLS settings are not mounted on it,
    but credentials, headers, throttling and retries still apply).

    TLS: with no TLS setting (and no auth provider, which may hand out a client certificate),
    HTTPS uses requests' defaults; otherwise kgen builds the TLS context itself (TLS 1.2 or
    later; the configured CA, else the system's trust store).

    Warnings in the final response of each request go to ``Config.warning_handler``, or to the
    process-wide default handler when that is ``None`` (see :mod:`kgen.rest.warning_handlers`).

    ``clock`` (monotonic seconds) and ``sleep`` drive request deadlines, throttling, retry
    pauses, the optional per-server backoff (``KUBE_CLIENT_BACKOFF_BASE``/``_DURATION``, read at
    construction) and the token and certificate file caches; tests inject fakes. Construction raises
    ``ValueError`` for an unusable config (bad host, CA with ``insecure``, token and password
    together, unreadable files). ``close()`` (or ``with``) releases the connections of a
    session the client created.
    """

    def __init__(
        self,
        config: Config,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config.copy()
        self.base_origin, self.base_path = _base_url(self.config)
        own_tls = self.config.has_tls() or self.config.auth_provider is not None
        tls = TLSSettings(self.config, clock=clock) if own_tls else None
        self._credentials = Credentials(self.config, clock=clock)
        self.rate_limiter = _rate_limiter(self.config, clock, sleep)
        self.user_agent = self.config.user_agent or default_user_agent()
        self._sleep = sleep
        self._clock = clock
        self._backoff = backoff_from_env(clock=clock)
        self._tls = tls
        self._adapter: KgenAdapter | None = None
        self._owns_session = session is None
        if session is None:
            import requests

            from kgen.rest._adapter import KgenAdapter

            session = requests.Session()
            self._adapter = KgenAdapter(tls)
            session.mount("https://", self._adapter)
            session.mount("http://", self._adapter)
        self._session = session
        proxy = self.config.proxy_url
        self._proxies = {"http": proxy, "https": proxy} if proxy else {}

    @property
    def base_url(self) -> str:
        """Scheme, host and base path every request URL starts with."""
        return self.base_origin + self.base_path

    @property
    def auth_provider(self) -> AuthProvider | None:
        """The config's auth provider, if any."""
        return self._credentials.provider

    # -- requests (get, post, put, delete and patch come from RequestVerbs) ---------------

    def verb(self, method: str) -> Request:
        """A request with any HTTP method."""
        return Request(self, method)

    def upgrade_settings(self) -> UpgradeSettings:
        """What a connection that leaves HTTP behind (the WebSocket of exec or attach) needs to
        present the identity of this client's requests and to reach the server the same way.
        The TLS context is new and belongs to the caller. Does not throttle; thread-safe.
        """
        return upgrade_settings(
            credentials=self._credentials,
            user_agent=self.user_agent,
            https=self.base_origin.startswith("https://"),
            tls=self._tls,
            proxy=self.config.proxy_url or None,
        )

    # -- used by Request (same package) ------------------------------------------------------

    def _throttle(self) -> None:
        """Block until the client-side rate limiter admits one more request."""
        if self.rate_limiter is not None:
            self.rate_limiter.wait()

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | BinaryIO | None,
        stream: bool,
        timeout: Any,
    ) -> tuple[requests.Response, bool]:
        """Send one attempt through the session, adding default headers and credentials.

        Returns the response and whether the auth provider supplied its credentials.
        """
        import requests

        outgoing = outgoing_headers(
            headers,
            user_agent=self.user_agent,
            disable_compression=self.config.disable_compression,
            has_body=body is not None,
            credentials=self._credentials,
        )
        if self._adapter is not None and self._tls is not None:
            provider = self._credentials.provider
            pair = provider.client_certificate() if provider is not None else None
            self._adapter.use_client_certificate(pair or self._tls.file_pair())
        merged = outgoing.joined()
        repeated = outgoing.repeated
        prepared = self._session.prepare_request(
            requests.Request(method, url, headers=merged, data=body, auth=_keep_headers)
        )
        if repeated:
            setattr(prepared, REPEATED_HEADERS_ATTR, repeated)
        settings = self._session.merge_environment_settings(
            prepared.url, dict(self._proxies), stream, None, None
        )
        _log.debug("%s %s", method, url)
        response = self._session.send(prepared, timeout=timeout, **settings)
        _log.debug("%s %s -> %d", method, url, response.status_code)
        return response, outgoing.from_provider

    def _handle_warnings(self, response: requests.Response) -> None:
        """Hand the warnings of a final response to the config's warning handler, or to the
        process-wide default one."""
        if "Warning" not in response.headers:
            return
        import urllib3

        raw = response.raw
        if isinstance(raw, urllib3.HTTPResponse):
            values = raw.headers.getlist("Warning")
        else:
            values = [response.headers["Warning"]]
        hand_over_warnings(self.config.warning_handler, values)

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """End the connections of a session this client created: idle ones now, one held by a
        running watch or stream when that ends. Idempotent; the client stays usable (later
        requests open new connections, which a later ``close()`` ends too)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> RESTClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RESTClient({self.base_url!r})"


def _keep_headers(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    """An explicit no-op auth, so that requests never replaces our Authorization (from .netrc)."""
    return prepared


def _base_url(config: Config) -> tuple[str, str]:
    """``(scheme://host[:port], /base/path)`` from ``config.host`` (see :class:`Config`)."""
    host = config.host or "localhost"
    if "://" not in host:
        host = ("https://" if config.has_tls() else "http://") + host
    try:
        parts = urlsplit(host)
        parts.port  # noqa: B018 - validates the port
    except ValueError as err:
        raise ValueError(f"Config.host {config.host!r} is not a URL or host:port: {err}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Config.host {config.host!r} is not an http(s) URL or host:port")
    if parts.query or parts.fragment:
        raise ValueError(f"Config.host {config.host!r} may not have a query or fragment")
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def _rate_limiter(
    config: Config, clock: Callable[[], float], sleep: Callable[[float], None]
) -> RateLimiter | None:
    if config.rate_limiter is not None:
        return config.rate_limiter
    qps = config.qps or DEFAULT_QPS
    burst = config.burst or DEFAULT_BURST
    if qps < 0:
        return None
    return TokenBucket(qps, burst, clock=clock, sleep=sleep)
