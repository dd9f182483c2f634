"""The requests adapter of the sync REST client: :class:`TLSSettings`' context, TCP keep-alive,
and headers sent more than once (as impersonation needs).

The adapter is mounted only on sessions the client creates itself; a session passed in by the
caller keeps its own adapters (and so its own TLS handling). This module imports requests and
urllib3; it is imported when a session is made, not with kgen.rest.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPHeaderDict, PoolManager
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from kgen.rest._transport import KEEPALIVE_SECONDS, REPEATED_HEADERS_ATTR, TLSSettings

__all__ = ["KgenAdapter"]

_log = logging.getLogger("kgen.rest")


def _keepalive_options() -> list[tuple[int, int, int]]:
    """TCP keep-alive probes after 30 s of silence, every 30 s: a dead peer (a half-open
    connection) is noticed by the OS even while the client waits on a long request."""
    options = [*HTTPConnection.default_socket_options, (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name in ("TCP_KEEPIDLE", "TCP_KEEPINTVL"):
        if hasattr(socket, name):
            options.append((socket.IPPROTO_TCP, getattr(socket, name), KEEPALIVE_SECONDS))
    return options


class KgenAdapter(HTTPAdapter):
    """A pooled requests adapter with kgen's TLS context, TCP keep-alive and repeated-header
    support.

    Thread-safe: the context is swapped under a lock when the client certificate rotates; new
    connections then use the new certificate and idle ones with the old are closed.

    :meth:`close` (called by ``Session.close()``) closes every connection the adapter opened:
    idle ones at once, ones in use when their response is released or closed. urllib3's
    ``PoolManager.clear()`` alone only forgets its pools (urllib3 2.8 does not close them), so
    their idle connections would stay open for as long as any old response (say, of a finished
    watch still referenced by its ``Watch``) kept the pool alive.
    """

    def __init__(self, tls: TLSSettings | None, *, pool_maxsize: int = 32) -> None:
        self._tls = tls  # before super().__init__, which makes the pool manager
        super().__init__(pool_connections=4, pool_maxsize=pool_maxsize)
        self._lock = threading.Lock()
        self._pair = (tls.cert, tls.key) if tls and tls.cert else None
        self._rejected: tuple[bytes, bytes] | None = None
        self._context = tls.build_context(None) if tls else None

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs.setdefault("socket_options", _keepalive_options())
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self._quiet_if_insecure(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        proxy_kwargs.setdefault("socket_options", _keepalive_options())
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        self._quiet_if_insecure(manager)
        return manager

    def _quiet_if_insecure(self, manager: PoolManager) -> None:
        """With ``insecure``, this adapter's HTTPS pools skip urllib3's InsecureRequestWarning
        (one per request): :class:`TLSSettings` has said it once. Only this adapter's pools are
        changed; no warning filter of the process is touched."""
        if self._tls is not None and self._tls.insecure:
            manager.pool_classes_by_scheme = {
                "http": HTTPConnectionPool,
                "https": _UnverifiedHTTPSPool,
            }

    def use_client_certificate(self, pair: tuple[bytes, bytes] | None) -> None:
        """Present ``pair`` (PEM cert, key) from now on; a no-op when it is unchanged or
        ``None``. A pair that does not load is logged once and the previous one kept."""
        if self._tls is None or pair is None or pair in (self._pair, self._rejected):
            return
        try:
            context = self._tls.build_context(pair)
        except ValueError as err:
            self._rejected = pair
            _log.warning("keeping the previous client certificate: %s", err)
            return
        with self._lock:
            self._pair = pair
            self._context = context
        _close_pools(self.poolmanager)
        _log.info("client certificate changed; new connections use the new certificate")

    def close(self) -> None:
        """Close every pool (see the class docstring); requests made afterwards open new ones."""
        _close_pools(self.poolmanager)
        for manager in self.proxy_manager.values():
            _close_pools(manager)
        super().close()

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:
        host_params, default_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if self._tls is None or host_params.get("scheme") != "https":
            return host_params, default_kwargs
        with self._lock:
            context = self._context
        pool_kwargs: dict[str, Any] = {
            "ssl_context": context,
            "cert_reqs": "CERT_NONE" if self._tls.insecure else "CERT_REQUIRED",
        }
        if self._tls.insecure:
            pool_kwargs["assert_hostname"] = False
        elif self._tls.server_name:
            pool_kwargs["server_hostname"] = self._tls.server_name
            pool_kwargs["assert_hostname"] = self._tls.server_name
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # With a kgen context, trust and client certificates come from the context only;
        # requests would otherwise add its own CA bundle to it.
        if self._tls is None:
            super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        repeated: list[tuple[str, str]] | None = getattr(request, REPEATED_HEADERS_ATTR, None)
        if repeated:
            request.headers = _with_repeated(request.headers, repeated)  # type: ignore[assignment]
        return super().send(request, **kwargs)


class _UnverifiedHTTPSPool(HTTPSConnectionPool):
    """An HTTPS pool of an ``insecure`` client: urllib3 2's ``_validate_conn`` minus its
    per-request InsecureRequestWarning (kgen warns once per client instead)."""

    def _validate_conn(self, conn: Any) -> None:
        HTTPConnectionPool._validate_conn(self, conn)
        if conn.is_closed:
            conn.connect()


def _close_pools(manager: PoolManager) -> None:
    """Forget ``manager``'s pools and close them: their idle connections now, those in use when
    released (a closed pool closes what is handed back to it). Pools created concurrently are
    either closed here or kept by the manager, never dropped open."""
    pools = manager.pools
    with pools.lock:
        keys = pools.keys()  # the container itself cannot be iterated
        dropped = [pool for key in keys if (pool := pools.get(key)) is not None]
        manager.clear()
    for pool in dropped:
        pool.close()


def _with_repeated(headers: Mapping[str, str], repeated: list[tuple[str, str]]) -> HTTPHeaderDict:
    names = {name.lower() for name, _ in repeated}
    out = HTTPHeaderDict({k: v for k, v in headers.items() if k.lower() not in names})
    for name, value in repeated:
        out.add(name, value)
    return out
