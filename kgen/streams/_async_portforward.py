"""Port-forward for asyncio: one connection to a pod's port as an asyncio stream pair.

The twin of :func:`kgen.streams.open_port_forward` over ``websockets``' asyncio client, on
:class:`kgen.rest.AsyncRESTClient`'s identity. What the server's messages mean and how data is
framed is :class:`kgen.streams._portforward_channel.OnePort`, as for the threaded
:class:`kgen.streams.PortStream`; only the moving of bytes differs. A task of the stream's own
reads the WebSocket into an ``asyncio.StreamReader`` (so ``read``, ``readline`` and
``readexactly`` behave as on a TCP connection); the end of the pod's side is EOF, and a failure
the server reports for the port is raised once what came before it has been read.

Back-pressure: the reader is bounded. Once more than :data:`BUFFER` bytes wait in it unread,
the task stops taking messages from the WebSocket until the reader is drained to half of that;
``websockets`` then stops reading the socket once its own queue of messages is full, and TCP
tells the server to wait. (The reader signals this through the transport it is given,
``pause_reading``/``resume_reading``, as it does for a TCP connection's.)
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

from kgen.streams._async import open_async_websocket
from kgen.streams._channel import FramingError
from kgen.streams._portforward import CHUNK, PortForwardError
from kgen.streams._portforward_channel import PROTOCOL, OnePort, check_port
from kgen.streams._websocket import StreamError

if TYPE_CHECKING:
    from kgen.rest.aio import AsyncRequest

__all__ = ["BUFFER", "AsyncPortStream", "open_async_port_forward"]

BUFFER = 2 * CHUNK
"""Bytes an :class:`AsyncPortStream` holds unread before it stops reading its WebSocket."""


class _Flow(asyncio.ReadTransport):
    """The transport an ``asyncio.StreamReader`` pauses when its buffer passes twice its limit
    and resumes once it is back to the limit: here it only opens and shuts :attr:`flowing`,
    which the stream's reading task waits on before it takes the next message."""

    def __init__(self) -> None:
        super().__init__()
        self.flowing = asyncio.Event()
        self.flowing.set()

    def pause_reading(self) -> None:
        self.flowing.clear()

    def resume_reading(self) -> None:
        self.flowing.set()

    def is_reading(self) -> bool:
        return self.flowing.is_set()


class AsyncPortStream:
    """One forwarded connection to a pod's port, for one event loop; use ``async with``.

    :meth:`read`, :meth:`readline` and :meth:`readexactly` read what the pod's side sent
    (``b""``, or a short line, at its end) and raise :class:`kgen.streams.PortForwardError`
    for a failure the server reported once the data before it is read, :class:`StreamError`
    for a connection that dropped; :meth:`write` sends. One task may read while another
    writes. :meth:`close` ends the connection and its reading task. At most about
    :data:`BUFFER` bytes (and one message) are held unread (:attr:`buffered`)."""

    def __init__(self, connection: ClientConnection, port: int, description: str) -> None:
        self.port = port
        """The pod's port."""
        self._connection = connection
        self._description = description
        self._port = OnePort(port)
        self._reader = asyncio.StreamReader(limit=BUFFER // 2)
        self._flow = _Flow()
        self._reader.set_transport(self._flow)
        self._fed = 0
        self._taken = 0
        self._failure: StreamError | None = None
        self._keepalive = connection.keepalive_task
        self._pump = asyncio.create_task(self._receive(), name=f"kgen-port-forward-{port}")

    @property
    def error(self) -> str | None:
        """The error text the server sent for the port, if any."""
        return self._port.error

    @property
    def buffered(self) -> int:
        """Bytes received from the pod's side and not read yet."""
        return self._fed - self._taken

    async def _receive(self) -> None:
        try:
            while True:
                await self._flow.flowing.wait()
                data = self._port.take(await self._connection.recv())
                if data:
                    self._fed += len(data)
                    self._reader.feed_data(data)
        except ConnectionClosedOK:
            pass
        except ConnectionClosed as err:
            self._failure = StreamError(f"{self._description}: the connection dropped ({err})")
        except FramingError as err:
            self._failure = StreamError(f"{self._description}: {err}")
            await self._connection.close()
        finally:
            self._reader.feed_eof()

    def _raise_failure(self) -> None:
        if self._port.error is not None:
            raise PortForwardError(self.port, f"{self._description}: {self._port.error}")
        if self._failure is not None:
            raise self._failure

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes as soon as some have arrived (``n < 0``: everything to the end);
        ``b""`` at the end of the pod's side."""
        data = await self._reader.read(n)
        self._taken += len(data)
        if not data or n < 0:
            self._raise_failure()
        return data

    async def readline(self) -> bytes:
        """One line with its ``\\n`` (what is left, without, at the end)."""
        line = await self._reader.readline()
        self._taken += len(line)
        if not line.endswith(b"\n"):
            self._raise_failure()
        return line

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; ``asyncio.IncompleteReadError`` when the pod's side ends
        first (the server's failure, if it reported one, instead)."""
        try:
            data = await self._reader.readexactly(n)
        except asyncio.IncompleteReadError as err:
            self._taken += len(err.partial)
            self._raise_failure()
            raise
        self._taken += n
        return data

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send ``data`` to the pod's side (in messages of :data:`CHUNK` bytes), waiting while
        the network is slow; :class:`StreamError` once the connection is closed."""
        for message in self._port.messages(data, CHUNK):
            try:
                await self._connection.send(message)
            except ConnectionClosed as err:
                raise StreamError(f"{self._description}: the connection is closed") from err

    async def close(self) -> None:
        """End the connection (the pod's side sees it end) and wait for the reading and
        keep-alive tasks; idempotent. What was received and not read is dropped. A stream
        held back by its full buffer drops its TCP connection instead of the WebSocket's
        closing handshake: ``websockets`` reads nothing more while its own queue is full, so
        the server's answer to a close would not be seen before the close timeout (10 s)."""
        if not self._flow.is_reading():
            self._connection.transport.abort()
        try:
            await self._connection.close()
        finally:  # cancelled or not, the reading task goes
            self._pump.cancel()
        await asyncio.gather(self._pump, return_exceptions=True)
        if self._keepalive is not None:
            await asyncio.gather(self._keepalive, return_exceptions=True)

    async def __aenter__(self) -> AsyncPortStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def open_async_port_forward(
    request: AsyncRequest,
    port: int,
    *,
    open_timeout: float | None = 30.0,
    description: str = "",
) -> AsyncPortStream:
    """Open ``request`` (an async GET of ``<pod>/portforward``) as a connection to the pod's
    ``port``. Errors as :func:`kgen.streams.open_port_forward` (NotFound for a missing pod; a
    port nothing listens on opens, and its first read raises
    :class:`kgen.streams.PortForwardError`)."""
    request = request.timeout(None).param("ports", str(check_port(port)))
    connection = await open_async_websocket(request, (PROTOCOL,), open_timeout=open_timeout)
    where = description or request.url().split("?")[0]
    return AsyncPortStream(connection, port, f"{where} port {port}")
