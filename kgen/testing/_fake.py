"""Fake clusters for unit tests without sockets: a ``requests`` adapter over the handler, with
client-go style reactors and a record of every action.

``Fake`` sits in front of a :class:`~kgen.testing._handler.Handler`: each resource request is
recorded as an :class:`Action` (before anything else runs), then offered to the reactors in
order; the first that handles it decides the answer, and if none does the request is served by
the handler exactly as the HTTP server would serve it. ``FakeTransport`` is the
``requests.adapters.BaseAdapter`` that routes a session's requests into a ``Fake``::

    fake = Fake(model)
    session = fake.session()              # requests to fake.url reach the fake cluster
    fake.prepend_reactor("create", "pods", lambda action: raise_(APIError.forbidden(...)))

Thread-safe: actions and reactors are guarded by one lock; reactors run on the calling thread.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from kgen.spec.model import APIModel
from kgen.testing._auth import Auth
from kgen.testing._errors import APIError
from kgen.testing._handler import (
    HALF_OPEN,
    Handler,
    Request,
    Response,
    error_response,
    json_response,
)
from kgen.testing._tracker import ObjectTracker

__all__ = ["Action", "Fake", "FakeTransport", "Reactor"]

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Action:
    """One recorded request: the verb and where it went, with its body and query."""

    verb: str
    group: str
    version: str
    resource: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    body: bytes = b""
    content_type: str = ""
    query: Mapping[str, list[str]] = field(default_factory=dict)

    def matches(self, verb: str, resource: str) -> bool:
        """client-go's rule: ``*`` or equal verb; ``*``, the resource, or ``resource/sub``."""
        if verb not in ("*", self.verb):
            return False
        if resource == "*":
            return True
        if self.subresource:
            return resource == f"{self.resource}/{self.subresource}"
        return resource == self.resource

    def object(self) -> Any:
        """The decoded JSON body (``None`` when there is none)."""
        return msgspec.json.decode(self.body) if self.body.strip() else None


Reactor = Callable[[Action], Any]
"""Returns ``None`` to pass, a JSON dict to answer with it (a list of watch events for a watch),
or raises :class:`~kgen.testing.APIError` to answer with that error."""


class Fake:
    """Recorded actions and reactors in front of a handler; see the module docstring."""

    url = "http://kgen.fake"

    def __init__(self, model: APIModel | ObjectTracker, *, handler: Handler | None = None) -> None:
        self.tracker = model if isinstance(model, ObjectTracker) else ObjectTracker(model)
        self.handler = handler or Handler(self.tracker, auth=Auth(allow_anonymous=True))
        self._lock = threading.Lock()
        self._actions: list[Action] = []
        self._reactors: list[tuple[str, str, Reactor]] = []

    @property
    def actions(self) -> list[Action]:
        """Every recorded action, oldest first (a copy)."""
        with self._lock:
            return list(self._actions)

    def clear_actions(self) -> None:
        with self._lock:
            self._actions.clear()

    def add_reactor(self, verb: str, resource: str, reactor: Reactor) -> None:
        """Consult ``reactor`` after those already registered."""
        with self._lock:
            self._reactors.append((verb, resource, reactor))

    def prepend_reactor(self, verb: str, resource: str, reactor: Reactor) -> None:
        """Consult ``reactor`` before those already registered."""
        with self._lock:
            self._reactors.insert(0, (verb, resource, reactor))

    def session(self) -> requests.Session:
        """A new session whose requests to :attr:`url` are served by this fake."""
        session = requests.Session()
        session.trust_env = False
        session.mount(self.url, FakeTransport(self))
        return session

    def serve(self, request: Request) -> Response:
        """Record, react, or hand ``request`` to the handler."""
        described = self.handler.describe(request)
        if described is None:
            return self.handler.handle(request)
        verb, info, namespace, name, subresource = described
        action = Action(
            verb,
            info.group,
            info.version,
            info.plural,
            namespace,
            name,
            subresource,
            request.body,
            request.headers.get("content-type", ""),
            dict(request.query),
        )
        with self._lock:
            self._actions.append(action)
            reactors = [r for v, res, r in self._reactors if action.matches(v, res)]
        for reactor in reactors:
            try:
                result = reactor(action)
            except APIError as err:
                return error_response(err)
            if result is None:
                continue
            if verb == "watch":
                events = list(result)
                return Response(  # chunked, as the handler's own watches (HTTP needs it)
                    200,
                    [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
                    stream=iter(_encoder.encode(e) + b"\n" for e in events),
                )
            return json_response(201 if verb == "create" else 200, result)
        return self.handler.handle(request)


class _StreamBody(io.RawIOBase):
    """A file-like view of a response's chunks for ``requests`` to read."""

    def __init__(
        self, response: Response, timeout: float | None, stopping: threading.Event
    ) -> None:
        self._response = response
        self._chunks: Iterator[bytes] = iter(response.stream or ())
        self._buffer = b""
        self._timeout = timeout
        self._stopping = stopping

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        """Make the buffer non-empty with the next chunk; False at the end of the body."""
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return False
            if chunk == HALF_OPEN:
                self._stopping.wait(self._timeout)
                raise requests.exceptions.ConnectionError(
                    "read timed out on a half-open connection"
                )
            self._buffer = chunk
        return True

    def readinto(self, target: Any) -> int:
        if not self._fill():
            return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def read1(self, size: int = -1) -> bytes:
        """What is available now, at most ``size`` bytes (the rest of the current chunk when
        negative); ``b""`` at the end. Streaming readers (watch decoding) call this so that
        they never wait to fill a buffer."""
        if not self._fill():
            return b""
        take = len(self._buffer) if size < 0 else size
        data, self._buffer = self._buffer[:take], self._buffer[take:]
        return data

    def close(self) -> None:
        self._response.close()
        super().close()


class FakeTransport(BaseAdapter):
    """Serves a ``requests`` session from a :class:`Fake` (or a bare handler), no sockets."""

    def __init__(self, target: Fake | Handler) -> None:
        super().__init__()
        self._serve: Callable[[Request], Response] = (
            target.serve if isinstance(target, Fake) else target.handle
        )
        self._stopping = target.handler.stopping if isinstance(target, Fake) else target.stopping

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body or b""
        ours = Request(
            method=(request.method or "GET").upper(),
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=(
                body.encode()
                if isinstance(body, str)
                else bytes(body) if not hasattr(body, "read") else body.read()
            ),
        )
        served = self._serve(ours)
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        response = requests.Response()
        response.status_code = served.status
        response.headers = CaseInsensitiveDict(dict(served.headers))
        response.url = request.url or ""
        response.request = request
        response.reason = ""
        if served.stream is None:
            response.raw = io.BytesIO(served.body)
            served.close()
        else:
            response.raw = _StreamBody(served, read_timeout, self._stopping)
        if not stream:
            _ = response.content
        return response

    def close(self) -> None:
        return None
