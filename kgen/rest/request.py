"""The sync :class:`Request`: the shared builder (:mod:`kgen.rest._builder`) executed over
``requests`` (throttling, retries, error mapping), and its :class:`Result`.

A ``Request`` is made by a :class:`~kgen.rest.RESTClient` verb helper, configured by chained
builder calls, and executed once with :meth:`Request.do`, :meth:`Request.stream` or
:meth:`Request.watch`. Builder mistakes (a name set twice, a ``/`` in a segment...) do not raise
where they happen: the first one is kept and raised as ``ValueError`` at execution, so a chain
reads straight. A ``Request`` belongs to the thread that builds it; the client it came from is
shared. The retry decisions are :class:`kgen.rest._retry.Attempts`, shared with the async client.

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

import logging
from typing import TYPE_CHECKING, TypeVar

from kgen.rest._builder import RequestBuilder
from kgen.rest._connection import connection_failed
from kgen.rest._duration import go_duration
from kgen.rest._response import Result
from kgen.rest._retry import DEFAULT_MAX_RETRIES, RETRY_AFTER_ON_CONNECTION_ERROR, Attempts, Mode
from kgen.rest._stream import BodyStream, interrupt, read_body, read_events
from kgen.rest.errors import StatusError, UnexpectedResponseError
from kgen.rest.watch import Watch

if TYPE_CHECKING:
    import requests

    from kgen.rest.client import RESTClient

__all__ = ["DEFAULT_MAX_RETRIES", "Request", "Result"]

_log = logging.getLogger("kgen.rest")

T = TypeVar("T")


class Request(RequestBuilder):
    """One API call under construction. See the module docstring for errors and retries."""

    def __init__(self, client: RESTClient, method: str) -> None:
        super().__init__(client, method)
        self._client = client

    @property
    def client(self) -> RESTClient:
        """The REST client this request goes through."""
        return self._client

    # -- execution -----------------------------------------------------------------------

    def do(self) -> Result:
        """Send the request (rate limited) and read the whole response.

        Returns the :class:`Result` of a 2xx answer; raises :class:`StatusError` (with the
        server's Status, or one made from the HTTP code) or :class:`UnexpectedResponseError`
        otherwise; builder mistakes raise ``ValueError``; connection failures raise
        ``requests.RequestException``.
        """
        response, attempts = self._run("do")
        assert response is not None
        body = self._read(response, attempts.deadline)
        if not 200 <= response.status_code <= 206:
            raise self._error(response, body, attempts.previous)
        return Result(
            response.status_code, body, response.headers.get("Content-Type", ""), response.headers
        )

    def stream(self) -> BodyStream:
        """Send the request (rate limited) and yield the 2xx response body as it arrives (logs,
        follow mode). Call the iterator's ``close()`` to drop the connection early (before the
        first chunk too); reading to the end releases it. Errors as :meth:`do`.
        """
        response, attempts = self._run("stream")
        assert response is not None
        if not 200 <= response.status_code <= 299:
            raise self._error(response, response.content, attempts.previous)
        return BodyStream(response)

    def watch(self, type: type[T]) -> Watch[T]:
        """Start a watch (not rate limited; ``watch=true`` is added) and return its
        :class:`Watch`, whose objects are decoded straight into ``type`` (``dict`` for
        unstructured objects). A non-200 answer raises as :meth:`do`. A watch that stays silent
        for ``Config.watch_read_timeout`` seconds ends, as does one whose connection drops.
        """
        if not any(key == "watch" for key, _ in self._params):
            self._params.append(("watch", "true"))
        response, attempts = self._run("watch")
        if response is None:
            return Watch.empty()
        if response.status_code != 200:
            raise self._error(response, response.content, attempts.previous)
        return Watch(read_events(response, type), on_stop=lambda: interrupt(response))

    # -- internals -----------------------------------------------------------------------

    def _socket_timeout(
        self, mode: Mode, attempts: Attempts
    ) -> float | tuple[float | None, float | None] | None:
        """The socket timeout of the next attempt: for a watch, the connect timeout and
        ``Config.watch_read_timeout``; otherwise what is left of the request's timeout."""
        import requests

        if mode == "watch":
            return (self._timeout or None, self._client.config.watch_read_timeout)
        remaining = attempts.remaining()
        if remaining is None:
            return None
        if remaining <= 0:
            raise requests.Timeout(
                f"{self._method} {self.url()}: timed out after {go_duration(self._timeout or 0)}"
            )
        return remaining

    def _run(self, mode: Mode) -> tuple[requests.Response | None, Attempts]:
        """Send with retries. Returns the final response (``None``: a watch whose connection
        kept failing) and the attempts (the previous attempt's error, for error wrapping, and
        the deadline the body must arrive by). The final response's warnings have gone to the
        warning handler."""
        import requests

        self.preflight()
        client = self._client
        if mode != "watch":
            client._throttle()
        url = self.url()
        attempts = Attempts(
            method=self._method,
            mode=mode,
            url=url,
            max_retries=self._max_retries,
            replayable=not hasattr(self._body, "read"),
            timeout=self._timeout,
            clock=client._clock,
            backoff=client._backoff,
        )
        delay = attempts.initial_delay()
        if delay > 0:
            client._sleep(delay)
        while True:
            try:
                response, from_provider = client._send(
                    self._method,
                    url,
                    headers=self._headers,
                    body=self._body,
                    stream=True,
                    timeout=self._socket_timeout(mode, attempts),
                )
            except requests.RequestException as err:
                outcome = attempts.on_connection_error(
                    err, timed_out=isinstance(err, requests.Timeout), reset=_is_reset(err)
                )
                if outcome == "retry":
                    _log.info(
                        "%s %s: connection failed (%s), retrying",
                        self._method,
                        url,
                        type(err).__name__,
                    )
                    self._pause(attempts, RETRY_AFTER_ON_CONNECTION_ERROR)
                    continue
                if outcome == "end":
                    _log.info("watch %s: connection failed, ending the watch empty", url)
                    return None, attempts
                raise connection_failed(err, self._method, url) from err
            attempts.on_answer(response.status_code)
            if attempts.ask_provider(response.status_code, from_provider):
                provider = client.auth_provider
                if provider is not None and provider.on_unauthorized() and attempts.replayable:
                    response.close()
                    _log.info("%s %s: 401, retrying with refreshed credentials", self._method, url)
                    continue
            wait = attempts.retry_wait(response.status_code, response.headers.get("Retry-After"))
            if wait is not None:
                attempts.previous = self._error(
                    response, self._read(response, attempts.deadline), None
                )
                response.close()
                _log.info(
                    "%s %s: %d, retrying in %ss", self._method, url, response.status_code, wait
                )
                self._pause(attempts, wait)
                continue
            try:
                client._handle_warnings(response)
            except BaseException:
                response.close()
                raise
            return response, attempts

    def _pause(self, attempts: Attempts, seconds: float) -> None:
        """Wait before a retry (see :meth:`Attempts.pause`); then the rate limiter, except for
        watches."""
        self._client._sleep(attempts.pause(seconds))
        if attempts.mode != "watch":
            self._client._throttle()

    def _error(
        self, response: requests.Response, body: bytes, previous: Exception | None
    ) -> StatusError | UnexpectedResponseError:
        return self._status_error(response.status_code, response.headers, body, previous)

    def _read(self, response: requests.Response, deadline: float | None) -> bytes:
        """The whole body, by ``deadline`` if there is one (``requests.ReadTimeout`` otherwise,
        naming the request)."""
        import requests

        try:
            return read_body(response, deadline, self._client._clock)
        except requests.ReadTimeout as err:
            raise requests.ReadTimeout(
                f"{self._method} {self.url()}: the response body did not arrive within "
                f"{go_duration(self._timeout or 0)}",
                response=response,
            ) from err


def _is_reset(err: requests.RequestException) -> bool:
    """Whether a connection reset or a premature end of the connection caused ``err``."""
    import http.client

    import urllib3

    reset_errors = (
        ConnectionResetError,
        BrokenPipeError,
        http.client.RemoteDisconnected,
        http.client.IncompleteRead,
        urllib3.exceptions.ProtocolError,
    )
    return _has_cause(err, reset_errors)


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
