"""The remote-command channel protocol, without I/O: how exec and attach frame their streams.

Every WebSocket message of ``v4.channel.k8s.io`` and ``v5.channel.k8s.io`` is binary: one byte
naming the channel, then the channel's bytes. Channels: 0 stdin, 1 stdout, 2 stderr, 3 error
(one JSON ``Status`` when the command ends: its exit code or why it failed), 4 resize (JSON
``{"Width": w, "Height": h}`` for a TTY). ``v5`` adds one control message, channel 255 followed
by a channel number, which half-closes that channel (the client's "stdin is done").

Both the client (:mod:`kgen.streams._exec`) and the test server speak through these functions,
so the framing is written once. They are pure and thread-safe.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "CLOSE",
    "V4",
    "V5",
    "Channel",
    "FramingError",
    "TerminalSize",
    "close_message",
    "exit_code_of",
    "exit_status",
    "message",
    "parse",
    "parse_resize",
    "resize_message",
]

V5 = "v5.channel.k8s.io"
"""The subprotocol with the stdin close signal (kube-apiserver 1.30 and later)."""
V4 = "v4.channel.k8s.io"
"""The subprotocol before it: no way to close stdin but closing the connection."""

CLOSE = 255
"""The v5 control channel: ``[CLOSE, n]`` half-closes channel ``n``."""


class Channel(enum.IntEnum):
    """The stream each message belongs to."""

    STDIN = 0
    STDOUT = 1
    STDERR = 2
    ERROR = 3
    RESIZE = 4


class FramingError(ValueError):
    """A message that is not valid remote-command framing (says what was wrong)."""


@dataclass(frozen=True)
class TerminalSize:
    """A TTY size in character cells."""

    width: int
    height: int


def message(channel: Channel, data: bytes) -> bytes:
    """One message carrying ``data`` on ``channel``."""
    return bytes((channel,)) + data


def close_message(channel: Channel) -> bytes:
    """The v5 message that half-closes ``channel``."""
    return bytes((CLOSE, channel))


def parse(frame: bytes | str) -> tuple[int, bytes]:
    """``(channel, data)`` of one received message; ``(CLOSE, bytes([n]))`` for a v5 close.

    Raises :class:`FramingError` for an empty message, a text message (the protocols are
    binary), or a close naming no channel.
    """
    if isinstance(frame, str):
        raise FramingError("remote-command messages are binary; got a text message")
    if not frame:
        raise FramingError("empty remote-command message (no channel byte)")
    channel, data = frame[0], frame[1:]
    if channel == CLOSE and len(data) != 1:
        raise FramingError(f"a close message names one channel; got {len(data)} bytes")
    if channel != CLOSE and channel > Channel.RESIZE:
        raise FramingError(f"unknown remote-command channel {channel}")
    return channel, bytes(data)


def resize_message(size: TerminalSize) -> bytes:
    """The resize-channel message for ``size``."""
    return message(
        Channel.RESIZE, msgspec.json.encode({"Width": size.width, "Height": size.height})
    )


def parse_resize(data: bytes) -> TerminalSize:
    """The size a resize-channel payload carries; :class:`FramingError` when malformed."""
    try:
        raw = msgspec.json.decode(data)
        width, height = raw["Width"], raw["Height"]
    except (msgspec.DecodeError, KeyError, TypeError):
        raise FramingError(f"malformed terminal size {data[:80]!r}") from None
    if not (isinstance(width, int) and isinstance(height, int)) or width < 0 or height < 0:
        raise FramingError(f"malformed terminal size {data[:80]!r}")
    return TerminalSize(width, height)


def exit_status(exit_code: int, command: list[str] | None = None) -> dict[str, Any]:
    """The error-channel Status for a command that ended with ``exit_code``, as the kubelet
    writes it: ``Success`` for 0, else ``Failure`` with reason ``NonZeroExitCode`` and the code
    as an ``ExitCode`` cause."""
    if exit_code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: exit status {exit_code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]},
    }


def exit_code_of(status: dict[str, Any]) -> int | None:
    """The exit code an error-channel Status reports: 0 for Success, the ``ExitCode`` cause for
    ``NonZeroExitCode``; ``None`` when the Status is a failure of another kind (the command did
    not run, or the stream broke), whose ``message`` then says why."""
    if status.get("status") == "Success":
        return 0
    if status.get("reason") != "NonZeroExitCode":
        return None
    for cause in (status.get("details") or {}).get("causes") or []:
        if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message", ""))
            except ValueError:
                return None
    return None
