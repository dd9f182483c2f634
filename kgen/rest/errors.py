"""Errors of API calls, and predicates that classify them by reason and code.

:class:`StatusError` carries the server's ``Status`` (code, reason, message, details). When an
error response has no ``Status`` body, the client synthesizes one from the HTTP code
(:func:`error_for_response`), so callers classify every API error the same way. Responses the
client cannot interpret at all raise :class:`UnexpectedResponseError`, which keeps the body.

A predicate is true when the error's reason matches, or when the reason is not one the predicate
family knows and the HTTP code matches (a server or proxy that only sent a code still
classifies). Every predicate accepts any exception and is false for non-API errors.
"""

from __future__ import annotations

import msgspec

from kgen.meta import UNSET, Decoder, Status, StatusCause, StatusDetails

__all__ = [
    "ConnectionFailedError",
    "StatusError",
    "UnexpectedResponseError",
    "as_status",
    "error_for_response",
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
    "response_error",
]

_MAX_BODY_IN_MESSAGE = 1024


class ConnectionFailedError(Exception):
    """A request that got no answer: the connection was refused, the host name did not
    resolve, the TLS handshake failed, the connection was reset, or it timed out.

    ``method`` and ``url`` name the request, ``host`` the ``host:port`` it went to, ``what``
    what failed; ``__cause__`` is the transport's own error. Raised by the sync and the async
    client alike once their retries are spent; each raised error is also an instance of the
    transport's error class (``requests.ConnectionError``, ``requests.Timeout``,
    ``aiohttp.ClientError``, ``TimeoutError``), so handlers written for those still catch it.
    """

    def __init__(self, *, method: str, url: str, host: str, what: str) -> None:
        # Kept under private names behind properties: a transport's class may have its own
        # read-only ``host`` (aiohttp's connector errors do), which these take precedence over.
        self._request = (method, url, host, what)
        self.args = (str(self),)

    @property
    def method(self) -> str:
        return self._request[0]

    @property
    def url(self) -> str:
        return self._request[1]

    @property
    def host(self) -> str:
        """``host:port`` the request went to."""
        return self._request[2]

    @property
    def what(self) -> str:
        """What failed: ``connection refused``, ``TLS handshake failed: ...``, ..."""
        return self._request[3]

    def __str__(self) -> str:
        return f"{self.method} {self.url}: cannot reach {self.host}: {self.what}"


class StatusError(Exception):
    """An API call failed; ``status`` is the server's ``Status`` (or one synthesized from the
    HTTP code). Immutable once raised."""

    def __init__(self, status: Status) -> None:
        self.status = status
        super().__init__(_opt_str(status.message) or _opt_str(status.reason) or "unknown error")

    def __reduce__(self) -> tuple[type[StatusError], tuple[Status]]:
        return (StatusError, (self.status,))

    @property
    def code(self) -> int:
        """The HTTP status code (0 when the Status had none)."""
        code = self.status.code
        return code if isinstance(code, int) else 0

    @property
    def reason(self) -> str:
        """The machine-readable reason (``NotFound``, ``Conflict``...), ``""`` when absent."""
        return _opt_str(self.status.reason)

    @property
    def retry_after_seconds(self) -> int:
        """How long the server asked the client to wait before retrying (0: not said)."""
        details = self.status.details
        if isinstance(details, StatusDetails) and isinstance(details.retry_after_seconds, int):
            return details.retry_after_seconds
        return 0

    def causes(self) -> tuple[StatusCause, ...]:
        """The Status's causes (empty when none)."""
        details = self.status.details
        if isinstance(details, StatusDetails) and isinstance(details.causes, tuple):
            return details.causes
        return ()


class UnexpectedResponseError(Exception):
    """The server answered something the client cannot interpret as an object or a Status:
    an error code with no known meaning, an empty body where an object was expected, or a body
    that does not decode. ``body`` keeps what the server sent."""

    def __init__(
        self, message: str, *, status_code: int, body: bytes = b"", content_type: str = ""
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.content_type = content_type

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _unexpected,
            (str(self), self.status_code, self.body, self.content_type),
        )


def _unexpected(
    message: str, status_code: int, body: bytes, content_type: str
) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        message, status_code=status_code, body=body, content_type=content_type
    )


