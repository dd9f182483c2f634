"""The async :class:`AsyncRequest`: the shared builder (:mod:`kgen.rest._builder`) executed
over aiohttp with the shared retry rules (:class:`kgen.rest._retry.Attempts`), response errors
and watch decoding.

An ``AsyncRequest`` is made by an :class:`~kgen.rest.aio.AsyncRESTClient` verb helper,
configured by the same chained builder calls as the sync :class:`~kgen.rest.Request`, and
executed once with ``await`` :meth:`~AsyncRequest.do`, :meth:`~AsyncRequest.stream` or
:meth:`~AsyncRequest.watch` (or iterated with :meth:`~AsyncRequest.pages`). Errors, retries and timeouts are those of the sync
request; the transport's own errors are ``aiohttp.ClientError`` (connection failures) and
``TimeoutError`` (naming the request). Cancelling the awaiting task closes the response's
connection.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, TypeVar

import aiohttp

from kgen.rest._builder import RequestBuilder
from kgen.rest._connection import connection_failed
from kgen.rest._duration import go_duration
from kgen.rest._frames import WatchDecoder
from kgen.rest._response import Result, continue_token
from kgen.rest._retry import RETRY_AFTER_ON_CONNECTION_ERROR, Attempts, Mode
from kgen.rest.aio._connector import abort
from kgen.rest.aio._stream import AsyncBodyStream
from kgen.rest.aio._watch import AsyncWatch
from kgen.rest.errors import StatusError, UnexpectedResponseError

if TYPE_CHECKING:
    from kgen.rest.aio._client import AsyncRESTClient

__all__ = ["AsyncRequest"]

_log = logging.getLogger("kgen.rest")

T = TypeVar("T")

_PAGE_DROPPED = ("limit", "continue", "resourceVersion", "resourceVersionMatch")


class AsyncRequest(RequestBuilder):
    """One API call under construction, executed with ``await``; see the module docstring."""

    def __init__(self, client: AsyncRESTClient, method: str) -> None:
        super().__init__(client, method)
        self._client = client

    @property
    def client(self) -> AsyncRESTClient:
        """The async REST client this request goes through."""
        return self._client

    # -- execution -----------------------------------------------------------------------

    async def do(self) -> Result:
        """Send the request (rate limited) and read the whole response.

        Returns the :class:`~kgen.rest.Result` of a 2xx answer; raises
        :class:`~kgen.rest.StatusError` (the server's Status, or one made from the HTTP code) or
        :class:`~kgen.rest.UnexpectedResponseError` otherwise; builder mistakes raise
        ``ValueError``; connection failures ``aiohttp.ClientError``; timeouts ``TimeoutError``.
        """
        response, attempts = await self._run("do")
        assert response is not None
        body = await self._read(response, attempts)
        if not 200 <= response.status <= 206:
            raise self._error(response, body, attempts.previous)
        return Result(
            response.status, body, response.headers.get("Content-Type", ""), response.headers
        )

    def pages(self, limit: int) -> AsyncIterator[Result]:
        """List page by page: each page is a :meth:`do` with ``limit`` and, after the first,
        the ``continue`` token of the previous page (and no ``resourceVersion``/
        ``resourceVersionMatch``, which the server refuses with a token). Ends after the page
        without a token. Errors as :meth:`do` (an expired token is a 410 ``StatusError``)."""
        if limit <= 0:
            raise ValueError(f"pages: limit must be positive, got {limit}")
        return self._pages(limit)

    async def _pages(self, limit: int) -> AsyncIterator[Result]:
        token = ""
        while True:
            page = copy.copy(self)
            params = self._params
            if token:
                params = [(k, v) for k, v in params if k not in _PAGE_DROPPED]
                params.append(("continue", token))
            page._params = [(k, v) for k, v in params if k != "limit"] + [("limit", str(limit))]
            result = await page.do()
            yield result
            token = continue_token(result.body)
            if not token:
                return

    async def stream(self) -> AsyncBodyStream:
        """Send the request (rate limited) and return the 2xx body as it arrives (logs, follow
        mode): an async iterator of chunks; ``close()`` or ``async with`` drops the connection
        early. Each socket operation is bounded by what was left of the timeout when the request
        was sent (the stream as a whole is not). Errors as :meth:`do`."""
        response, attempts = await self._run("stream")
        assert response is not None
        if not 200 <= response.status <= 299:
            raise self._error(response, await self._read(response, attempts), attempts.previous)
        return AsyncBodyStream(response)

    async def watch(self, type: type[T]) -> AsyncWatch[T]:
        """Start a watch (not rate limited; ``watch=true`` is added) and return its
        :class:`AsyncWatch`, whose objects are decoded straight into ``type`` (``dict`` for
        unstructured objects). A non-200 answer raises as :meth:`do`. A watch whose connection
        keeps failing is returned empty."""
        if not any(key == "watch" for key, _ in self._params):
            self._params.append(("watch", "true"))
        response, attempts = await self._run("watch")
        if response is None:
            return AsyncWatch.empty(type)
        if response.status != 200:
            raise self._error(response, await self._read(response, attempts), attempts.previous)
        watch: AsyncWatch[T] = AsyncWatch(response, WatchDecoder(type))
        self._client._watches.add(watch)
        return watch

    # -- internals -----------------------------------------------------------------------

    def _attempt_timeout(self, mode: Mode, attempts: Attempts) -> aiohttp.ClientTimeout:
        """For a watch, the connect timeout and ``Config.watch_read_timeout`` (between reads);
        for a stream, what is left of the request's timeout for each socket operation;
        otherwise what is left of it for the whole attempt."""
        if mode == "watch":
            return aiohttp.ClientTimeout(
                total=None,
                sock_connect=self._timeout or None,
                sock_read=self._client.config.watch_read_timeout,
            )
        remaining = attempts.remaining()
        if remaining is not None and remaining <= 0:
            raise TimeoutError(
                f"{self._method} {self.url()}: timed out after {go_duration(self._timeout or 0)}"
            )
        if mode == "stream":
            return aiohttp.ClientTimeout(total=None, sock_connect=remaining, sock_read=remaining)
        return aiohttp.ClientTimeout(total=remaining)

    async def _run(self, mode: Mode) -> tuple[aiohttp.ClientResponse | None, Attempts]:
        """Send with retries (see :class:`Attempts`); as the sync request's ``_run``."""
        self.preflight()
        if hasattr(self._body, "read"):
            raise ValueError("invalid request: the async client sends bytes bodies only")
        body = self._body if isinstance(self._body, bytes) else None
        client = self._client
        if mode != "watch":
            await client._throttle()
        url = self.url()
        attempts = Attempts(
            method=self._method,
            mode=mode,
            url=url,
            max_retries=self._max_retries,
            replayable=True,
            timeout=self._timeout,
            clock=client._clock,
            backoff=client._backoff,
        )
        delay = attempts.initial_delay()
        if delay > 0:
            await client._sleep(delay)
        while True:
            try:
                response, from_provider = await client._send(
                    self._method,
                    url,
                    headers=self._headers,
                    body=body,
                    timeout=self._attempt_timeout(mode, attempts),
                )
            except (aiohttp.ClientError, TimeoutError) as err:
                outcome = attempts.on_connection_error(
                    err, timed_out=isinstance(err, TimeoutError), reset=_is_reset(err)
                )
                if outcome == "retry":
                    _log.info(
                        "%s %s: connection failed (%s), retrying",
                        self._method,
                        url,
                        type(err).__name__,
                    )
                    await self._pause(attempts, RETRY_AFTER_ON_CONNECTION_ERROR)
                    continue
                if outcome == "end":
                    _log.info("watch %s: connection failed, ending the watch empty", url)
                    return None, attempts
                if isinstance(err, TimeoutError) and not str(err):
                    err = TimeoutError(f"timed out after {go_duration(self._timeout or 0)}")
                raise connection_failed(err, self._method, url) from err
            try:
                if await self._retried(response, attempts, from_provider):
                    continue
                client._handle_warnings(response)
            except BaseException:
                abort(response)
                raise
            return response, attempts

    async def _retried(
        self, response: aiohttp.ClientResponse, attempts: Attempts, from_provider: bool
    ) -> bool:
        """Whether this answer is retried (then it is closed and the pause is over)."""
        attempts.on_answer(response.status)
        if attempts.ask_provider(response.status, from_provider):
            provider = self._client.auth_provider
            if provider is not None and await _in_thread(provider.on_unauthorized):
                abort(response)
                _log.info(
                    "%s %s: 401, retrying with refreshed credentials", self._method, attempts.url
                )
                return True
        wait = attempts.retry_wait(response.status, response.headers.get("Retry-After"))
        if wait is None:
            return False
        attempts.previous = self._error(response, await self._read(response, attempts), None)
        abort(response)
        _log.info("%s %s: %d, retrying in %ss", self._method, attempts.url, response.status, wait)
        await self._pause(attempts, wait)
        return True

    async def _pause(self, attempts: Attempts, seconds: float) -> None:
        """Wait before a retry (see :meth:`Attempts.pause`); then the rate limiter, except for
        watches."""
        await self._client._sleep(attempts.pause(seconds))
        if attempts.mode != "watch":
            await self._client._throttle()

    def _error(
        self, response: aiohttp.ClientResponse, body: bytes, previous: Exception | None
    ) -> StatusError | UnexpectedResponseError:
        return self._status_error(response.status, response.headers, body, previous)

    async def _read(self, response: aiohttp.ClientResponse, attempts: Attempts) -> bytes:
        """The whole body (the connection then goes back to the pool), within the deadline if
        there is one (``TimeoutError`` naming the request otherwise, the connection closed)."""
        remaining = attempts.remaining()
        try:
            if remaining is None:
                return await response.read()
            async with asyncio.timeout(max(remaining, 0.0)):
                return await response.read()
        except TimeoutError as err:
            abort(response)
            raise TimeoutError(
                f"{self._method} {self.url()}: the response body did not arrive within "
                f"{go_duration(self._timeout or 0)}"
            ) from err
        except BaseException:
            abort(response)
            raise


async def _in_thread(call: Callable[[], bool]) -> bool:
    return await asyncio.to_thread(call)


def _is_reset(err: BaseException) -> bool:
    """Whether a connection reset or a premature end of the connection caused ``err``."""
    if isinstance(err, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return True
    if isinstance(err, aiohttp.ClientConnectorError):
        return False  # could not connect at all
    if isinstance(err, aiohttp.ClientOSError) and err.errno in (errno.ECONNRESET, errno.EPIPE):
        return True
    cause = err.__cause__ or err.__context__
    return isinstance(cause, ConnectionResetError | BrokenPipeError)
