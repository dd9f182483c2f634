"""Connections of the async client that end at once: an aiohttp connector that can abort every
connection it ever opened, and :func:`abort` for one response's connection.

Why: closing a TLS connection the polite way (``close()``) sends ``close_notify`` and waits for
the peer's, up to half a minute; a peer that is busy (a server in the middle of a slow answer,
or one streaming a watch) neither answers nor sees the connection go, and a loop that ends
meanwhile leaves the socket open. A connection kgen gives up on (a cancelled or timed-out
request, a stopped watch, a retried answer) is never reused, so it is aborted instead: the
socket closes now and the server sees it go.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from typing import TYPE_CHECKING, Protocol

import aiohttp

if TYPE_CHECKING:
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

__all__ = ["Connector", "ConnectorFactory", "abort"]


class ConnectorFactory(Protocol):
    """What :class:`~kgen.rest.aio.AsyncRESTClient` calls (in the running loop, when it opens
    its session) to make its connector; :class:`Connector` itself is the default."""

    def __call__(self, *, limit: int, keepalive_timeout: float) -> Connector: ...


class Connector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that remembers (weakly) the transports it opened, so that
    :meth:`abort_all` can end those still open after ``close()`` (ones aiohttp closed politely
    after a timeout or a cancellation, whose TLS shutdown would otherwise linger)."""

    def __init__(self, *, limit: int, keepalive_timeout: float) -> None:
        super().__init__(limit=limit, keepalive_timeout=keepalive_timeout)
        self._opened: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()

    async def _create_connection(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> ResponseHandler:
        protocol = await self._connect(req, traces, timeout)
        if protocol.transport is not None:
            self._opened.add(protocol.transport)
        return protocol

    async def _connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> ResponseHandler:
        """Open one connection for ``req``: aiohttp's TCP (TLS, proxy) connection. A subclass
        that connects elsewhere (kgen.testing.aio's in-process fake) overrides this; the
        connection it returns is tracked and aborted as any other."""
        return await super()._create_connection(req, traces, timeout)

    def upgrade_socket(self) -> socket.socket | None:
        """A socket connected to the server for a connection aiohttp does not make (the
        WebSocket of an exec, attach or port-forward), or ``None``, as here: the caller
        connects over TCP itself. A socket returned is the caller's to close."""
        return None

    def abort_all(self) -> None:
        """Abort every connection that is still open."""
        for transport in list(self._opened):
            if isinstance(transport, asyncio.Transport):
                transport.abort()


def abort(response: aiohttp.ClientResponse) -> None:
    """End ``response`` and its connection now (never reused): a task waiting on the body
    wakes with ``aiohttp.ClientConnectionError``. Idempotent."""
    connection = response.connection
    transport = connection.transport if connection is not None else None
    if response.content.exception() is None:
        response.content.set_exception(aiohttp.ClientConnectionError("connection closed"))
    if transport is not None:
        transport.abort()  # first: once closed politely, a TLS transport ignores abort()
    response.close()
