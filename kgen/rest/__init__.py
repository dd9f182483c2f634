"""kgen.rest: the REST client every typed client, informer and tool of kgen talks through.

Public surface: :class:`Config`, :class:`RESTClient` and its :class:`Request` builder and
:class:`Result`, :class:`ListOptions`, :class:`Watch` / :class:`WatchEvent`, the
:class:`AuthProvider` hook, rate limiting (:class:`RateLimiter`, :class:`TokenBucket`), the
handlers of the server's warnings (:mod:`kgen.rest.warning_handlers`), and the errors and
predicates of :mod:`kgen.rest.errors`::

    client = RESTClient(Config(host="https://10.0.0.1:6443", ca_file="ca.crt", bearer_token=t))
    pod = (
        client.get().group_version("", "v1").namespace("default").resource("pods").name("web")
        .do().into(Pod)
    )
    with client.get().group_version("", "v1").resource("pods").watch(Pod) as events:
        for event in events:
            ...

Decisions worth knowing:

* ``do()`` raises :class:`StatusError` for any non-2xx answer (the server's ``Status``, or one
  made from the HTTP code), so a returned :class:`Result` is always a success. A request that
  got no answer (refused, unresolvable host, TLS handshake, reset, timeout) raises
  :class:`ConnectionFailedError` naming the host and what failed, in both clients; it is also
  the transport's own error class (``requests.ConnectionError``, ``aiohttp.ClientError``...).
* A bearer token file is read when the client is built (if no static token is given) and again
  whenever the token in hand is 50 seconds old (a one-minute lifetime minus ten seconds of
  leeway, as Kubernetes clients do); if a re-read fails, the last good token is kept. A rotated
  projected service-account token is therefore picked up within a minute.
* Client certificate and key files are re-read every five minutes; a changed pair is used for
  new connections.
* The server's ``Warning`` headers (deprecations and the like) are logged by default; set
  ``Config.warning_handler`` (a :class:`WarningWriter`, :class:`NoWarnings`...) or
  :func:`set_default_warning_handler` to do otherwise.
* The async client, :class:`AsyncRESTClient` (:mod:`kgen.rest.aio`, on aiohttp: install
  ``kgen[async]``), runs the same rules from asyncio tasks; it is imported on first use.
* Logs go to the ``kgen.rest`` logger; tokens, passwords, keys and ``Authorization`` headers
  never appear in logs, reprs or exception messages.
"""

from typing import TYPE_CHECKING, Any

from kgen.rest._duration import go_duration
from kgen.rest._ratelimit import AsyncRateLimiter, AsyncTokenBucket, RateLimiter, TokenBucket
from kgen.rest._stream import BodyStream
from kgen.rest._useragent import build_user_agent, default_user_agent
from kgen.rest.auth import AuthProvider
from kgen.rest.client import RESTClient, UpgradeSettings
from kgen.rest.config import DEFAULT_BURST, DEFAULT_QPS, Config, ImpersonationConfig
from kgen.rest.errors import (
    ConnectionFailedError,
    StatusError,
    UnexpectedResponseError,
    is_already_exists,
    is_bad_request,
    is_conflict,
    is_forbidden,
    is_gone,
    is_internal_error,
    is_invalid,
    is_method_not_supported,
    is_not_found,
    is_resource_expired,
    is_server_timeout,
    is_service_unavailable,
    is_timeout,
    is_too_large_resource_version,
    is_too_many_requests,
    is_unauthorized,
)
from kgen.rest.options import ListOptions
from kgen.rest.request import DEFAULT_MAX_RETRIES, Request, Result
from kgen.rest.warning_handlers import (
    NoWarnings,
    TextSink,
    WarningHandler,
    WarningLogger,
    WarningWriter,
    default_warning_handler,
    set_default_warning_handler,
)
from kgen.rest.watch import EventType, Watch, WatchEvent

if TYPE_CHECKING:
    from kgen.rest.aio import AsyncBodyStream as AsyncBodyStream
    from kgen.rest.aio import AsyncRequest as AsyncRequest
    from kgen.rest.aio import AsyncRESTClient as AsyncRESTClient
    from kgen.rest.aio import AsyncWatch as AsyncWatch

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_QPS",
    "AsyncRateLimiter",
    "AsyncTokenBucket",
    "AuthProvider",
    "BodyStream",
    "Config",
    "ConnectionFailedError",
    "EventType",
    "ImpersonationConfig",
    "ListOptions",
    "NoWarnings",
    "RESTClient",
    "RateLimiter",
    "Request",
    "Result",
    "StatusError",
    "TextSink",
    "TokenBucket",
    "UnexpectedResponseError",
    "UpgradeSettings",
    "WarningHandler",
    "WarningLogger",
    "WarningWriter",
    "Watch",
    "WatchEvent",
    "build_user_agent",
    "default_user_agent",
    "default_warning_handler",
    "go_duration",
    "is_already_exists",
    "is_bad_request",
    "is_conflict",
    "is_forbidden",
    "is_gone",
    "is_internal_error",
    "is_invalid",
    "is_method_not_supported",
    "is_not_found",
    "is_resource_expired",
    "is_server_timeout",
    "is_service_unavailable",
    "is_timeout",
    "is_too_large_resource_version",
    "is_too_many_requests",
    "is_unauthorized",
    "set_default_warning_handler",
]

# Not in __all__: a star import must not need aiohttp.
_ASYNC = frozenset({"AsyncBodyStream", "AsyncRESTClient", "AsyncRequest", "AsyncWatch"})


def __getattr__(name: str) -> Any:
    """The async client's names, imported on first use (they need aiohttp: ``kgen[async]``)."""
    if name in _ASYNC:
        from kgen.rest import aio

        return getattr(aio, name)
    raise AttributeError(f"module 'kgen.rest' has no attribute {name!r}")
