"""Opening the WebSocket of a streaming subresource (exec, attach) as the REST client would.

The connection carries the REST client's identity (its headers and TLS context, from
:meth:`kgen.rest.RESTClient.upgrade_settings`), goes through its proxy and waits for its rate
limiter, so a stream is authenticated and throttled like every other request. A direct TLS
connection is made here, on a :class:`kgen.streams._tlssocket.SerializedTLSSocket`, so that the
WebSocket's reader and writer threads never use the TLS object at once.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from kgen.rest import Request, StatusError, UnexpectedResponseError
from kgen.rest._upgrade import UpgradeSettings
from kgen.rest.errors import response_error
from kgen.streams._tlssocket import connect_tls

__all__ = ["MAX_MESSAGE", "StreamError", "connect_options", "open_websocket", "refusal"]

MAX_MESSAGE = 16 * 1024 * 1024
"""The largest message accepted from the server (the kubelet sends at most a few KiB)."""


class _Connection(ClientConnection):
    """``websockets``' sync client connection, reading the socket in pieces of up to 1 MiB:
    the library's 64 KiB cut each 256 KiB message of a port-forward or of a command's output
    in four reads, each a system call and a round of its parser under the GIL. (Reading
    100 MiB of port-forward, the process's CPU time was 0.87 times the 64 KiB reads' in
    paired runs on a loaded 2-core machine: a gain about the size of the noise.)"""

    recv_bufsize = 1 << 20


class StreamError(ConnectionError):
    """A stream that could not be opened or that broke before its end (says which and why)."""


def connect_options(
    settings: UpgradeSettings, protocols: Sequence[str], open_timeout: float | None, max_size: int
) -> dict[str, Any]:
    """The keyword arguments of a ``websockets`` connect (sync or asyncio) that carry
    ``settings`` and ``protocols``: kgen's headers and proxy, no compression, no user agent of
    the library's own."""
    return {
        "server_hostname": settings.server_hostname,
        "subprotocols": [Subprotocol(p) for p in protocols],
        "additional_headers": list(settings.headers),
        "user_agent_header": None,
        "proxy": settings.proxy or True,
        "open_timeout": open_timeout,
        "compression": None,
        "max_size": max_size,
    }


def open_websocket(
    request: Request, protocols: Sequence[str], *, open_timeout: float | None
) -> ClientConnection:
    """Open ``request`` (a GET addressing e.g. ``pods/<name>/exec``) as a WebSocket offering
    ``protocols``, most preferred first. Blocks until the server answers or ``open_timeout``
    seconds pass.

    Raises :class:`kgen.rest.StatusError` when the server refuses the upgrade with an error
    (its Status when it sent one: NotFound for a missing pod, BadRequest naming the containers
    to choose from, Forbidden, ...), :class:`StreamError` when the connection cannot be made
    or the server agrees on none of ``protocols``.
    """
    rest = request.client
    if rest.rate_limiter is not None:
        rest.rate_limiter.wait()
    url = request.url()
    target = "ws" + url[len("http") :]
    settings = rest.upgrade_settings()
    try:
        sock, ssl_context = None, settings.ssl
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 443
        if ssl_context is not None and not _proxied(settings.proxy, host):
            sock = connect_tls(
                host, port, ssl_context, settings.server_hostname or host, open_timeout
            )
            target, ssl_context = "ws" + url[len("https") :], None
        connection: ClientConnection = connect(
            target,
            sock=sock,
            ssl=ssl_context,
            create_connection=_Connection,
            **connect_options(settings, protocols, open_timeout, MAX_MESSAGE),
        )
    except InvalidStatus as err:
        raise refusal(err, url) from None
    except (OSError, TimeoutError, InvalidHandshake) as err:
        raise StreamError(f"cannot open a stream to {url}: {err}") from err
    connection.__enter__()  # the connection is the caller's to close (no "use as with" warning)
    if connection.subprotocol not in protocols:
        connection.close()
        raise StreamError(
            f"{url}: the server agreed on none of the stream protocols {', '.join(protocols)}"
        )
    return connection


def _proxied(proxy: str | None, host: str) -> bool:
    """Whether the connection goes through a proxy (the config's, or the environment's as
    ``requests`` finds it); such connections are left to the WebSocket library whole."""
    return bool(proxy) or (
        bool(urllib.request.getproxies().get("https")) and not urllib.request.proxy_bypass(host)
    )


def refusal(err: InvalidStatus, url: str) -> StatusError | UnexpectedResponseError:
    """The error for a server that answered the upgrade with something other than 101."""
    response = err.response
    error = response_error(
        response.status_code,
        "GET",
        bytes(response.body or b""),
        content_type=response.headers.get("Content-Type", ""),
    )
    error.add_note(f"while opening a stream to {url}")
    return error
