"""Exec and attach sessions over the remote-command WebSocket protocols, on threads.

Two shapes: :class:`ExecSession`, an open session (write stdin, read stdout and stderr as they
come, resize the TTY, close stdin, wait for the exit code), and :func:`run`, which drives a
session to its end and returns an :class:`ExecResult`. The typed clients reach both through
``exec``/``open_exec``/``attach`` (:mod:`kgen.client`); this module is what they call. What a
session sends and how it ends is :mod:`kgen.streams._session`'s; the asyncio twin of this module
is :mod:`kgen.streams._async`.

Exit codes come from the error channel as the kubelet reports them: 0 for ``Success``, the
``ExitCode`` cause of ``NonZeroExitCode``. A session the server ends with any other failure
(no such container process, the server's own errors) raises :class:`kgen.rest.StatusError`
with that Status; a connection that drops before the end raises :class:`StreamError`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import IO

from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.sync.client import ClientConnection

from kgen.rest import Request
from kgen.streams._session import (
    PROTOCOLS,
    STDIN_CHUNK,
    ExecResult,
    Output,
    SessionState,
    with_options,
)
from kgen.streams._websocket import StreamError, open_websocket

__all__ = ["ExecSession", "open_session", "run"]


class ExecSession:
    """One open exec or attach session. Use it as a context manager (``close`` on exit).

    Thread-safety: one thread may read (``read``, iteration, ``wait``) while others write
    (``write``, ``close_stdin``, ``resize``); the underlying connection serializes sends.
    ``read`` blocks until output arrives, the session ends, or its timeout passes.
    """

    def __init__(self, connection: ClientConnection, description: str) -> None:
        self._connection = connection
        self._state = SessionState(str(connection.subprotocol), description)

    @property
    def protocol(self) -> str:
        """The subprotocol the server chose (``v5.channel.k8s.io`` or ``v4.channel.k8s.io``)."""
        return self._state.protocol

    # -- writing -------------------------------------------------------------------------------

    def write(self, data: bytes | str) -> None:
        """Send ``data`` to the process's stdin (blocks while the network is slow)."""
        self._send(self._state.stdin_frame(data))

    def close_stdin(self) -> None:
        """Signal end of input: the process reads EOF. Needs ``v5.channel.k8s.io``; a ``v4``
        server cannot be told (``StreamError``), only the whole session can be closed."""
        frame = self._state.close_stdin_frame()
        if frame is not None:
            self._send(frame)

    def resize(self, width: int, height: int) -> None:
        """Tell the process's TTY its new size in character cells."""
        self._send(self._state.resize_frame(width, height))

    def _send(self, frame: bytes) -> None:
        try:
            self._connection.send(frame)
        except ConnectionClosed as err:
            raise self._state.closed(err) from err

    # -- reading -------------------------------------------------------------------------------

    def read(self, timeout: float | None = None) -> Output | None:
        """The next chunk of output, or ``None`` once the session has ended. Raises
        ``TimeoutError`` when nothing arrives within ``timeout`` seconds, :class:`StreamError`
        when the connection drops before the end."""
        state = self._state
        deadline = None if timeout is None else time.monotonic() + timeout
        while not state.ended:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                frame = self._connection.recv(timeout=left)
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

    def __iter__(self) -> Iterator[Output]:
        """Every chunk of output until the session ends (errors as :meth:`read`)."""
        while (output := self.read()) is not None:
            yield output

    # -- the end -------------------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> int:
        """Read to the end (output not read yet is discarded) and return the exit code.

        Raises :class:`kgen.rest.StatusError` when the session ended with a failure that is not
        an exit code, ``TimeoutError`` past ``timeout``, :class:`StreamError` on a dropped
        connection.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.read(None if deadline is None else max(0.0, deadline - time.monotonic())):
            pass
        return self._state.exit_code()

    @property
    def exit_code(self) -> int | None:
        """The exit code once the session has ended (``None`` before); raises as :meth:`wait`
        when the session ended with a failure that is not an exit code."""
        return self._state.exit_code() if self._state.ended else None

    def close(self) -> None:
        """End the session now (the process's stdin and output are cut); idempotent."""
        self._state.ended = True
        self._connection.close()

    def __enter__(self) -> ExecSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_session(
    request: Request,
    *,
    command: Sequence[str] = (),
    container: str | None = None,
    stdin: bool = False,
    tty: bool = False,
    open_timeout: float | None = 30.0,
    description: str = "",
) -> ExecSession:
    """Open ``request`` (GET of ``<pod>/exec`` or ``<pod>/attach``) as a session with the query
    parameters of ``command``, ``container``, ``stdin`` and ``tty``
    (:func:`kgen.streams._session.with_options`). Errors as :func:`kgen.streams.open_websocket`."""
    request = with_options(request, command, container, stdin, tty)
    connection = open_websocket(request, PROTOCOLS, open_timeout=open_timeout)
    return ExecSession(connection, description or request.url().split("?")[0])


def run(
    session: ExecSession,
    *,
    stdin: bytes | str | IO[bytes] | None = None,
    timeout: float | None = None,
) -> ExecResult:
    """Drive ``session`` to its end: send ``stdin`` (bytes, or a binary file streamed in
    :data:`STDIN_CHUNK` pieces by a helper thread, so it need not fit in memory) then close it,
    collect stdout and stderr, and return them with the exit code. Closes the session.

    Raises ``TimeoutError`` when the command has not ended within ``timeout`` seconds, and the
    errors of :meth:`ExecSession.wait`. With a ``v4`` server, stdin cannot be closed: a command
    that reads to EOF then runs until ``timeout``.
    """
    out: list[bytes] = []
    err: list[bytes] = []
    failure: list[OSError] = []
    feeder = None
    with session:
        if stdin is not None:
            feeder = threading.Thread(
                target=_feed, args=(session, stdin, failure), name="kgen-exec-stdin", daemon=True
            )
            feeder.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            output = session.read(left)
            if output is None:
                break
            (out if output.stream == "stdout" else err).append(output.data)
        code = session.wait()
    if feeder is not None:
        feeder.join()
    if failure:
        raise OSError(f"reading stdin for the command failed: {failure[0]}") from failure[0]
    return ExecResult(b"".join(out), b"".join(err), code)


def _feed(session: ExecSession, stdin: bytes | str | IO[bytes], failure: list[OSError]) -> None:
    """Send ``stdin`` and close it. A session that ends first just stops the feeding; a file
    that cannot be read ends the session and is recorded in ``failure``."""
    try:
        for chunk in _chunks(stdin, failure):
            session.write(chunk)
        if failure:
            session.close()
            return
        if session.protocol == PROTOCOLS[0]:
            session.close_stdin()
    except (StreamError, ValueError):
        return  # the session ended (the command did not read all of its input)


def _chunks(stdin: bytes | str | IO[bytes], failure: list[OSError]) -> Iterator[bytes]:
    """``stdin`` in :data:`STDIN_CHUNK` pieces; a read error ends them, recorded in ``failure``."""
    if isinstance(stdin, bytes | str):
        data = stdin.encode() if isinstance(stdin, str) else stdin
        for start in range(0, len(data), STDIN_CHUNK):
            yield data[start : start + STDIN_CHUNK]
        return
    while True:
        try:
            chunk = stdin.read(STDIN_CHUNK)
        except OSError as error:
            failure.append(error)
            return
        if not chunk:
            return
        yield chunk
