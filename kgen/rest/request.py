"""The :class:`Request` builder, its execution (throttling, retries, error mapping) and
:class:`Result`.

A ``Request`` is made by a :class:`~kgen.rest.RESTClient` verb helper, configured by chained
builder calls, and executed once with :meth:`Request.do`, :meth:`Request.stream` or
:meth:`Request.watch`. Builder mistakes (a name set twice, a ``/`` in a segment...) do not raise
where they happen: the first one is kept and raised as ``ValueError`` at execution, so a chain
reads straight. A ``Request`` belongs to the thread that builds it; the client it came from is
shared.

Retries (every execution mode): a 429 or 5xx answer that carries an integer ``Retry-After`` is
retried after that many seconds, up to :meth:`Request.max_retries` times (10 by default) and
only while the wait fits in the request's timeout; byte bodies are re-sent in full, streamed
bodies are never retried. A 5xx without
``Retry-After`` is not retried. A connection reset or a dropped connection is retried (after one
second) for ``GET`` in :meth:`do`, and for any verb in :meth:`watch`; a watch whose connection
still fails after the retries ends empty instead of raising, so its caller just watches again.
A 401 to credentials from the auth provider is retried once if the provider says so.
"""

from __future__ import annotations

import http.client
import logging
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TypeVar
from urllib.parse import quote, urlencode

import msgspec
import requests
import urllib3

from kgen.meta import Status, decode
from kgen.rest._duration import go_duration
from kgen.rest._stream import BodyStream, interrupt, read_body, read_events
from kgen.rest.errors import StatusError, UnexpectedResponseError, as_status, response_error
from kgen.rest.options import ListOptions
from kgen.rest.watch import Watch

if TYPE_CHECKING:
    from kgen.rest.client import RESTClient

__all__ = ["DEFAULT_MAX_RETRIES", "Request", "Result"]

_log = logging.getLogger("kgen.rest")

T = TypeVar("T")
_Mode = Literal["do", "stream", "watch"]

DEFAULT_MAX_RETRIES = 10
"""How many times a request is retried at most (so at most 11 attempts)."""
_RETRY_AFTER_ON_CONNECTION_ERROR = 1.0
_SMALL_BODY = 4096  # bodies shorter than this are checked for a failure Status in into()
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class Result:
    """A successful (2xx) response, body read in full. Immutable; safe to share."""

    status_code: int
    body: bytes
    content_type: str = ""

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


