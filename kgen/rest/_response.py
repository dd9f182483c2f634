"""Responses, sans I/O: :class:`Result` (a 2xx answer read in full) and the error of any other
answer (:func:`response_error`), the same for every transport."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from kgen.meta import Status, decode
from kgen.rest import errors
from kgen.rest.errors import StatusError, UnexpectedResponseError, as_status

__all__ = ["Result", "continue_token", "response_error", "retry_after_header"]

T = TypeVar("T")

_SMALL_BODY = 4096  # bodies shorter than this are checked for a failure Status in into()


@dataclass(frozen=True)
class Result:
    """A successful (2xx) response, body read in full. Immutable; safe to share."""

    status_code: int
    body: bytes
    content_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)
    """The response's headers (case-insensitive names)."""

    @property
    def was_created(self) -> bool:
        """Whether the server answered 201 Created."""
        return self.status_code == 201

    def json(self) -> Any:
        """The body decoded as JSON into dicts and lists."""
        return self.into(Any)

    def into(self, type: type[T]) -> T:
        """The body decoded straight into ``type`` (a model, ``dict``, ``Any``...).

        Raises :class:`UnexpectedResponseError` for an empty or undecodable body, and
        :class:`StatusError` when the body is a ``Status`` reporting a failure.
        """
        if not self.body:
            raise UnexpectedResponseError(
                f"0-length response with status code {self.status_code} and content type "
                f"{self.content_type or 'unknown'}; expected a {_type_name(type)}",
                status_code=self.status_code,
                content_type=self.content_type,
            )
        if type is not Status and len(self.body) < _SMALL_BODY:
            status = as_status(self.body)
            if status is not None and status.status != "Success":
                raise StatusError(status)
        try:
            return decode(self.body, type)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            raise UnexpectedResponseError(
                f"response does not decode as {_type_name(type)}: {err}",
                status_code=self.status_code,
                body=self.body,
                content_type=self.content_type,
            ) from None


def retry_after_header(value: str | None) -> int | None:
    """A ``Retry-After`` header value as whole seconds (``None``: absent or not an integer)."""
    value = (value or "").strip()
    if not value.isdigit():
        return None
    return int(value)


def response_error(
    code: int,
    method: str,
    body: bytes,
    *,
    content_type: str,
    retry_after: str | None,
    resource: str,
    name: str,
    previous: Exception | None,
) -> StatusError | UnexpectedResponseError:
    """The error of a non-2xx answer (:func:`kgen.rest.errors.response_error`: the server's
    ``Status``, or one made from the code), its ``Retry-After`` header read as the sync and
    async clients both do; an error of a previous attempt that reads differently is added as a
    note."""
    error = errors.response_error(
        code,
        method,
        body,
        content_type=content_type,
        retry_after_seconds=retry_after_header(retry_after) or 0,
        resource=resource,
        name=name,
    )
    if previous is not None and str(previous) != str(error):
        error.add_note(f"error from a previous attempt: {previous}")
    return error


class _ListMeta(msgspec.Struct):
    continue_: str = msgspec.field(name="continue", default="")


class _ListHead(msgspec.Struct):
    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)


_list_head_decoder = msgspec.json.Decoder(_ListHead)


def continue_token(body: bytes) -> str:
    """The ``metadata.continue`` token of a list page (``""``: the last page). Raises
    :class:`UnexpectedResponseError` when the body is not a JSON object with a string token."""
    try:
        return _list_head_decoder.decode(body).metadata.continue_
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise UnexpectedResponseError(
            f"a list page does not decode: {err}", status_code=200, body=body
        ) from None


def _type_name(type: object) -> str:
    return getattr(type, "__name__", repr(type))
