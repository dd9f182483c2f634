"""``FakeConnector``: an aiohttp connector whose connections end in-process, at a
:class:`~kgen.testing.Fake` (or a bare :class:`~kgen.testing._handler.Handler`), not at a
listening socket.

Each connection aiohttp asks for is one ``socket.socketpair()``: the client's end goes to the
event loop as an ordinary socket transport, the other end is served by a thread of its own with
the HTTP/1.1 request handler of :class:`~kgen.testing.APIServer` (the same parsing, chunked
watch streams, half-open faults, closing rules). So the whole async client path above the socket
runs unchanged: :class:`~kgen.rest.aio.AsyncRESTClient`'s requests, retries, watches, errors and
aborts, the typed clients and informers on top of it. Exec, attach and port-forward, which
``websockets`` opens, get their connection from :meth:`FakeConnector.upgrade_socket` (through
``AsyncRESTClient.upgrade_socket``), served the same way.

Lifetime: a connection's thread ends when the client closes (or aborts) its end, at the latest
one watch poll (0.2 s) later for a thread streaming a watch. :meth:`FakeConnector.close`
(called by the session's close, so by ``AsyncRESTClient.close``) aborts every connection (shuts
down the upgrade sockets still open) and waits, without blocking the loop, until every thread it
started has ended: nothing outlives the client.

Threads: reactors and the handler run on the connection threads, never on the event loop
thread; a reactor must not touch the loop's objects. Use the connector from one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from kgen.rest.aio import Connector, ConnectorFactory
from kgen.rest.aio._client import DEFAULT_CONNECTIONS, DEFAULT_IDLE_TIMEOUT
from kgen.testing._fake import Fake
from kgen.testing._handler import Handler, Request, Response
from kgen.testing._server import _RequestHandler

if TYPE_CHECKING:
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

__all__ = ["FakeConnector"]


class _Api:
    """What the request handler asks of its server's ``api``: ``handle`` and ``stopping``."""

    def __init__(self, target: Fake | Handler) -> None:
        self.handle: Callable[[Request], Response] = (
            target.serve if isinstance(target, Fake) else target.handle
        )
        handler = target.handler if isinstance(target, Fake) else target
        self.stopping: threading.Event = handler.stopping


class _Server:
    """Stands in for the HTTP server object the request handler reads ``api`` from."""

    def __init__(self, api: _Api) -> None:
        self.api = api


class _PairHandler(_RequestHandler):
    """The API server's request handler on one end of a socket pair (a Unix socket: no Nagle
    to disable)."""

    disable_nagle_algorithm = False


class FakeConnector(Connector):
    """A :class:`kgen.rest.aio.Connector` serving ``target`` in-process; see the module
    docstring. ``limit`` and ``keepalive_timeout`` bound and age the pooled connections as
    for a real server. Build one per session with :meth:`factory`."""

    def __init__(
        self,
        target: Fake | Handler,
        *,
        limit: int = DEFAULT_CONNECTIONS,
        keepalive_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        super().__init__(limit=limit, keepalive_timeout=keepalive_timeout)
        self._server = _Server(_Api(target))
        self._serving: dict[threading.Thread, asyncio.Future[None]] = {}
        """Each connection thread and the future it sets when it has ended (loop thread only)."""
        self._handed: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        """The sockets :meth:`upgrade_socket` handed out."""

    @classmethod
    def factory(cls, target: Fake | Handler) -> ConnectorFactory:
        """What :class:`~kgen.rest.aio.AsyncRESTClient` takes as ``connector_factory``: each
        session it opens gets a new connector serving ``target``."""

        def make(*, limit: int, keepalive_timeout: float) -> Connector:
            return cls(target, limit=limit, keepalive_timeout=keepalive_timeout)

        return make

    async def _connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> ResponseHandler:
        loop = asyncio.get_running_loop()
        near = self._pair(loop)
        try:
            _, protocol = await loop.create_connection(self._factory, sock=near)
        except BaseException:
            near.close()  # the serving thread sees the end and stops
            raise
        return protocol

    def upgrade_socket(self) -> socket.socket:
        """The client's end of a new connection to the target, for a WebSocket aiohttp does
        not make (exec, attach, port-forward through ``websockets``): the caller owns and
        closes it; :meth:`close` shuts down any still open, so their threads end too."""
        near = self._pair(asyncio.get_running_loop())
        self._handed.add(near)
        return near

    def _pair(self, loop: asyncio.AbstractEventLoop) -> socket.socket:
        """A socket pair whose far end a new thread serves; returns the near end."""
        near, far = socket.socketpair()
        ended: asyncio.Future[None] = loop.create_future()
        thread = threading.Thread(
            target=self._serve, args=(far, loop, ended), name="kgen-fake-connection", daemon=True
        )
        self._serving[thread] = ended
        ended.add_done_callback(lambda _: self._serving.pop(thread, None))
        thread.start()
        return near

    def _serve(
        self, far: socket.socket, loop: asyncio.AbstractEventLoop, ended: asyncio.Future[None]
    ) -> None:
        """One connection, on its thread: requests until the client leaves, then the end."""
        try:
            with contextlib.suppress(OSError):  # the client went away mid-answer
                _PairHandler(far, ("kgen.fake", 0), self._server)  # type: ignore[arg-type]
        finally:
            far.close()
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(_set, ended)

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close the pool, abort every connection, and wait (in the loop) until every
        connection thread has seen its client go and ended."""
        await super().close(abort_ssl=abort_ssl)
        self.abort_all()  # the client ends close in the next loop iteration: the threads see EOF
        for near in list(self._handed):
            with contextlib.suppress(OSError):  # already closed by its owner
                near.shutdown(socket.SHUT_RDWR)
        serving = list(self._serving.items())
        if serving:
            await asyncio.gather(*(ended for _, ended in serving))
        for thread, _ in serving:
            thread.join()  # it has set its future: at its very end


def _set(ended: asyncio.Future[Any]) -> None:
    if not ended.done():
        ended.set_result(None)