class Request:
    """One API call under construction. See the module docstring for errors and retries."""

    def __init__(self, client: RESTClient, method: str) -> None:
        self._client = client
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
        self._params: list[tuple[str, str]] = []
        self._headers = requests.structures.CaseInsensitiveDict[str]()
        self._body: bytes | BinaryIO | None = None
        self._timeout = client.config.timeout
        self._max_retries = DEFAULT_MAX_RETRIES

    # -- builder -------------------------------------------------------------------------

    def group_version(self, group: str, version: str) -> Request:
        """Address ``/apis/<group>/<version>``, or ``<api_path>/<version>`` for the core group
        (``group == ""``)."""
        root = f"/apis/{group}" if group else self._client.config.api_path
        self._versioned_path = posixpath.join("/", root.strip("/"), version)
        return self

    def abs_path(self, *segments: str) -> Request:
        """Address an absolute path under the host's base path, replacing the group/version
        (``/version``, ``/openapi/v2``...). A lone segment's trailing ``/`` is kept."""
        self._abs_path = "/".join(segments) or "/"
        self._abs_trailing = len(segments) == 1 and segments[0].endswith("/")
        return self

    def namespace(self, namespace: str) -> Request:
        """Address ``namespaces/<namespace>``; ``""`` means no namespace segment. Once only."""
        if self._set_once("namespace", self._namespace, namespace):
            self._namespace = namespace
        return self

    def resource(self, resource: str) -> Request:
        """Address the resource (plural, lower-cased). Once only."""
        if self._set_once("resource", self._resource, resource):
            self._resource = resource.lower()
        return self

    def name(self, name: str) -> Request:
        """Address one object by name (non-empty). Once only."""
        if not name:
            self._fail("resource name may not be empty")
        elif self._set_once("resource name", self._name, name):
            self._name = name
        return self

    def subresource(self, *parts: str) -> Request:
        """Address a subresource (``status``, ``scale``, ``log``...). Once only."""
        joined = "/".join(parts)
        if self._set_once("subresource", self._subresource, *parts):
            self._subresource = joined
        return self

    def suffix(self, *parts: str) -> Request:
        """Append path segments after the name and subresource."""
        self._suffix.extend(parts)
        return self

    def param(self, key: str, value: str) -> Request:
        """Add a query parameter (repeatable: values accumulate)."""
        self._params.append((key, value))
        return self

    def list_options(self, options: ListOptions) -> Request:
        """Add the query parameters of ``options``."""
        self._params.extend(options.to_params())
        return self

    def header(self, key: str, value: str) -> Request:
        """Set a request header (replacing one of the same name). A caller's ``Authorization``
        or ``User-Agent`` is sent as given."""
        self._headers[key] = value
        return self

    def timeout(self, seconds: float | None) -> Request:
        """Per-request timeout, also sent to the server as ``timeout=<Go duration>``.

        Locally it bounds the whole call: each attempt's socket operations get what is left of
        it, a retry happens only if its wait still fits, and :meth:`do` reads the body as it
        arrives and gives up when the time is over, however steadily it trickles in
        (``requests.Timeout`` in every case).
        For a watch only the parameter and the connect timeout apply (the read timeout is
        ``Config.watch_read_timeout``). The default is ``Config.timeout``; ``0``/``None`` sends
        no parameter and waits indefinitely."""
        self._timeout = seconds
        return self

    def max_retries(self, retries: int) -> Request:
        """How many times a retryable failure is retried (negative means 0)."""
        self._max_retries = max(0, retries)
        return self

    def body(
        self, body: bytes | os.PathLike[str] | msgspec.Struct | Mapping[str, Any] | BinaryIO | None
    ) -> Request:
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
    def client(self) -> RESTClient:
        """The REST client this request goes through."""
        return self._client

    @property
    def method(self) -> str:
        """The HTTP method."""
        return self._method

    def url(self) -> str:
        """The full URL this request will be sent to (query parameters sorted by name)."""
        segments: list[str | None] = [
            self._client.base_path,
            self._abs_path or self._versioned_path,
        ]
        if self._namespace:
            segments += ["namespaces", self._namespace]
        tail = [self._resource, self._name, self._subresource, *self._suffix]
        segments += tail
        path = posixpath.normpath("/" + "/".join(s.strip("/") for s in segments if s))
        if self._abs_trailing and path != "/" and not (self._namespace or any(tail)):
            path += "/"
        params = list(self._params)
        if self._timeout:
            params.append(("timeout", go_duration(self._timeout)))
        query = urlencode(sorted(params, key=lambda kv: kv[0]))
        url = self._client.base_origin + quote(path, safe=_PATH_SAFE)
        return f"{url}?{query}" if query else url

    # -- execution -----------------------------------------------------------------------

    def do(self) -> Result:
        """Send the request (rate limited) and read the whole response.

        Returns the :class:`Result` of a 2xx answer; raises :class:`StatusError` (with the
        server's Status, or one made from the HTTP code) or :class:`UnexpectedResponseError`
        otherwise; builder mistakes raise ``ValueError``; connection failures raise
        ``requests.RequestException``.
        """
        response, previous, deadline = self._run("do")
        assert response is not None
        body = self._read(response, deadline)
        if not 200 <= response.status_code <= 206:
            raise self._error(response, body, previous)
        return Result(response.status_code, body, response.headers.get("Content-Type", ""))

    def stream(self) -> BodyStream:
        """Send the request (rate limited) and yield the 2xx response body as it arrives (logs,
        follow mode). Call the iterator's ``close()`` to drop the connection early (before the
        first chunk too); reading to the end releases it. Errors as :meth:`do`.
        """
        response, previous, _ = self._run("stream")
        assert response is not None
        if not 200 <= response.status_code <= 299:
            raise self._error(response, response.content, previous)
        return BodyStream(response)

    def watch(self, type: type[T]) -> Watch[T]:
        """Start a watch (not rate limited; ``watch=true`` is added) and return its
        :class:`Watch`, whose objects are decoded straight into ``type`` (``dict`` for
        unstructured objects). A non-200 answer raises as :meth:`do`. A watch that stays silent
        for ``Config.watch_read_timeout`` seconds ends, as does one whose connection drops.
        """
        if not any(key == "watch" for key, _ in self._params):
            self._params.append(("watch", "true"))
        response, previous, _ = self._run("watch")
        if response is None:
            return Watch.empty()
        if response.status_code != 200:
            raise self._error(response, response.content, previous)
        return Watch(read_events(response, type), on_stop=lambda: interrupt(response))

    # -- internals -----------------------------------------------------------------------

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

    def _preflight(self) -> None:
        if self._builder_error is not None:
            raise self._builder_error
        if self._namespace == "":
            if self._method == "POST":
                raise ValueError("invalid request: an empty namespace cannot be set for a create")
            if self._name and self._method in ("GET", "PUT", "DELETE"):
                raise ValueError(
                    "invalid request: an empty namespace cannot be set together with a name"
                )

    def _socket_timeout(
        self, mode: _Mode, deadline: float | None
    ) -> float | tuple[float | None, float | None] | None:
        """The socket timeout of the next attempt: for a watch, the connect timeout and
        ``Config.watch_read_timeout``; otherwise what is left of the request's timeout."""
        if mode == "watch":
            return (self._timeout or None, self._client.config.watch_read_timeout)
        if deadline is None:
            return None
        remaining = deadline - self._client._clock()
        if remaining <= 0:
            raise requests.Timeout(
                f"{self._method} {self.url()}: timed out after {go_duration(self._timeout or 0)}"
            )
        return remaining

    def _may_wait(self, seconds: float, deadline: float | None) -> bool:
        """Whether a retry after ``seconds`` still fits in the request's timeout."""
        return deadline is None or self._client._clock() + seconds < deadline

    def _run(self, mode: _Mode) -> tuple[requests.Response | None, Exception | None, float | None]:
        """Send with retries. Returns the final response (``None``: a watch whose connection
        kept failing), the error of the previous attempt, if any, for error wrapping, and the
        deadline (on the client's clock) the body must arrive by, if any. The final response's
        warnings have gone to the warning handler."""
        self._preflight()
        client = self._client
        if mode != "watch":
            client._throttle()
        url = self.url()
        deadline = client._clock() + self._timeout if self._timeout and mode != "watch" else None
        backoff = client._backoff
        if backoff is not None and backoff.delay(url) > 0:
            client._sleep(backoff.delay(url))
        retries = 0
        previous: Exception | None = None
        asked_provider = False
        replayable = not hasattr(self._body, "read")
        while True:
            try:
                response, from_provider = client._send(
                    self._method,
                    url,
                    headers=self._headers,
                    body=self._body,
                    stream=True,
                    timeout=self._socket_timeout(mode, deadline),
                )
            except requests.RequestException as err:
                if backoff is not None:
                    backoff.update(url, None)
                if (
                    replayable
                    and retries < self._max_retries
                    and _retryable(err, mode, self)
                    and self._may_wait(_RETRY_AFTER_ON_CONNECTION_ERROR, deadline)
                ):
                    retries += 1
                    previous = err
                    _log.info(
                        "%s %s: connection failed (%s), retrying",
                        self._method,
                        url,
                        type(err).__name__,
                    )
                    self._pause(_RETRY_AFTER_ON_CONNECTION_ERROR, mode, url)
                    continue
                if mode == "watch" and _retryable(err, mode, self):
                    _log.info("watch %s: connection failed, ending the watch empty", url)
                    return None, err, None
                if previous is not None:
                    err.add_note(f"error from a previous attempt: {previous}")
                raise
            if backoff is not None:
                backoff.update(url, response.status_code)
            if response.status_code == 401 and from_provider and not asked_provider:
                asked_provider = True
                provider = client.auth_provider
                if provider is not None and provider.on_unauthorized() and replayable:
                    response.close()
                    _log.info("%s %s: 401, retrying with refreshed credentials", self._method, url)
                    continue
            wait = _retry_after(response)
            if (
                wait is not None
                and replayable
                and retries < self._max_retries
                and self._may_wait(wait, deadline)
            ):
                retries += 1
                previous = self._error(response, self._read(response, deadline), None)
                response.close()
                _log.info(
                    "%s %s: %d, retrying in %ss", self._method, url, response.status_code, wait
                )
                self._pause(wait, mode, url)
                continue
            try:
                client._handle_warnings(response)
            except BaseException:
                response.close()
                raise
            return response, previous, deadline

    def _pause(self, seconds: float, mode: _Mode, url: str) -> None:
        """Wait before a retry: the server's (or the synthetic) delay, or the backoff's if longer;
        then the rate limiter, except for watches."""
        backoff = self._client._backoff
        if backoff is not None:
            seconds = max(seconds, backoff.delay(url))
        self._client._sleep(seconds)
        if mode != "watch":
            self._client._throttle()

    def _error(
        self, response: requests.Response, body: bytes, previous: Exception | None
    ) -> StatusError | UnexpectedResponseError:
        error = response_error(
            response.status_code,
            self._method,
            body,
            content_type=response.headers.get("Content-Type", ""),
            retry_after_seconds=_retry_after_header(response) or 0,
            resource=self._resource or "",
            name=self._name or "",
        )
        if previous is not None and str(previous) != str(error):
            error.add_note(f"error from a previous attempt: {previous}")
        return error

    def _read(self, response: requests.Response, deadline: float | None) -> bytes:
        """The whole body, by ``deadline`` if there is one (``requests.ReadTimeout`` otherwise,
        naming the request)."""
        try:
            return read_body(response, deadline, self._client._clock)
        except requests.ReadTimeout as err:
            raise requests.ReadTimeout(
                f"{self._method} {self.url()}: the response body did not arrive within "
                f"{go_duration(self._timeout or 0)}",
                response=response,
            ) from err


