"""One exec or attach session without I/O: what it sends, what it makes of what it receives.

The thread-based :class:`kgen.streams.ExecSession` and the asyncio
:class:`kgen.streams.AsyncExecSession` differ only in how they move bytes; the frames they send,
how they read the channels and how a session ends are decided here, once. Not thread-safe on its
own: each session serializes its use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import msgspec

from kgen.meta import Status, decode
from kgen.rest import StatusError
from kgen.rest._builder import RequestBuilder
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
from kgen.streams._websocket import StreamError

__all__ = ["PROTOCOLS", "STDIN_CHUNK", "ExecResult", "Output", "SessionState", "with_options"]

PROTOCOLS = (V5, V4)
"""Offered in this order: v5 for its stdin close signal, v4 for servers before 1.30."""

STDIN_CHUNK = 64 * 1024
"""Bytes per stdin message when a session streams a file."""

B = TypeVar("B", bound=RequestBuilder)


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


def with_options(
    request: B, command: Sequence[str], container: str | None, stdin: bool, tty: bool
) -> B:
    """``request`` (GET of ``<pod>/exec`` or ``attach``) with the session's query parameters:
    each word of ``command``, ``container``, and the streams (stdout always; stderr unless
    ``tty``, whose terminal merges it into stdout). No request deadline: a session lasts."""
    request = request.timeout(None)
    for word in command:
        request = request.param("command", word)
    if container:
        request = request.param("container", container)
    flags = {"stdin": stdin, "stdout": True, "stderr": not tty, "tty": tty}
    for name, on in flags.items():
        if on:
            request = request.param(name, "true")
    return request


class SessionState:
    """The state of one session: the protocol the server chose, whether stdin is closed and
    the session has ended, and the Status its error channel carried."""

    def __init__(self, protocol: str, description: str) -> None:
        self.protocol = protocol
        self.description = description
        self.ended = False
        self.stdin_closed = False
        self._status: dict[str, Any] | None = None

    # -- what to send --------------------------------------------------------------------------

    def stdin_frame(self, data: bytes | str) -> bytes:
        if self.stdin_closed:
            raise ValueError(f"{self.description}: stdin is closed")
        return message(Channel.STDIN, data.encode() if isinstance(data, str) else data)

    def close_stdin_frame(self) -> bytes | None:
        """The v5 close message (``None`` when stdin is closed already); a v4 session cannot
        close stdin alone (:class:`StreamError`)."""
        if self.stdin_closed:
            return None
        if self.protocol != V5:
            raise StreamError(
                f"{self.description}: the server speaks {self.protocol}, which cannot close "
                "stdin alone (v5.channel.k8s.io can); close the session instead"
            )
        self.stdin_closed = True
        return close_message(Channel.STDIN)

    def resize_frame(self, width: int, height: int) -> bytes:
        return resize_message(TerminalSize(width, height))

    def closed(self, err: BaseException) -> StreamError:
        """The error for a send on a closed connection."""
        return StreamError(f"{self.description}: the connection is closed ({err})")

    # -- what was received ---------------------------------------------------------------------

    def take(self, frame: bytes | str) -> Output | None:
        """The output a received message carries, or ``None`` (the exit Status, a resize)."""
        try:
            channel, data = parse(frame)
        except FramingError as err:
            raise StreamError(f"{self.description}: {err}") from None
        if channel == Channel.STDOUT:
            return Output("stdout", data)
        if channel == Channel.STDERR:
            return Output("stderr", data)
        if channel == Channel.ERROR and data:
            try:
                status = msgspec.json.decode(data)
            except msgspec.DecodeError:
                raise StreamError(
                    f"{self.description}: the error channel carried no Status: {data[:200]!r}"
                ) from None
            if isinstance(status, dict):
                self._status = status
        return None

    def dropped(self, err: BaseException) -> StreamError:
        """End the session on a connection that closed without its closing handshake."""
        self.ended = True
        return StreamError(
            f"{self.description}: the connection dropped before the command ended ({err})"
        )

    def timed_out(self, timeout: float | None) -> TimeoutError:
        return TimeoutError(f"{self.description}: no output within {timeout}s")

    def exit_code(self) -> int:
        """The exit code of an ended session: 0 without a Status, the Status's ``ExitCode``;
        :class:`kgen.rest.StatusError` for any other failure."""
        if self._status is None:
            return 0  # the channel closed without a Status: the command succeeded
        code = exit_code_of(self._status)
        if code is not None:
            return code
        status = decode(msgspec.json.encode(self._status), Status)
        if not isinstance(status.code, int) or not status.code:
            status = msgspec.structs.replace(status, code=500)
        error = StatusError(status)
        error.add_note(self.description)
        raise error
