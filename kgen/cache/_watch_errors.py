"""How the reflector classifies the errors of lists and watches.

Pure functions over exceptions (thread-safe); the API errors come from :mod:`kgen.rest`.
"""

from __future__ import annotations

from kgen.rest import is_gone, is_resource_expired

__all__ = [
    "ListFailedError",
    "VeryShortWatchError",
    "is_connection_refused",
    "is_expired_error",
]


class ListFailedError(Exception):
    """Listing failed; ``__cause__`` is the underlying error."""


class VeryShortWatchError(Exception):
    """A watch ended within a second without delivering anything: something is wrong."""


def is_expired_error(err: BaseException) -> bool:
    """The resource version asked for is gone (410 ``Expired`` or ``Gone``)."""
    return is_resource_expired(err) or is_gone(err)


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