def _segment_problem(value: str) -> str:
    if value in (".", ".."):
        return "may not be '.' or '..'"
    for bad in ("/", "%"):
        if bad in value:
            return f"may not contain {bad!r}"
    return ""


def _retry_after_header(response: requests.Response) -> int | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value.isdigit():
        return None
    return int(value)


def _retry_after(response: requests.Response) -> int | None:
    """Seconds to wait before retrying, or ``None`` when the answer is not retryable."""
    if response.status_code != 429 and response.status_code < 500:
        return None
    return _retry_after_header(response)


_RESET_ERRORS = (
    ConnectionResetError,
    BrokenPipeError,
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
    urllib3.exceptions.ProtocolError,
)


def _retryable(err: requests.RequestException, mode: _Mode, request: Request) -> bool:
    """Connection resets and premature EOFs, for GET in do(); also timeouts in watch()."""
    if mode == "stream":
        return False
    if mode == "do" and request.method != "GET":
        return False
    if mode == "watch" and isinstance(err, requests.Timeout):
        return True
    return _has_cause(err, _RESET_ERRORS)


def _has_cause(err: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    todo: list[object] = [err]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kinds) and item is not err:
            return True
        todo.extend(item.args)
        todo.extend((item.__cause__, item.__context__, getattr(item, "reason", None)))
    return False


def _type_name(type: object) -> str:
    return getattr(type, "__name__", repr(type))
