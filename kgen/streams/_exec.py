"""Exec and attach sessions over the remote-command WebSocket protocols.

Two shapes: :class:`ExecSession`, an open session (write stdin, read stdout and stderr as they
come, resize the TTY, close stdin, wait for the exit code), and :func:`run`, which drives a
session to its end and returns an :class:`ExecResult`. The typed clients reach both through
``exec``/``open_exec``/``attach`` (:mod:`kgen.client`); this module is what they call.

Exit codes come from the error channel as the kubelet reports them: 0 for ``Success``, the
``ExitCode`` cause of ``NonZeroExitCode``. A session the server ends with any other failure
(no such container process, the server's own errors) raises :class:`kgen.rest.StatusError`
with that Status; a connection that drops before the end raises :class:`StreamError`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal

import msgspec
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.sync.client import ClientConnection

from kgen.meta import Status, decode
from kgen.rest import Request, StatusError
from kgen.streams._channel import (
    V4,
    V5,
    Channel,
    FramingError,
    TerminalSize,
    close_message,
    exit_code_of,
    message,
    parse,
    resize_message,
)
from kgen.streams._websocket import StreamError, open_websocket

__all__ = ["STDIN_CHUNK", "ExecResult", "ExecSession", "Output", "open_session", "run"]

STDIN_CHUNK = 64 * 1024
"""Bytes per stdin message when :func:`run` streams a file."""

PROTOCOLS = (V5, V4)
"""Offered in this order: v5 for its stdin close signal, v4 for servers before 1.30."""


@dataclass(frozen=True)
class Output:
    """One chunk of output: ``stream`` says whose."""

    stream: Literal["stdout", "stderr"]
    data: bytes


@dataclass(frozen=True)
class ExecResult:
    """A finished command: everything it wrote and how it ended."""

    stdout: bytes
    stderr: bytes
    exit_code: int

    def check(self) -> ExecResult:
        """``self`` when the command succeeded; ``RuntimeError`` with its stderr otherwise."""
        if self.exit_code != 0:
            tail = self.stderr[-2000:].decode(errors="replace").strip()
            raise RuntimeError(f"command exited with code {self.exit_code}: {tail}")
        return self


class ExecSession:
    """One open exec or attach session. Use it as a context manager (``close`` on exit).

    Thread-safety: one thread may read (``read``, iteration, ``wait``) while others write
    (``write``, ``close_stdin``, ``resize``); the underlying connection serializes sends.
    ``read`` blocks until output arrives, the session ends, or its timeout passes.
    """

    def __init__(self, connection: ClientConnection, description: str) -> None:
        self._connection = connection
        self._description = description
        self._status: dict[str, Any] | None = None
        self._ended = False
        self._stdin_closed = False

    @property
    def protocol(self) -> str:
        """The subprotocol the server chose (``v5.channel.k8s.io`` or ``v4.channel.k8s.io``)."""
        return str(self._connection.subprotocol)

    # -- writing -------------------------------------------------------------------------------

    def write(self, data: bytes | str) -> None:
        """Send ``data`` to the process's stdin (blocks while the network is slow)."""
        if self._stdin_closed:
            raise ValueError(f"{self._description}: stdin is closed")
        raw = data.encode() if isinstance(data, str) else data
        self._send(message(Channel.STDIN, raw))

    def close_stdin(self) -> None:
        """Signal end of input: the process reads EOF. Needs ``v5.channel.k8s.io``; a ``v4``
        server cannot be told (``StreamError``), only the whole session can be closed."""
        if self._stdin_closed:
            return
        if self.protocol != V5:
            raise StreamError(
                f"{self._description}: the server speaks {self.protocol}, which cannot close "
                "stdin alone (v5.channel.k8s.io can); close the session instead"
            )
        self._stdin_closed = True
        self._send(close_message(Channel.STDIN))

    def resize(self, width: int, height: int) -> None:
        """Tell the process's TTY its new size in character cells."""
        self._send(resize_message(TerminalSize(width, height)))

    def _send(self, frame: bytes) -> None:
        try:
            self._connection.send(frame)
        except ConnectionClosed as err:
            raise StreamError(f"{self._description}: the connection is closed ({err})") from err

    # -- reading -------------------------------------------------------------------------------

    def read(self, timeout: float | None = None) -> Output | None:
        """The next chunk of output, or ``None`` once the session has ended. Raises
        ``TimeoutError`` when nothing arrives within ``timeout`` seconds, :class:`StreamError`
        when the connection drops before the end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ended:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                frame = self._connection.recv(timeout=left)
            except TimeoutError:
                raise TimeoutError(f"{self._description}: no output within {timeout}s") from None
            except ConnectionClosedOK:
                self._ended = True
                break
            except ConnectionClosed as err:
                self._ended = True
                raise StreamError(
                    f"{self._description}: the connection dropped before the command ended "
                    f"({err})"
                ) from err
            output = self._take(frame)
            if output is not None:
                return output
        return None

    def __iter__(self) -> Iterator[Output]:
        """Every chunk of output until the session ends (errors as :meth:`read`)."""
        while (output := self.read()) is not None:
            yield output

    def _take(self, frame: bytes | str) -> Output | None:
        try:
            channel, data = parse(frame)
        except FramingError as err:
            raise StreamError(f"{self._description}: {err}") from None
        if channel == Channel.STDOUT:
            return Output("stdout", data)
        if channel == Channel.STDERR:
            return Output("stderr", data)
        if channel == Channel.ERROR and data:
            try:
                status = msgspec.json.decode(data)
            except msgspec.DecodeError:
                raise StreamError(
                    f"{self._description}: the error channel carried no Status: {data[:200]!r}"
                ) from None
            if isinstance(status, dict):
                self._status = status
        return None

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
        return self._exit_code()

    @property
    def exit_code(self) -> int | None:
        """The exit code once the session has ended (``None`` before); raises as :meth:`wait`
        when the session ended with a failure that is not an exit code."""
        return self._exit_code() if self._ended else None

    def _exit_code(self) -> int:
        if self._status is None:
            return 0  # the channel closed without a Status: the command succeeded
        code = exit_code_of(self._status)
        if code is not None:
            return code
        status = decode(msgspec.json.encode(self._status), Status)
        if not isinstance(status.code, int) or not status.code:
            status = msgspec.structs.replace(status, code=500)
        error = StatusError(status)
        error.add_note(self._description)
        raise error

    def close(self) -> None:
        """End the session now (the process's stdin and output are cut); idempotent."""
        self._ended = True
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
    """Open ``request`` (GET of ``<pod>/exec`` or ``<pod>/attach``) as a session, adding the
    query parameters of ``command``, ``container``, ``stdin`` and ``tty`` (stdout always;
    stderr unless ``tty``, whose terminal merges it into stdout). Errors as
    :func:`kgen.streams.open_websocket`."""
    request = request.timeout(None)
    for word in command:
        request = request.param("command", word)
    if container:
        request = request.param("container", container)
    flags = {"stdin": stdin, "stdout": True, "stderr": not tty, "tty": tty}
    for name, on in flags.items():
        if on:
            request = request.param(name, "true")
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
        if isinstance(stdin, bytes | str):
            data = stdin.encode() if isinstance(stdin, str) else stdin
            for start in range(0, len(data), STDIN_CHUNK):
                session.write(data[start : start + STDIN_CHUNK])
        else:
            while chunk := _read_chunk(stdin, failure):
                session.write(chunk)
            if failure:
                session.close()
                return
        if session.protocol == V5:
            session.close_stdin()
    except (StreamError, ValueError):
        return  # the session ended (the command did not read all of its input)


def _read_chunk(source: IO[bytes], failure: list[OSError]) -> bytes:
    try:
        return source.read(STDIN_CHUNK)
    except OSError as error:
        failure.append(error)
        return b""
