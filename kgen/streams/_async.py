"""Exec and attach sessions for asyncio: the twin of :mod:`kgen.streams._exec` over
``websockets``' asyncio client, on :class:`kgen.rest.AsyncRESTClient`'s identity.

What a session sends and how it ends is :mod:`kgen.streams._session`'s, as for the threaded
session; only the moving of bytes differs. Cancelling a task that awaits a session's ``read``
(or ``run_async``) leaves the connection to the ``async with`` that owns it, which closes it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedOK,
    InvalidHandshake,
    InvalidStatus,
)

from kgen.streams._session import (
    PROTOCOLS,
    STDIN_CHUNK,
    ExecResult,
    Output,
    SessionState,
    with_options,
)
from kgen.streams._websocket import MAX_MESSAGE, StreamError, connect_options, refusal

if TYPE_CHECKING:
    from kgen.rest.aio import AsyncRequest

__all__ = ["AsyncExecSession", "open_async_session", "open_async_websocket", "run_async"]


class AsyncExecSession:
    """One open exec or attach session, for one event loop. Use ``async with`` (``close`` on
    exit). One task may read while others write."""

    def __init__(self, connection: ClientConnection, description: str) -> None:
        self._connection = connection
        self._state = SessionState(str(connection.subprotocol), description)
        self._keepalive = connection.keepalive_task  # cancelled, never awaited, by websockets

    @property
    def protocol(self) -> str:
        """The subprotocol the server chose (``v5.channel.k8s.io`` or ``v4.channel.k8s.io``)."""
        return self._state.protocol

    async def write(self, data: bytes | str) -> None:
        """Send ``data`` to the process's stdin."""
        await self._send(self._state.stdin_frame(data))

    async def close_stdin(self) -> None:
        """Signal end of input (``v5.channel.k8s.io`` only; ``StreamError`` on ``v4``)."""
        frame = self._state.close_stdin_frame()
        if frame is not None:
            await self._send(frame)

    async def resize(self, width: int, height: int) -> None:
        """Tell the process's TTY its new size in character cells."""
        await self._send(self._state.resize_frame(width, height))

    async def _send(self, frame: bytes) -> None:
        try:
            await self._connection.send(frame)
        except ConnectionClosed as err:
            raise self._state.closed(err) from err

    async def read(self, timeout: float | None = None) -> Output | None:
        """The next chunk of output, or ``None`` once the session has ended; ``TimeoutError``
        past ``timeout`` seconds, :class:`StreamError` when the connection drops first."""
        state = self._state
        deadline = None if timeout is None else time.monotonic() + timeout
        while not state.ended:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                async with asyncio.timeout(left):
                    frame = await self._connection.recv()
            except TimeoutError:
                raise state.timed_out(timeout) from None
            except ConnectionClosedOK:
                state.ended = True
                break
            except ConnectionClosed as err:
                raise state.dropped(err) from err
            output = state.take(frame)
            if output is not None:
                return output
        return None

    def __aiter__(self) -> AsyncExecSession:
        return self

    async def __anext__(self) -> Output:
        output = await self.read()
        if output is None:
            raise StopAsyncIteration
        return output

    async def wait(self, timeout: float | None = None) -> int:
        """Read to the end (output not read yet is discarded) and return the exit code;
        errors as :meth:`kgen.streams.ExecSession.wait`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while await self.read(None if deadline is None else max(0.0, deadline - time.monotonic())):
            pass
        return self._state.exit_code()

    @property
    def exit_code(self) -> int | None:
        """The exit code once the session has ended (``None`` before); raises as :meth:`wait`."""
        return self._state.exit_code() if self._state.ended else None

    async def close(self) -> None:
        """End the session now and wait until its connection and its keep-alive task are gone;
        idempotent."""
        self._state.ended = True
        await self._connection.close()
        if self._keepalive is not None:
            await asyncio.gather(self._keepalive, return_exceptions=True)

    async def __aenter__(self) -> AsyncExecSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def open_async_session(
    request: AsyncRequest,
    *,
    command: Sequence[str] = (),
    container: str | None = None,
    stdin: bool = False,
    tty: bool = False,
    open_timeout: float | None = 30.0,
    description: str = "",
) -> AsyncExecSession:
    """Open ``request`` (an async GET of ``<pod>/exec`` or ``<pod>/attach``) as a session with
    the query parameters of ``command``, ``container``, ``stdin`` and ``tty``, through the
    client's rate limiter, credentials, TLS and proxy. Errors as
    :func:`kgen.streams.open_websocket`."""
    request = with_options(request, command, container, stdin, tty)
    connection = await open_async_websocket(request, PROTOCOLS, open_timeout=open_timeout)
    url = request.url()
    return AsyncExecSession(connection, description or url.split("?")[0])


async def run_async(
    session: AsyncExecSession,
    *,
    stdin: bytes | str | IO[bytes] | None = None,
    timeout: float | None = None,
) -> ExecResult:
    """As :func:`kgen.streams.run`, in the event loop: ``stdin`` (bytes, or a binary file read
    in :data:`STDIN_CHUNK` pieces in a worker thread) is sent by a task of its own, then closed;
    returns stdout, stderr and the exit code. Closes the session."""
    out: list[bytes] = []
    err: list[bytes] = []
    async with session:
        feeder = asyncio.create_task(_feed(session, stdin)) if stdin is not None else None
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                output = await session.read(left)
                if output is None:
                    break
                (out if output.stream == "stdout" else err).append(output.data)
            code = await session.wait()
        finally:
            if feeder is not None:
                feeder.cancel()
                failure = (await asyncio.gather(feeder, return_exceptions=True))[0]
    if feeder is not None and isinstance(failure, OSError) and not isinstance(failure, StreamError):
        raise OSError(f"reading stdin for the command failed: {failure}") from failure
    return ExecResult(b"".join(out), b"".join(err), code)


async def _feed(session: AsyncExecSession, stdin: bytes | str | IO[bytes]) -> None:
    """Send ``stdin`` and close it; a session that ends first just stops the feeding. A file
    that cannot be read ends the session and raises (``run_async`` reports it)."""
    try:
        if isinstance(stdin, bytes | str):
            data = stdin.encode() if isinstance(stdin, str) else stdin
            for start in range(0, len(data), STDIN_CHUNK):
                await session.write(data[start : start + STDIN_CHUNK])
        else:
            while chunk := await _read(session, stdin):
                await session.write(chunk)
        if session.protocol == PROTOCOLS[0]:
            await session.close_stdin()
    except (StreamError, ValueError):
        return


async def _read(session: AsyncExecSession, source: IO[bytes]) -> bytes:
    try:
        return await asyncio.to_thread(source.read, STDIN_CHUNK)
    except OSError:
        await session.close()
        raise


async def open_async_websocket(
    request: AsyncRequest,
    protocols: Sequence[str],
    *,
    open_timeout: float | None = 30.0,
    max_size: int = MAX_MESSAGE,
) -> ClientConnection:
    """Open ``request`` as a WebSocket speaking one of ``protocols``, through the client's rate
    limiter, credentials, TLS and proxy: the asyncio twin of
    :func:`kgen.streams.open_websocket`, with its errors (a StatusError for a refusal the
    server explains, :class:`StreamError` for a connection that cannot be made or a protocol
    the server did not agree on)."""
    rest = request.client
    if rest.rate_limiter is not None:
        await rest.rate_limiter.wait()
    settings = await rest.upgrade_settings()
    url = request.url()
    options = connect_options(settings, protocols, open_timeout, max_size)
    sock = options["sock"] = rest.upgrade_socket()  # kgen.testing.aio's fake; None: over TCP
    opened = False
    try:
        connection: ClientConnection = await connect(
            "ws" + url[len("http") :], ssl=settings.ssl, **options
        )
        opened = True
    except InvalidStatus as err:
        raise refusal(err, url) from None
    except (OSError, TimeoutError, InvalidHandshake) as err:
        raise StreamError(f"cannot open a stream to {url}: {err}") from err
    finally:
        if sock is not None and not opened:
            sock.close()  # a no-op when websockets closed it with its transport
    if connection.subprotocol not in protocols:
        await connection.close()
        raise StreamError(
            f"{url}: the server agreed on none of the stream protocols {', '.join(protocols)}"
        )
    return connection
