"""The requests of the streaming subresources (``exec``, ``attach``, ``log``, ``portforward``,
``proxy``), built once for the sync mixins (:mod:`kgen.client._connect`) and the async ones
(:mod:`kgen.client.aio._connect`): argument checks, query parameters as client-go sends them,
and what a stream's errors name. Pure functions over any request builder; nothing is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict, TypeVar

from kgen.client._core import ResourceCore
from kgen.rest._builder import RequestBuilder

__all__ = ["LogOptions", "check_command", "describe", "log_request", "proxy_request"]

Q = TypeVar("Q", bound=RequestBuilder)


class LogOptions(TypedDict, total=False):
    """The options of a log request, as client-go's ``PodLogOptions`` (all optional):
    ``container`` (may be left out for a pod with one container), ``previous`` (the last
    terminated instance), ``since_seconds`` or ``since_time`` (a timezone-aware time, sent to
    the second, or an RFC 3339 string), ``tail_lines``, ``limit_bytes``, ``timestamps`` (each
    line prefixed with its RFC 3339 time), ``insecure_skip_tls_verify_backend``."""

    container: str | None
    previous: bool
    since_seconds: int | None
    since_time: datetime | str | None
    tail_lines: int | None
    limit_bytes: int | None
    timestamps: bool
    insecure_skip_tls_verify_backend: bool


_FLAGS = {
    "previous": "previous",
    "timestamps": "timestamps",
    "insecure_skip_tls_verify_backend": "insecureSkipTLSVerifyBackend",
}
_NUMBERS = {"since_seconds": "sinceSeconds", "tail_lines": "tailLines", "limit_bytes": "limitBytes"}


def check_command(command: Sequence[str]) -> None:
    """``ValueError`` unless ``command`` is a non-empty sequence of arguments (not a string)."""
    if isinstance(command, str) or not command:
        raise ValueError("exec: command must be a non-empty sequence of arguments")


def log_request(
    client: ResourceCore[Any, Any, Q], name: str, follow: bool, options: LogOptions
) -> Q:
    """GET ``<name>/log`` with the options as query parameters, as client-go sends them;
    ``TypeError`` for an unknown option or a value of the wrong type, ``ValueError`` for a
    naive ``since_time``."""
    unknown = set(options) - set(LogOptions.__annotations__)
    if unknown:
        raise TypeError(f"logs: unknown options {', '.join(sorted(unknown))}")
    request = client._named(client._verbs.get(), name, "log")
    container = options.get("container")
    if container:
        request = request.param("container", container)
    if follow:
        request = request.param("follow", "true")
    for key, param in _FLAGS.items():
        if options.get(key):
            request = request.param(param, "true")
    for key, param in _NUMBERS.items():
        value = options.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"logs: {param} must be an int, got {value!r}")
            request = request.param(param, str(value))
    since_time = options.get("since_time")
    if since_time is not None:
        request = request.param("sinceTime", _rfc3339(since_time))
    return request


def _rfc3339(when: datetime | str) -> str:
    """``when`` as the query parameter client-go sends: RFC 3339 in UTC, to the second."""
    if isinstance(when, str):
        return when
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"logs: since_time must be timezone-aware, got {when!r}")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def proxy_request(
    client: ResourceCore[Any, Any, Q],
    method: str,
    name: str,
    path: str,
    *,
    port: int | str | None,
    scheme: str | None,
    params: Mapping[str, str | Sequence[str]] | None,
    headers: Mapping[str, str] | None,
    body: bytes | Mapping[str, Any] | None,
    timeout: float | None,
) -> Q:
    """``method`` ``path`` through ``[scheme:]name[:port]``'s proxy subresource (see
    :meth:`kgen.client.ProxyMixin.proxy`); ``ValueError`` for ``.``/``..`` segments or a
    scheme other than http/https."""
    segments = [s for s in path.split("/") if s]
    if ".." in segments or "." in segments:
        raise ValueError(f"proxy: path {path!r} may not contain '.' or '..' segments")
    if scheme not in (None, "", "http", "https"):
        raise ValueError(f"proxy: scheme must be 'http' or 'https', not {scheme!r}")
    target = ":".join(
        [*([scheme] if scheme else []), name, *([str(port)] if port is not None else [])]
    )
    request = client._named(client._verbs.verb(method), target, "proxy").timeout(timeout)
    if segments:
        request = request.suffix(*segments[:-1], segments[-1] + ("/" if path.endswith("/") else ""))
    elif path.endswith("/"):
        request = request.suffix("/")
    for key, value in (params or {}).items():
        for one in [value] if isinstance(value, str) else value:
            request = request.param(key, one)
    for key, value in (headers or {}).items():
        request = request.header(key, value)
    if body is not None:
        request = request.body(body)
    return request


def describe(client: ResourceCore[Any, Any, Any], name: str, container: str | None = None) -> str:
    """``pods ns/name container c``: what a stream's errors name."""
    namespace = client.target_namespace
    where = f"{namespace}/{name}" if namespace else name
    return f"{client.resource.resource} {where}" + (f" container {container}" if container else "")
