"""The one error type of the test server, and constructors for the Status bodies it sends.

Every failure the server reports is an :class:`APIError` carrying a complete ``meta/v1``
``Status`` as a JSON dict, shaped exactly as kube-apiserver shapes it (reason, code, message,
details), so that clients' error predicates see what they would see against a real cluster.
The same errors are raised by :class:`kgen.testing.ObjectTracker` to in-process callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kgen.testing import _gojson as gojson

__all__ = ["APIError"]


_ACCEPTED_MEDIA_TYPES = (
    "application/json",
    "application/yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


_DETAILS_ORDER = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")
"""The fields of ``meta/v1`` ``StatusDetails`` in the order Go encodes them."""


def _in_go_order(details: dict[str, Any]) -> dict[str, Any]:
    ordered = {key: details[key] for key in _DETAILS_ORDER if key in details}
    ordered.update((k, v) for k, v in details.items() if k not in ordered)
    return ordered


class APIError(Exception):
    """A failed API call: ``code`` is the HTTP status, ``status`` the ``Status`` body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.headers = headers or {}
        self.status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
        }
        if reason:  # Go omits an empty reason (StatusReasonUnknown)
            self.status["reason"] = reason
        if details is not None:
            self.status["details"] = _in_go_order(details)
        self.status["code"] = code

    def body(self) -> bytes:
        """The Status as kube-apiserver writes it on the wire, byte for byte (fields in Go's
        order, a trailing newline; see ``_gojson``)."""
        return gojson.encode(self.status)

    @staticmethod
    def _details(resource: str, group: str, name: str) -> dict[str, Any]:
        details: dict[str, Any] = {"kind": resource}
        if name:
            details["name"] = name
        if group:
            details["group"] = group
        return details

    @staticmethod
    def _qualified(resource: str, group: str) -> str:
        return f"{resource}.{group}" if group else resource

    @classmethod
    def not_found(cls, resource: str, group: str, name: str) -> APIError:
        return cls(
            404,
            "NotFound",
            f'{cls._qualified(resource, group)} "{name}" not found',
            cls._details(resource, group, name),
        )

    @classmethod
    def already_exists(cls, resource: str, group: str, name: str) -> APIError:
        return cls(
            409,
            "AlreadyExists",
            f'{cls._qualified(resource, group)} "{name}" already exists',
            cls._details(resource, group, name),
        )

    @classmethod
    def forbidden(cls, resource: str, group: str, name: str, why: str) -> APIError:
        """403 as an admission plugin refuses a request (kube's ``NewForbidden``)."""
        subject = cls._qualified(resource, group) + (f' "{name}"' if name else "")
        return cls(
            403, "Forbidden", f"{subject} is forbidden: {why}", cls._details(resource, group, name)
        )

    @classmethod
    def conflict(cls, resource: str, group: str, name: str, why: str) -> APIError:
        return cls(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {cls._qualified(resource, group)} "{name}": {why}',
            cls._details(resource, group, name),
        )

    @classmethod
    def invalid(
        cls, kind: str, group: str, name: str, causes: list[tuple[str, str, str]]
    ) -> APIError:
        """422 Invalid; each cause is ``(field, reason, message)`` (reason e.g. FieldValueRequired)."""
        text = "; ".join(f"{f}: {m}" for f, _, m in causes)
        quoted = f'{kind}.{group} "{name}"' if group else f'{kind} "{name}"'
        details = cls._details(kind, group, name)
        details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
        return cls(422, "Invalid", f"{quoted} is invalid: {text}", details)

    @classmethod
    def bad_request(cls, message: str) -> APIError:
        return cls(400, "BadRequest", message)

    @classmethod
    def gone(cls, message: str) -> APIError:
        return cls(410, "Expired", message)

    @classmethod
    def method_not_allowed(cls, verb: str, what: str) -> APIError:
        return cls(
            405,
            "MethodNotAllowed",
            f"the server does not allow this method on the requested resource ({verb} {what})",
        )

    @classmethod
    def path_not_found(cls) -> APIError:
        return cls(404, "NotFound", "the server could not find the requested resource", {})

    @classmethod
    def unsupported_media_type(
        cls, content_type: str, accepted: Sequence[str] = _ACCEPTED_MEDIA_TYPES
    ) -> APIError:
        return cls(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: "
            f'{", ".join(accepted)}; got "{content_type}"',
        )
