"""What failed when a request never got an answer: one place for the sync and the async client.

Both transports wrap the operating system's error in their own (``requests``/urllib3 chains
causes, aiohttp keeps ``os_error``/``certificate_error``), and their messages name pools,
connection keys and retries rather than the host and the failure. :func:`connection_failed`
turns the transport's error, once retries are spent, into a :class:`ConnectionFailedError`
that names the request, the host and what failed (refused, name not resolved, TLS handshake,
timeout, reset). The new error is also an instance of the transport's own class (a subclass
made for it), so code catching ``requests.ConnectionError``, ``requests.Timeout``,
``aiohttp.ClientError`` or ``TimeoutError`` keeps working; the original is its ``__cause__``.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from kgen.rest.errors import ConnectionFailedError

__all__ = ["connection_failed", "describe"]


def _causes(err: BaseException) -> list[BaseException]:
    """``err`` and everything it wraps: causes, contexts, exception arguments and the
    attributes aiohttp keeps the OS error in, breadth first, each once."""
    found: list[BaseException] = []
    todo: list[object] = [err]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is f for f in found):
            continue
        found.append(item)
        todo += [item.__cause__, item.__context__, *item.args]
        for name in ("os_error", "certificate_error", "reason"):
            todo.append(getattr(item, name, None))
    return found


def describe(err: BaseException) -> str:
    """What failed, in words: ``connection refused``, ``cannot resolve the host name``,
    ``TLS handshake failed: certificate verify failed: ...``, ``timed out``, ... ."""
    import socket
    import ssl

    chain = _causes(err)
    for item in chain:
        message = getattr(item, "verify_message", None)  # not on aiohttp's subclass
        if isinstance(item, ssl.SSLCertVerificationError) and message:
            return f"TLS handshake failed: certificate verify failed: {message}"
    for item in chain:
        if isinstance(item, ssl.SSLError):
            return f"TLS handshake failed: {item.reason or item}"
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, socket.gaierror):
            return f"cannot resolve the host name ({item.strerror or item})"
        if isinstance(item, ConnectionResetError | BrokenPipeError):
            return "connection reset by the peer"
    names = {type(item).__name__ for item in chain}
    if "ConnectTimeout" in names or "ConnectTimeoutError" in names:
        return "timed out connecting"
    if "ServerTimeoutError" in names or "ReadTimeout" in names or "ReadTimeoutError" in names:
        return "timed out waiting for the response"
    for item in chain:
        if isinstance(item, TimeoutError):
            return str(item) if " timed out after " in str(item) else "timed out"
    for item in chain:
        if isinstance(item, OSError) and item.strerror:
            return item.strerror[0].lower() + item.strerror[1:]
    return str(err) or type(err).__name__


_WRAPPING: dict[type[BaseException], type[ConnectionFailedError]] = {}
_WRAPPING_LOCK = threading.Lock()


def _wrapping(kind: type[BaseException]) -> type[ConnectionFailedError]:
    """A subclass of both :class:`ConnectionFailedError` and ``kind`` (made once per kind,
    under a lock: any thread may ask)."""
    with _WRAPPING_LOCK:
        made = _WRAPPING.get(kind)
        if made is None:
            made = type(kind.__name__, (ConnectionFailedError, kind), {"__module__": __name__})
            _WRAPPING[kind] = made
        return made


def connection_failed(err: BaseException, method: str, url: str) -> ConnectionFailedError:
    """The :class:`ConnectionFailedError` to raise (``from err``) for ``err``, which ended
    ``method url`` without an answer. It is also an instance of ``type(err)`` and carries
    ``err``'s attributes (``request``, ``response``, ``errno``, ...); ``err`` is not changed."""
    if isinstance(err, ConnectionFailedError):
        return err
    parts = urlsplit(url)
    host = parts.netloc or parts.path
    what = describe(err)
    wrapped: Any = _wrapping(type(err)).__new__(_wrapping(type(err)))
    wrapped.__dict__.update(getattr(err, "__dict__", {}))
    if isinstance(err, OSError):
        wrapped.errno, wrapped.strerror = err.errno, err.strerror
    ConnectionFailedError.__init__(wrapped, method=method, url=url, host=host, what=what)
    result: ConnectionFailedError = wrapped
    return result
