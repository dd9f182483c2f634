"""How the reflector classifies the errors of lists and watches.

Pure functions over exceptions (thread-safe); the API errors come from :mod:`kgen.rest`.
"""

from __future__ import annotations

from kgen.rest import (
    StatusError,
    is_gone,
    is_resource_expired,
    is_timeout,
    is_too_large_resource_version,
)

__all__ = [
    "ListFailedError",
    "VeryShortWatchError",
    "is_connection_refused",
    "is_expired_error",
    "is_too_large_resource_version_error",
]


class ListFailedError(Exception):
    """Listing failed; ``__cause__`` is the underlying error."""


class VeryShortWatchError(Exception):
    """A watch ended within a second without delivering anything: something is wrong."""


def is_expired_error(err: BaseException) -> bool:
    """The resource version asked for is gone (410 ``Expired`` or ``Gone``)."""
    return is_resource_expired(err) or is_gone(err)


def is_too_large_resource_version_error(err: BaseException) -> bool:
    """The resource version asked for is newer than the server has: any of the three shapes
    servers have used (a ``ResourceVersionTooLarge`` cause under any reason; a ``Timeout``
    whose cause or message says "Too large resource version")."""
    if is_too_large_resource_version(err):
        return True
    if not isinstance(err, StatusError):
        return False
    causes = err.causes()
    if any(cause.reason == "ResourceVersionTooLarge" for cause in causes):
        return True
    return is_timeout(err) and any(
        "too large resource version" in str(cause.message or "").lower() for cause in causes
    )


def is_connection_refused(err: BaseException) -> bool:
    """Whether a connection refusal is anywhere in ``err``'s chain of causes (as the HTTP
    stack wraps it: ``__cause__``/``__context__``, exception arguments, ``reason``)."""
    seen: set[int] = set()
    pending: list[BaseException] = [err]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(a for a in current.args if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
    return False
