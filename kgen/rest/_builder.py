"""The request builder shared by the sync :class:`~kgen.rest.Request` and the async
:class:`~kgen.rest.AsyncRequest`: the path (group/version, namespace, resource, name,
subresource), query parameters, headers, body and timeout, and the URL they make.

Builder mistakes (a name set twice, a ``/`` in a segment...) do not raise where they happen: the
first one is kept and raised as ``ValueError`` at execution (:meth:`RequestBuilder.preflight`),
so a chain reads straight. A builder belongs to the thread (or task) that builds it.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from typing import Any, BinaryIO, Protocol, Self
from urllib.parse import quote, urlencode

import msgspec

from kgen.rest._duration import go_duration
from kgen.rest._response import response_error
from kgen.rest._retry import DEFAULT_MAX_RETRIES
from kgen.rest.config import Config
from kgen.rest.errors import StatusError, UnexpectedResponseError
from kgen.rest.options import ListOptions

__all__ = ["RequestBuilder", "RequestTarget"]

_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class RequestTarget(Protocol):
    """What a builder needs of its client: the config and where the server is."""

    @property
    def config(self) -> Config: ...

    @property
    def base_origin(self) -> str: ...

    @property
    def base_path(self) -> str: ...


class RequestBuilder:
    """One API call under construction (see the module docstring); subclasses execute it."""

    def __init__(self, target: RequestTarget, method: str) -> None:
        import requests

        self._target = target
        self._method = method.upper()
        self._builder_error: ValueError | None = None
        self._versioned_path = ""
        self._abs_path: str | None = None
        self._abs_trailing = False
        self._namespace: str | None = None
        self._resource: str | None = None
        self._name: str | None = None
        self._subresource: str | None = None
        self._suffix: list[str] = []
        self._suffix_trailing = False
        self._params: list[tuple[str, str]] = []
        self._headers = requests.structures.CaseInsensitiveDict[str]()
        self._body: bytes | BinaryIO | None = None
        self._timeout = target.config.timeout
        self._max_retries = DEFAULT_MAX_RETRIES

    # -- builder -------------------------------------------------------------------------

    def group_version(self, group: str, version: str) -> Self:
        """Address ``/apis/<group>/<version>``, or ``<api_path>/<version>`` for the core group
        (``group == ""``)."""
        root = f"/apis/{group}" if group else self._target.config.api_path
        self._versioned_path = posixpath.join("/", root.strip("/"), version)
        return self

    def abs_path(self, *segments: str) -> Self:
        """Address an absolute path under the host's base path, replacing the group/version
        (``/version``, ``/openapi/v2``...). A lone segment's trailing ``/`` is kept."""
        self._abs_path = "/".join(segments) or "/"
        self._abs_trailing = len(segments) == 1 and segments[0].endswith("/")
        return self

    def namespace(self, namespace: str) -> Self:
        """Address ``namespaces/<namespace>``; ``""`` means no namespace segment. Once only."""
        if self._set_once("namespace", self._namespace, namespace):
            self._namespace = namespace
        return self

    def resource(self, resource: str) -> Self:
        """Address the resource (plural, lower-cased). Once only."""
        if self._set_once("resource", self._resource, resource):
            self._resource = resource.lower()
        return self

    def name(self, name: str) -> Self:
        """Address one object by name (non-empty). Once only."""
        if not name:
            self._fail("resource name may not be empty")
        elif self._set_once("resource name", self._name, name):
            self._name = name
        return self

    def subresource(self, *parts: str) -> Self:
        """Address a subresource (``status``, ``scale``, ``log``...). Once only."""
        joined = "/".join(parts)
        if self._set_once("subresource", self._subresource, *parts):
            self._subresource = joined
        return self

    def suffix(self, *parts: str) -> Self:
        """Append path segments after the name and subresource. A trailing ``/`` on the last
        is kept (it matters to the server behind a ``proxy`` subresource)."""
        self._suffix.extend(parts)
        if parts:
            self._suffix_trailing = parts[-1].endswith("/")
        return self

    def param(self, key: str, value: str) -> Self:
        """Add a query parameter (repeatable: values accumulate)."""
        self._params.append((key, value))
        return self

    def list_options(self, options: ListOptions) -> Self:
        """Add the query parameters of ``options``."""
        self._params.extend(options.to_params())
        return self

    def header(self, key: str, value: str) -> Self:
        """Set a request header (replacing one of the same name). A caller's ``Authorization``
        or ``User-Agent`` is sent as given."""
        self._headers[key] = value
        return self

    def timeout(self, seconds: float | None) -> Self:
        """Per-request timeout, also sent to the server as ``timeout=<Go duration>``.

        Locally it bounds the whole call: each attempt's socket operations get what is left of
        it, a retry happens only if its wait still fits, and ``do()`` reads the body as it
        arrives and gives up when the time is over, however steadily it trickles in (the
        transport's timeout error in every case: ``requests.Timeout`` for the sync client).
        For a watch only the parameter and the connect timeout apply (the read timeout is
        ``Config.watch_read_timeout``). The default is ``Config.timeout``; ``0``/``None`` sends
        no parameter and waits indefinitely."""
        self._timeout = seconds
        return self

    def max_retries(self, retries: int) -> Self:
        """How many times a retryable failure is retried (negative means 0)."""
        self._max_retries = max(0, retries)
        return self

    def body(
        self, body: bytes | os.PathLike[str] | msgspec.Struct | Mapping[str, Any] | BinaryIO | None
    ) -> Self:
        """The request body: bytes as-is; a path's file contents; a model or mapping encoded as
        JSON (setting ``Content-Type: application/json`` unless already set); a binary file
        object streamed as-is (never retried); ``None`` for no body."""
        if body is None:
            self._body = None
        elif isinstance(body, bytes | bytearray | memoryview):
            self._body = bytes(body)
        elif isinstance(body, os.PathLike):
            try:
                with open(body, "rb") as f:
                    self._body = f.read()
            except OSError as err:
                self._fail(f"body: cannot read {os.fspath(body)!r}: {err.strerror}")
        elif isinstance(body, msgspec.Struct | Mapping):
            try:
                self._body = msgspec.json.encode(body)
            except (TypeError, msgspec.EncodeError) as err:
                self._fail(f"body: cannot be encoded as JSON: {err}")
            self._headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            self._fail("body: a str is ambiguous; pass bytes, a pathlib.Path, a model or a dict")
        elif hasattr(body, "read"):
            self._body = body
        else:
            self._fail(f"body: unsupported type {type(body).__name__}")
        return self

    # -- inspection ----------------------------------------------------------------------

    @property
    def method(self) -> str:
        """The HTTP method."""
        return self._method

    def url(self) -> str:
        """The full URL this request will be sent to (query parameters sorted by name)."""
        segments: list[str | None] = [
            self._target.base_path,
            self._abs_path or self._versioned_path,
        ]
        if self._namespace:
            segments += ["namespaces", self._namespace]
        tail = [self._resource, self._name, self._subresource, *self._suffix]
        segments += tail
        path = posixpath.normpath("/" + "/".join(s.strip("/") for s in segments if s))
        if self._abs_trailing and path != "/" and not (self._namespace or any(tail)):
            path += "/"
        if self._suffix_trailing and any(self._suffix) and not path.endswith("/"):
            path += "/"
        params = list(self._params)
        if self._timeout:
            params.append(("timeout", go_duration(self._timeout)))
        query = urlencode(sorted(params, key=lambda kv: kv[0]))
        url = self._target.base_origin + quote(path, safe=_PATH_SAFE)
        return f"{url}?{query}" if query else url

    def _status_error(
        self, code: int, headers: Mapping[str, str], body: bytes, previous: Exception | None
    ) -> StatusError | UnexpectedResponseError:
        """The error for an error answer to this request (see :func:`response_error`), naming
        its resource and name, with the previous attempt's error as a note."""
        return response_error(
            code,
            self._method,
            body,
            content_type=headers.get("Content-Type", ""),
            retry_after=headers.get("Retry-After"),
            resource=self._resource or "",
            name=self._name or "",
            previous=previous,
        )

    def _fail(self, message: str) -> None:
        if self._builder_error is None:
            self._builder_error = ValueError(f"invalid request: {message}")

    def _set_once(self, what: str, current: str | None, *values: str) -> bool:
        new = "/".join(values)
        if current is not None:
            self._fail(f"{what} already set to {current!r}, cannot change to {new!r}")
            return False
        for value in values:
            problem = _segment_problem(value)
            if problem:
                self._fail(f"invalid {what} {value!r}: {problem}")
                return False
        return True

    def preflight(self) -> None:
        """Raise the first builder mistake, or a path that cannot be sent, as ``ValueError``."""
        if self._builder_error is not None:
            raise self._builder_error
        if self._namespace == "":
            if self._method == "POST":
                raise ValueError("invalid request: an empty namespace cannot be set for a create")
            if self._name and self._method in ("GET", "PUT", "DELETE"):
                raise ValueError(
                    "invalid request: an empty namespace cannot be set together with a name"
                )


def _segment_problem(value: str) -> str:
    if value in (".", ".."):
        return "may not be '.' or '..'"
    for bad in ("/", "%"):
        if bad in value:
            return f"may not contain {bad!r}"
    return ""
