"""Local port-forward listeners for asyncio: the twin of :class:`kgen.streams.PortForwarder`.

What the ports mean, where they are listened on and what went wrong is
:class:`kgen.streams._forwarding.Listeners`, as for the threaded forwarder; each accepted
connection opens a port-forward WebSocket of its own (:func:`open_async_port_forward`, framed
by the ``OnePort`` the threaded streams use) and is copied both ways by two tasks. Both
directions keep back-pressure: the pod's bytes are written to the local connection and drained
before more are read (the stream stops reading its WebSocket meanwhile), and the local
client's bytes are sent before more are read from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kgen.streams._async_portforward import AsyncPortStream, open_async_port_forward
from kgen.streams._forwarding import Listeners, ListenerViews
from kgen.streams._portforward import CHUNK
from kgen.streams._websocket import StreamError

if TYPE_CHECKING:
    from kgen.rest.aio import AsyncRequest

__all__ = ["AsyncPortForwarder"]


class AsyncPortForwarder(ListenerViews):
    """Local listeners forwarding to a pod's ports, as ``kubectl port-forward`` runs them, and
    in-process connections (:meth:`connect`), for one event loop.

    Nothing listens until :meth:`start` (or ``async with``); :meth:`close` stops accepting,
    ends every forwarded connection and waits for every task the forwarder started. A
    connection the server refuses or fails is closed alone, and its failure is logged (logger
    ``kgen.streams``) and kept in :attr:`errors`."""

    def __init__(
        self,
        new_request: Callable[[], AsyncRequest],
        ports: Sequence[int | str] = (),
        *,
        address: str = "127.0.0.1",
        open_timeout: float | None = 30.0,
        description: str = "",
    ) -> None:
        """``new_request`` makes the async GET of ``<pod>/portforward`` (a fresh one each
        call); ``ports`` as :func:`kgen.streams.parse_port_spec` reads them (``ValueError``
        here for a bad one); ``address`` is where to listen."""
        self._new_request = new_request
        self._listening = Listeners(ports, address)
        self._open_timeout = open_timeout
        self._description = description
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._closed = False

    async def connect(self, remote_port: int) -> AsyncPortStream:
        """A new connection to the pod's ``remote_port`` (any port, listened on or not); the
        caller closes it. Errors as :func:`kgen.streams.open_async_port_forward`."""
        return await open_async_port_forward(
            self._new_request(),
            remote_port,
            open_timeout=self._open_timeout,
            description=self._description,
        )

    async def start(self) -> AsyncPortForwarder:
        """Listen on every local port; returns self. ``OSError`` when a local port cannot be
        listened on (nothing is left listening then); ``ValueError`` once closed."""
        if self._closed:
            raise ValueError("this port forwarder is closed")
        if self._started:
            return self
        self._started = True
        try:
            for local, remote in self._listening.specs:
                server = await asyncio.start_server(
                    self._accepted(remote), self._listening.address, local, limit=CHUNK
                )
                self._servers.append(server)
                self._listening.bound(server.sockets[0].getsockname()[1], remote)
        except OSError:
            await self._stop_listening()
            self._listening.unbound()
            self._started = False
            raise
        return self

    def _accepted(
        self, remote: int
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], None]:
        # A plain callback, run as the connection is made: its task is known at once, so
        # close() never misses a connection accepted just before it.
        def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if self._closed:
                writer.close()
                return
            task = asyncio.create_task(
                self._forward(reader, writer, remote), name=f"kgen-port-forward-to-{remote}"
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return accepted

    async def _forward(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, remote: int
    ) -> None:
        """Serve one accepted connection: open its WebSocket, copy both ways, clean up. The
        local connection is closed after what is written to it has gone; when the forwarder
        closes (this task cancelled), it is dropped at once, unsent bytes and all."""
        dropped = False
        try:
            try:
                stream = await self.connect(remote)
            except Exception as err:  # any refusal (StatusError, StreamError) ends this one
                self._record(err, writer)
                return
            async with stream:
                upstream = asyncio.create_task(_upstream(reader, stream))
                try:
                    while data := await stream.read(CHUNK):
                        writer.write(data)
                        await writer.drain()
                except StreamError as err:
                    self._record(err, writer)
                except OSError:
                    pass  # the local client went away
                finally:
                    upstream.cancel()
                    await asyncio.gather(upstream, return_exceptions=True)
        except asyncio.CancelledError:
            dropped = True
            raise
        finally:
            await _close(writer, dropped)

    def _record(self, failure: Exception, writer: asyncio.StreamWriter) -> None:
        host, number = (writer.get_extra_info("sockname") or ("?", "?"))[:2]
        self._listening.record(failure, f"{host}:{number}")

    async def _stop_listening(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        for server in servers:
            await server.wait_closed()

    async def close(self) -> None:
        """Stop listening, end every forwarded connection (the pod's side and the local
        client see it end) and wait for the forwarder's tasks; idempotent."""
        self._closed = True
        await self._stop_listening()
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> AsyncPortForwarder:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _close(writer: asyncio.StreamWriter, drop: bool) -> None:
    """Close the local connection: at once with ``drop``, else once its buffer has gone (a
    cancelled wait drops it then: a client that reads nothing holds no task)."""
    if drop:
        writer.transport.abort()
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    except asyncio.CancelledError:
        writer.transport.abort()
        raise


async def _upstream(reader: asyncio.StreamReader, stream: AsyncPortStream) -> None:
    """Local client -> pod, until the client stops sending (the pod is not told: the protocol
    cannot half-close) or either side fails (which ends the connection)."""
    try:
        while data := await reader.read(CHUNK):
            await stream.write(data)
    except (OSError, StreamError):
        await stream.close()