# Reason and default message for codes that have a well-known meaning; 409 depends on the verb.
_REASONS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "the server rejected the request for an unspecified reason"),
    401: ("Unauthorized", "the server requires the client to provide valid credentials"),
    403: ("Forbidden", ""),
    404: ("NotFound", "the server has no such resource"),
    405: ("MethodNotAllowed", "the server does not accept this method for this resource"),
    406: ("NotAcceptable", "the server cannot answer in a content type the client accepts"),
    409: ("Conflict", "the server reported a conflict"),
    415: ("UnsupportedMediaType", "the server does not accept the content type sent"),
    422: ("Invalid", "the server rejected the request as invalid"),
    429: ("TooManyRequests", "the server is throttling the client; retry later"),
    503: ("ServiceUnavailable", "the server cannot handle the request right now"),
    504: ("Timeout", "the server ran out of time before answering; the request may still run"),
}


def error_for_response(
    code: int,
    method: str,
    body: bytes,
    *,
    content_type: str = "",
    retry_after_seconds: int = 0,
    resource: str = "",
    name: str = "",
) -> StatusError | UnexpectedResponseError:
    """The error for an error response whose body is not a ``Status``.

    Known codes (4xx listed in the API conventions, and every 5xx) give a :class:`StatusError`
    with the matching reason; the server's text, when it sent text, is kept in the message and as
    an ``UnexpectedServerResponse`` cause. Other codes give an :class:`UnexpectedResponseError`.
    """
    text = _text_of(body, content_type)
    if code in _REASONS:
        reason, message = _REASONS[code]
        if code == 409 and method.upper() == "POST":
            reason = "AlreadyExists"
        if code in (403, 406, 415) and text:
            message = text
        elif not message:
            message = text or f"the server answered {code} without further detail"
    elif code >= 500:
        reason = "InternalError"
        message = f"the server failed to handle the request (its answer: {text!r})"
    else:
        return UnexpectedResponseError(
            f"unexpected response {code} to {method.upper()}: {text!r}",
            status_code=code,
            body=body,
            content_type=content_type,
        )
    if resource:
        target = f"{resource} {name}" if name else resource
        message = f"{message} ({method.lower()} {target})"
    status = Status(
        api_version="v1",
        kind="Status",
        status="Failure",
        code=code,
        reason=reason,
        message=message,
        details=StatusDetails(
            kind=resource or UNSET,
            name=name or UNSET,
            retry_after_seconds=retry_after_seconds or UNSET,
            causes=(
                (StatusCause(reason="UnexpectedServerResponse", message=text),) if text else UNSET
            ),
        ),
    )
    return StatusError(status)


def response_error(
    code: int,
    method: str,
    body: bytes,
    *,
    content_type: str = "",
    retry_after_seconds: int = 0,
    resource: str = "",
    name: str = "",
) -> StatusError | UnexpectedResponseError:
    """The error for any error response: a :class:`StatusError` with the server's ``Status``
    when the body is one (its code filled in from the HTTP code when missing), else what
    :func:`error_for_response` makes of the code and body."""
    status = as_status(body)
    if status is not None and status.status:
        if not isinstance(status.code, int) or not status.code:
            status = msgspec.structs.replace(status, code=code)
        return StatusError(status)
    return error_for_response(
        code,
        method,
        body,
        content_type=content_type,
        retry_after_seconds=retry_after_seconds,
        resource=resource,
        name=name,
    )


_status_decoder = Decoder(Status)  # a newer server's Status keeps the fields it adds


def as_status(body: bytes) -> Status | None:
    """The body as a ``Status`` if it is one (has a string ``status``), else ``None``."""
    if not body.lstrip().startswith(b"{"):
        return None
    try:
        status = _status_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if status.kind not in ("Status", msgspec.UNSET) or not isinstance(status.status, str):
        return None
    return status


def _text_of(body: bytes, content_type: str) -> str:
    if content_type and not content_type.startswith(("text/", "application/json")):
        return ""
    text = body.decode("utf-8", "replace").strip()
    if len(text) > _MAX_BODY_IN_MESSAGE:
        text = text[:_MAX_BODY_IN_MESSAGE] + "..."
    return text


def _opt_str(value: object) -> str:
    return value if isinstance(value, str) else ""


