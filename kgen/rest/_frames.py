"""Watch frames, sans I/O: bytes in, typed :class:`WatchEvent` objects out.

The API server writes one watch frame per line: ``{"type": ..., "object": ...}``. A
:class:`WatchDecoder` is fed the body's chunks as they arrive (by any transport, sync or async)
and yields the events of the lines completed so far. Each object is decoded by msgspec straight
from the line's bytes into the requested type (a model, or ``dict``), in one pass over the line
for the usual frames; ``ERROR`` frames (whose object is a ``Status``) and frames that do not
decode take a second, careful pass that says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from kgen.meta import Decoder, Status, StatusCause, StatusDetails
from kgen.rest.watch import EVENT_TYPES, WatchEvent

__all__ = ["WatchDecoder"]


class _Frame(msgspec.Struct):
    type: str
    object: msgspec.Raw


_frame_decoder = msgspec.json.Decoder(_Frame)
_status_decoder = Decoder(Status)


class WatchDecoder:
    """Splits a watch body into lines and decodes each into a :class:`WatchEvent`.

    :meth:`feed` each chunk as it arrives, then :meth:`finish` at the end of the body. A frame
    that does not decode yields one ``ERROR`` event (an ``InternalError`` Status with a
    ``ClientWatchDecoding`` cause) and sets :attr:`broken`: the caller stops reading, and
    nothing more is yielded. Blank lines are skipped. Not thread-safe: one per watch.
    """

    def __init__(self, object_type: type[Any]) -> None:
        # A decoder of whole frames whose object is an ``object_type`` (the one-pass path), and
        # one of ``object_type`` alone (tens of microseconds to build: once per watch is cheap)
        # that keeps the fields the models do not know (the one-pass decoder refuses them).
        typed_frame = msgspec.defstruct("TypedFrame", [("type", str), ("object", object_type)])
        self._typed_frame = msgspec.json.Decoder(typed_frame)
        self._object: Decoder[Any] = Decoder(object_type)
        self._buffer = bytearray()
        self.broken = False

    def feed(self, chunk: bytes) -> Iterator[WatchEvent[Any]]:
        """The events of the lines that ``chunk`` completes, decoded as they are consumed."""
        buffer = self._buffer
        start = len(buffer)
        buffer += chunk
        end = buffer.find(b"\n", start)
        if end < 0:
            return
        begin = 0
        while end >= 0 and not self.broken:
            line = bytes(buffer[begin:end])
            begin = end + 1
            if line.strip():
                yield self._decode(line)
            end = buffer.find(b"\n", begin)
        del buffer[:begin]

    def finish(self) -> Iterator[WatchEvent[Any]]:
        """The event of a last line that no newline ended, if any."""
        rest, self._buffer = bytes(self._buffer), bytearray()
        if rest.strip() and not self.broken:
            yield self._decode(rest)

    def _decode(self, line: bytes) -> WatchEvent[Any]:
        try:
            return self._decode_line(line)
        except (msgspec.DecodeError, ValueError) as err:
            self.broken = True
            return WatchEvent("ERROR", _decoding_status(str(err)))

    def _decode_line(self, line: bytes) -> WatchEvent[Any]:
        try:
            frame: Any = self._typed_frame.decode(line)
        except msgspec.DecodeError:
            pass  # the careful path below says what is wrong
        else:
            if frame.type in EVENT_TYPES and frame.type != "ERROR":
                return WatchEvent(frame.type, frame.object)
        raw = _frame_decoder.decode(line)
        if raw.type not in EVENT_TYPES:
            raise ValueError(f"unknown watch event type {raw.type!r}")
        if raw.type == "ERROR":
            return WatchEvent("ERROR", _status_decoder.decode(raw.object))
        return WatchEvent(raw.type, self._object.decode(raw.object))  # type: ignore[arg-type]


def _decoding_status(detail: str) -> Status:
    return Status(
        api_version="v1",
        kind="Status",
        status="Failure",
        code=500,
        reason="InternalError",
        message=f"could not decode an event of the watch stream: {detail}",
        details=StatusDetails(causes=(StatusCause(reason="ClientWatchDecoding", message=detail),)),
    )
