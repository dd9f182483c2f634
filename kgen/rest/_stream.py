"""Reading ``requests`` response bodies: whole (within a deadline), chunks as they arrive (logs,
watches, decoded by :class:`~kgen.rest._frames.WatchDecoder`), and interrupting a blocked
reader from another thread."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

from kgen.rest._frames import WatchDecoder
from kgen.rest.watch import WatchEvent

if TYPE_CHECKING:
    import socket

    import requests
    import urllib3

__all__ = ["BodyStream", "body_chunks", "interrupt", "read_body", "read_events"]

_log = logging.getLogger("kgen.rest")

_READ_SIZE = 64 * 1024
_BOUNDED_READ_SIZE = 1024 * 1024


def read_body(
    response: requests.Response, deadline: float | None, clock: Callable[[], float]
) -> bytes:
    """The whole body of ``response``; the connection then goes back to the pool.

    Without a deadline, straight from urllib3 in one read when possible (about three times faster
    than requests' 10 KB chunks on large lists). With one (a time on ``clock``), piece by piece
    as it arrives, each socket read bounded by the time left, so that a body that keeps trickling
    in cannot outlast the deadline: ``requests.ReadTimeout`` then, and the connection is closed.
    A body from a caller's own transport (not urllib3's) is read by requests, unbounded.

    Other failures map to requests' exceptions: a socket timeout without a deadline (a watch's
    read timeout) or a connection cut short is a ``requests.ConnectionError``, undecodable
    content a ``ContentDecodingError``.
    """
    import requests
    import urllib3

    raw = response.raw
    if not isinstance(raw, urllib3.HTTPResponse):
        return response.content
    try:
        if deadline is None:
            return raw.read(decode_content=True)
        return _read_before(response, raw, deadline, clock)
    except urllib3.exceptions.ReadTimeoutError as err:
        if deadline is not None:
            raise requests.ReadTimeout(err, response=response) from err
        raise requests.ConnectionError(err, response=response) from err
    except urllib3.exceptions.ProtocolError as err:
        raise requests.exceptions.ChunkedEncodingError(err, response=response) from err
    except urllib3.exceptions.DecodeError as err:
        raise requests.exceptions.ContentDecodingError(err, response=response) from err
    except urllib3.exceptions.SSLError as err:
        raise requests.exceptions.SSLError(err, response=response) from err


def _read_before(
    response: requests.Response,
    raw: urllib3.HTTPResponse,
    deadline: float,
    clock: Callable[[], float],
) -> bytes:
    """Read ``raw`` to its end, one socket read at a time (``read1``), never waiting past
    ``deadline`` (checked between reads; a socket that cannot be found keeps the timeout it
    was sent with). The socket's timeout is changed here; urllib3 sets it afresh for the
    connection's next request."""
    import requests

    sock = None if raw.closed else _socket_of(raw)
    pieces: list[bytes] = []
    while True:
        left = deadline - clock()
        if left <= 0:
            response.close()
            raise requests.ReadTimeout(
                "the deadline passed before the whole response body arrived", response=response
            )
        # Once the body is in, the connection may be closed, or back in the pool and another
        # request's: its socket is no longer ours to touch (what is left is decoded data).
        if sock is not None and not raw.closed:
            sock.settimeout(left)
        piece = raw.read1(_BOUNDED_READ_SIZE, decode_content=True)
        if not piece:
            return b"".join(pieces)
        pieces.append(piece)


def read_events(response: requests.Response, object_type: type[Any]) -> Iterator[WatchEvent[Any]]:
    """Yield the events of a streaming watch response until the server ends it.

    A clean end, a read timeout or a dropped connection simply ends the iteration (logged at
    debug level): the caller watches again. A frame that does not decode yields one ``ERROR``
    event (an ``InternalError`` Status with a ``ClientWatchDecoding`` cause) and ends it. The
    response is closed when the generator finishes or is closed.
    """
    import requests
    import urllib3

    decoder = WatchDecoder(object_type)
    try:
        for chunk in body_chunks(response):
            yield from decoder.feed(chunk)
            if decoder.broken:
                return
        yield from decoder.finish()
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as err:
        _log.debug("watch stream ended: %s", type(err).__name__)
    finally:
        response.close()


def interrupt(response: requests.Response) -> None:
    """End ``response`` from any thread: a reader blocked on it returns promptly, the server sees
    the connection close, and the connection is not reused.

    The socket is shut down, not closed, so the reading thread still owns the descriptor and
    closes it itself. That works whether the connection is still held by the connection pool
    or (a close-delimited HTTP/1.0 body) has been handed over to the response alone.
    """
    import socket

    sock = _socket_of(response.raw)
    if sock is not None:
        with contextlib.suppress(OSError, ValueError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError, ValueError):
        response.close()


def _socket_of(raw: object) -> socket.socket | None:
    """The socket a response body reads from (``None``: unknown, or not a socket).

    While the pool holds the connection, that is the connection's socket. A close-delimited
    body (HTTP/1.0, no length, not chunked) has no connection any more: the body's own file
    reads from the socket, reached through urllib3's and http.client's response objects. A
    socket object (unlike a bare descriptor) cannot be confused with a later one: once closed,
    its shutdown fails instead of reaching a reused descriptor.
    """
    import socket

    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is None:
        body_file = getattr(getattr(raw, "_fp", None), "fp", None)  # http.client's file
        sock = getattr(getattr(body_file, "raw", None), "_sock", None)  # socket.SocketIO
    return sock if isinstance(sock, socket.socket) else None


def body_chunks(response: requests.Response) -> Generator[bytes, None, None]:
    """The body as it arrives: whatever is available now, never waiting to fill a buffer."""
    import urllib3

    raw = response.raw
    if isinstance(raw, urllib3.HTTPResponse):
        while data := raw.read1(_READ_SIZE, decode_content=True):
            yield data
    elif callable(getattr(raw, "read1", None)):  # an in-process transport's file-like body
        while data := raw.read1(_READ_SIZE):
            yield data
    else:
        yield from response.iter_content(chunk_size=None)


class BodyStream(Iterator[bytes]):
    """The body of a response as it arrives (:func:`body_chunks`), owning that response: the
    end of the body, a read error, or :meth:`close` (before the first chunk too, unlike a
    generator's) closes the response and so releases its connection. One reading thread;
    ``close()`` is idempotent."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        self._chunks = body_chunks(response)

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop reading and release the connection."""
        self._chunks.close()
        self._response.close()

    def interrupt(self) -> None:
        """End the stream from any thread (:func:`interrupt`): a reader blocked in ``next``
        gets an error promptly, the server sees the connection close, and it is not reused."""
        interrupt(self._response)