# Reasons that the predicates know; an error with any other reason is classified by its code.
_KNOWN_REASONS = frozenset(
    {
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "AlreadyExists",
        "Conflict",
        "Gone",
        "Invalid",
        "ServerTimeout",
        "StoreReadError",
        "Timeout",
        "TooManyRequests",
        "BadRequest",
        "MethodNotAllowed",
        "NotAcceptable",
        "RequestEntityTooLarge",
        "UnsupportedMediaType",
        "InternalError",
        "Expired",
        "ServiceUnavailable",
    }
)


def _reason_and_code(err: BaseException) -> tuple[str, int]:
    if isinstance(err, StatusError):
        return err.reason, err.code
    if isinstance(err, UnexpectedResponseError):
        return "", err.status_code
    return "", 0


def _matches(err: BaseException, reason: str, code: int | None) -> bool:
    got_reason, got_code = _reason_and_code(err)
    if got_reason == reason:
        return bool(got_reason)
    return code is not None and got_reason not in _KNOWN_REASONS and got_code == code


def is_not_found(err: BaseException) -> bool:
    """The object (or the resource) does not exist (``NotFound``, 404)."""
    return _matches(err, "NotFound", 404)


def is_already_exists(err: BaseException) -> bool:
    """A create found the name taken (``AlreadyExists``; by reason only)."""
    return _matches(err, "AlreadyExists", None)


def is_conflict(err: BaseException) -> bool:
    """A write lost a race on resourceVersion (``Conflict``, 409)."""
    return _matches(err, "Conflict", 409)


def is_gone(err: BaseException) -> bool:
    """The resource version asked for is no longer available (``Gone``, 410)."""
    return _matches(err, "Gone", 410)


def is_resource_expired(err: BaseException) -> bool:
    """The resource version asked for has been compacted away (``Expired``; by reason only)."""
    return _matches(err, "Expired", None)


def is_too_many_requests(err: BaseException) -> bool:
    """The server throttled the request (``TooManyRequests``, 429)."""
    return _matches(err, "TooManyRequests", 429)


def is_forbidden(err: BaseException) -> bool:
    """The caller is not allowed to do this (``Forbidden``, 403)."""
    return _matches(err, "Forbidden", 403)


def is_unauthorized(err: BaseException) -> bool:
    """The caller's credentials were missing or rejected (``Unauthorized``, 401)."""
    return _matches(err, "Unauthorized", 401)


def is_invalid(err: BaseException) -> bool:
    """The object failed validation (``Invalid``, 422)."""
    return _matches(err, "Invalid", 422)


def is_timeout(err: BaseException) -> bool:
    """The server could not finish in time; the request may still run (``Timeout``, 504)."""
    return _matches(err, "Timeout", 504)


def is_server_timeout(err: BaseException) -> bool:
    """The server could not finish in time and the request may be retried (``ServerTimeout``;
    by reason only)."""
    return _matches(err, "ServerTimeout", None)


def is_bad_request(err: BaseException) -> bool:
    """The request was malformed (``BadRequest``, 400)."""
    return _matches(err, "BadRequest", 400)


def is_method_not_supported(err: BaseException) -> bool:
    """The resource does not support this verb (``MethodNotAllowed``, 405)."""
    return _matches(err, "MethodNotAllowed", 405)


def is_service_unavailable(err: BaseException) -> bool:
    """The server is temporarily unable to serve (``ServiceUnavailable``, 503)."""
    return _matches(err, "ServiceUnavailable", 503)


def is_internal_error(err: BaseException) -> bool:
    """The server failed (``InternalError``, 500)."""
    return _matches(err, "InternalError", 500)


_TOO_LARGE_RV_CAUSE = "ResourceVersionTooLarge"
_TOO_LARGE_RV_TEXT = "too large resource version"


def is_too_large_resource_version(err: BaseException) -> bool:
    """A read asked for a resource version newer than the server has seen.

    Servers have said so in three shapes, all recognised: a ``ResourceVersionTooLarge`` cause
    under any reason (current servers); a ``Timeout`` with a cause whose message is "Too large
    resource version" (older servers); a ``Timeout`` whose own message says it (the oldest).
    The text is compared without regard to case.
    """
    if not isinstance(err, StatusError):
        return False
    causes = err.causes()
    if any(cause.reason == _TOO_LARGE_RV_CAUSE for cause in causes):
        return True
    if not is_timeout(err):
        return False
    messages = [_opt_str(cause.message) for cause in causes]
    messages.append(_opt_str(err.status.message))
    return any(_TOO_LARGE_RV_TEXT in message.lower() for message in messages)
