"""The asyncio streaming subresources: ``exec``, ``attach``, ``log``, ``portforward`` (pods)
and ``proxy``, as :mod:`kgen.client._connect` over :mod:`kgen.streams`' asyncio sessions.

Generated async clients inherit these mixins exactly where the sync ones inherit theirs (the
API documents declare the subresource). Requests and argument checks are the sync mixins'
(:mod:`kgen.client._stream_requests`). Each call opens its own connection; whoever opens a
session or stream closes it (``async with``). Cancelling a task awaiting one of these aborts
its connection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, Any, TypeVar, Unpack

from kgen.client._stream_requests import (
    LogOptions,
    check_command,
    describe,
    log_request,
    proxy_request,
)
from kgen.client.aio._base import AsyncClientBase
from kgen.rest import Result
from kgen.streams import (
    AsyncExecSession,
    AsyncLogStream,
    AsyncPortForwarder,
    ExecResult,
    open_async_logs,
    open_async_session,
    run_async,
)
from kgen.streams._async_cp import AsyncOpenExec, async_copy_from_pod, async_copy_to_pod

__all__ = [
    "AsyncAttachMixin",
    "AsyncExecMixin",
    "AsyncLogsMixin",
    "AsyncPortForwardMixin",
    "AsyncProxyMixin",
]

T = TypeVar("T")
L = TypeVar("L")


class AsyncExecMixin(AsyncClientBase[T, L]):
    """``exec`` (run a command to its end) and ``open_exec`` (an interactive session)."""

    async def exec(
        self,
        name: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: bytes | str | IO[bytes] | None = None,
        tty: bool = False,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``command`` in a container of ``name`` to its end: stdout, stderr, exit code
        (as :meth:`kgen.client.ExecMixin.exec`; ``TimeoutError`` past ``timeout``)."""
        session = await self.open_exec(
            name, command, container=container, stdin=stdin is not None, tty=tty
        )
        return await run_async(session, stdin=stdin, timeout=timeout)

    async def open_exec(
        self,
        name: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: bool = False,
        tty: bool = False,
    ) -> AsyncExecSession:
        """Start ``command`` and return the open session; the caller closes it
        (``async with await pods.open_exec(...) as session``)."""
        check_command(command)
        return await open_async_session(
            self._named(self._rest.get(), name, "exec"),
            command=command,
            container=container,
            stdin=stdin,
            tty=tty,
            description=f"exec {' '.join(command)!r} in {describe(self, name, container)}",
        )

    async def copy_to_pod(
        self,
        name: str,
        local_path: str | os.PathLike[str],
        remote_path: str,
        *,
        container: str | None = None,
    ) -> None:
        """Copy a local file or directory tree into a container of ``name``, as
        :meth:`kgen.client.ExecMixin.copy_to_pod` (``kubectl cp``: tar over exec)."""
        await async_copy_to_pod(
            self._exec_opener(name, container),
            local_path,
            remote_path,
            f"copy to {describe(self, name, container)}",
        )

    async def copy_from_pod(
        self,
        name: str,
        remote_path: str,
        local_path: str | os.PathLike[str],
        *,
        container: str | None = None,
    ) -> list[str]:
        """Copy ``remote_path`` from a container of ``name`` to ``local_path``, as
        :meth:`kgen.client.ExecMixin.copy_from_pod`: the archive entries skipped."""
        return await async_copy_from_pod(
            self._exec_opener(name, container),
            remote_path,
            local_path,
            f"copy from {describe(self, name, container)}",
        )

    def _exec_opener(self, name: str, container: str | None) -> AsyncOpenExec:
        async def open_exec(command: Sequence[str], stdin: bool) -> AsyncExecSession:
            return await self.open_exec(name, command, container=container, stdin=stdin)

        return open_exec


class AsyncAttachMixin(AsyncClientBase[T, L]):
    """``attach``: a session with the running main process of a container."""

    async def attach(
        self,
        name: str,
        *,
        container: str | None = None,
        stdin: bool = False,
        tty: bool = False,
    ) -> AsyncExecSession:
        """Attach to the process of a container of ``name``; the caller closes the session."""
        return await open_async_session(
            self._named(self._rest.get(), name, "attach"),
            container=container,
            stdin=stdin,
            tty=tty,
            description=f"attach to {describe(self, name)}",
        )


class AsyncLogsMixin(AsyncClientBase[T, L]):
    """``logs`` (the whole log now) and ``stream_logs`` (lines as they come), with the options
    of :class:`kgen.client.LogOptions`, checked as the sync client checks them."""

    async def logs(
        self, name: str, *, timeout: float | None = None, **options: Unpack[LogOptions]
    ) -> str:
        """The log of a container of ``name`` as it is now, decoded as UTF-8 (undecodable
        bytes replaced), within ``timeout`` seconds (the REST client's when ``None``)."""
        request = log_request(self, name, False, options)
        if timeout is not None:
            request = request.timeout(timeout)
        return (await request.do()).body.decode(errors="replace")

    async def stream_logs(
        self, name: str, *, follow: bool = False, **options: Unpack[LogOptions]
    ) -> AsyncLogStream:
        """The log as it arrives (``async for line in stream``); with ``follow`` it goes on
        until the container stops or the caller closes it (``async with``)."""
        request = log_request(self, name, follow, options)
        return await open_async_logs(
            request, description=f"log of {describe(self, name, options.get('container'))}"
        )


class AsyncPortForwardMixin(AsyncClientBase[T, L]):
    """``port_forward``: local listeners and in-process connections to a pod's ports, as
    :class:`kgen.client.PortForwardMixin`."""

    async def port_forward(
        self, name: str, ports: Sequence[int | str] = (), *, address: str = "127.0.0.1"
    ) -> AsyncPortForwarder:
        """Forward to the ports of pod ``name``: ``ports`` as kubectl writes them (``8080:80``,
        ``80``, ``:80`` for any free local port) are listened on at ``address`` once the
        forwarder starts (``async with``, or ``await start()``); ``await connect(port)``
        opens an in-process :class:`kgen.streams.AsyncPortStream` to any port. Gets the pod
        first, so a missing pod raises :class:`kgen.rest.StatusError` (NotFound) here, as
        kubectl reports it; a bad port spec raises ``ValueError``."""
        forwarder = AsyncPortForwarder(
            lambda: self._named(self._rest.get(), name, "portforward"),
            ports,
            address=address,
            description=f"port-forward to {describe(self, name)}",
        )
        await self._request(self._rest.get(), name=name, strict_namespace=True).do()
        return forwarder


class AsyncProxyMixin(AsyncClientBase[T, L]):
    """``proxy`` and ``proxy_get``: HTTP to the object through the API server, as
    :class:`kgen.client.ProxyMixin`."""

    async def proxy(
        self,
        method: str,
        name: str,
        path: str = "",
        *,
        port: int | str | None = None,
        scheme: str | None = None,
        params: Mapping[str, str | Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Result:
        """As :meth:`kgen.client.ProxyMixin.proxy`."""
        request = proxy_request(
            self,
            method,
            name,
            path,
            port=port,
            scheme=scheme,
            params=params,
            headers=headers,
            body=body,
            timeout=timeout,
        )
        return await request.do()

    async def proxy_get(
        self,
        name: str,
        path: str = "",
        *,
        port: int | str | None = None,
        scheme: str | None = None,
        params: Mapping[str, str | Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Result:
        """``GET`` through the proxy, as :meth:`proxy`."""
        return await self.proxy(
            "GET",
            name,
            path,
            port=port,
            scheme=scheme,
            params=params,
            headers=headers,
            timeout=timeout,
        )
