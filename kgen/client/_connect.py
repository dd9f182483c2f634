"""The streaming subresources of a typed client: ``exec``, ``attach``, ``log`` and
``portforward`` (pods), and ``proxy`` (pods, services, nodes).

Generated clients inherit these mixins when the API documents declare the subresource (the
connect operations of ``pods/exec``, ``pods/attach``, ``pods/portforward`` and ``*/proxy``,
the GET of ``pods/log``); :class:`kgen.client.ResourceClient` always has them. The protocols are
:mod:`kgen.streams`'s. Thread-safety is the base's; each call opens its own connection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeVar, Unpack

from kgen.client._base import ClientBase
from kgen.client._stream_requests import (
    LogOptions,
    check_command,
    describe,
    log_request,
    proxy_request,
)
from kgen.rest import Result

if TYPE_CHECKING:
    from kgen.streams import ExecResult, ExecSession, LogStream, PortForwarder
    from kgen.streams._cp import OpenExec

# kgen.streams (websockets) is imported by the methods that stream, so that importing a typed
# client does not pay for it.

__all__ = ["AttachMixin", "ExecMixin", "LogOptions", "LogsMixin", "PortForwardMixin", "ProxyMixin"]

T = TypeVar("T")
L = TypeVar("L")


class ExecMixin(ClientBase[T, L]):
    """``exec`` (run a command to its end), ``open_exec`` (an interactive session), and
    ``copy_to_pod``/``copy_from_pod`` (``kubectl cp``: tar over exec)."""

    def exec(
        self,
        name: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: bytes | str | IO[bytes] | None = None,
        tty: bool = False,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``command`` in a container of ``name`` and wait for it to end: its stdout,
        stderr and exit code. ``stdin`` (bytes, or a binary file streamed as it is read) is
        sent and then closed. ``container`` may be left out for a pod with one container.

        Blocks until the command ends; ``TimeoutError`` past ``timeout`` seconds. Raises
        :class:`kgen.rest.StatusError` when the server refuses (NotFound, BadRequest naming
        the containers to choose from, Forbidden) or the command cannot run, and
        :class:`kgen.streams.StreamError` when the connection drops before the end.
        """
        session = self.open_exec(
            name, command, container=container, stdin=stdin is not None, tty=tty
        )
        from kgen.streams import run

        return run(session, stdin=stdin, timeout=timeout)

    def open_exec(
        self,
        name: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: bool = False,
        tty: bool = False,
    ) -> ExecSession:
        """Start ``command`` and return the open session (write stdin, read output, resize,
        wait); the caller must close it (``with``). Errors on opening as :meth:`exec`."""
        check_command(command)
        request = self._named(self._rest.get(), name, "exec")
        from kgen.streams import open_session

        return open_session(
            request,
            command=command,
            container=container,
            stdin=stdin,
            tty=tty,
            description=f"exec {' '.join(command)!r} in {describe(self, name, container)}",
        )

    def copy_to_pod(
        self,
        name: str,
        local_path: str | os.PathLike[str],
        remote_path: str,
        *,
        container: str | None = None,
    ) -> None:
        """Copy a local file or directory tree to ``remote_path`` in a container of ``name``
        (into it when it is a directory there), as ``kubectl cp`` does: ``tar`` in the
        container reads an archive streamed to its stdin. Blocks until the copy ends. Errors
        as :meth:`exec`, ``FileNotFoundError`` for a missing ``local_path``,
        :class:`kgen.streams.CopyError` with tar's stderr when it fails
        (:mod:`kgen.streams._cp`)."""
        from kgen.streams._cp import copy_to_pod

        copy_to_pod(
            self._exec_opener(name, container),
            local_path,
            remote_path,
            f"copy to {describe(self, name, container)}",
        )

    def copy_from_pod(
        self,
        name: str,
        remote_path: str,
        local_path: str | os.PathLike[str],
        *,
        container: str | None = None,
    ) -> list[str]:
        """Copy ``remote_path`` (a file or directory tree) from a container of ``name`` to
        ``local_path``, as ``kubectl cp`` does: ``tar cf -`` in the container, extracted as it
        arrives. Entries that would land outside ``local_path`` are skipped with a warning and
        returned. Blocks until the copy ends. Errors as :meth:`copy_to_pod`."""
        from kgen.streams._cp import copy_from_pod

        return copy_from_pod(
            self._exec_opener(name, container),
            remote_path,
            local_path,
            f"copy from {describe(self, name, container)}",
        )

    def _exec_opener(self, name: str, container: str | None) -> OpenExec:
        return lambda command, stdin: self.open_exec(
            name, command, container=container, stdin=stdin
        )


class AttachMixin(ClientBase[T, L]):
    """``attach``: a session with the running main process of a container."""

    def attach(
        self,
        name: str,
        *,
        container: str | None = None,
        stdin: bool = False,
        tty: bool = False,
    ) -> ExecSession:
        """Attach to the process of a container of ``name`` (its stdin when ``stdin``, its
        output as it writes it). The caller must close the session. Errors as ``exec``."""
        request = self._named(self._rest.get(), name, "attach")
        from kgen.streams import open_session

        return open_session(
            request,
            container=container,
            stdin=stdin,
            tty=tty,
            description=f"attach to {describe(self, name)}",
        )


class LogsMixin(ClientBase[T, L]):
    """``logs`` (the whole log now) and ``stream_logs`` (lines as they come, ``follow`` to keep
    reading), with the keyword options of :class:`LogOptions`. The server validates them: a
    negative ``tail_lines`` or both ``since_*`` raise ``StatusError`` (422 Invalid); a value of
    the wrong type fails before sending (``TypeError``, ``ValueError`` for a naive time).

    Errors: :class:`kgen.rest.StatusError` for NotFound, BadRequest (the containers to choose
    from; no previous instance), Forbidden.
    """

    def logs(
        self, name: str, *, timeout: float | None = None, **options: Unpack[LogOptions]
    ) -> str:
        """The log of a container of ``name`` as it is now, decoded as UTF-8 (bytes that are
        not are replaced; ``stream_logs(...).chunks()`` gives them unchanged). Blocks until
        the whole log has arrived, at most ``timeout`` seconds (the REST client's timeout when
        ``None``; ``requests.Timeout`` past it)."""
        request = log_request(self, name, False, options)
        if timeout is not None:
            request = request.timeout(timeout)
        return request.do().body.decode(errors="replace")

    def stream_logs(
        self, name: str, *, follow: bool = False, **options: Unpack[LogOptions]
    ) -> LogStream:
        """The log of a container of ``name`` as it arrives: iterate the
        :class:`kgen.streams.LogStream` for lines or read its ``chunks()``; close it (``with``)
        to stop early. With ``follow`` the stream goes on with what the container writes
        until the container stops (or the caller closes it); without, it ends with the log as
        it is now. No timeout applies once the stream is open; a dropped connection raises
        :class:`kgen.streams.StreamError`. Errors on opening as :meth:`logs`."""
        request = log_request(self, name, follow, options)
        from kgen.streams import LogStream

        return LogStream(
            request.timeout(None).stream(),
            f"log of {describe(self, name, options.get('container'))}",
        )


class PortForwardMixin(ClientBase[T, L]):
    """``port_forward``: local listeners and in-process connections to a pod's ports."""

    def port_forward(
        self, name: str, ports: Sequence[int | str] = (), *, address: str = "127.0.0.1"
    ) -> PortForwarder:
        """Forward to the ports of pod ``name``: ``ports`` as kubectl writes them (``8080:80``,
        ``80``, ``:80`` for any free local port) are listened on at ``address`` once the
        forwarder starts (``with``, or ``start()``); ``connect(port)`` opens an in-process
        connection to any port. Gets the pod first, so a missing pod raises
        :class:`kgen.rest.StatusError` (NotFound) here, as kubectl reports it; a bad port
        spec raises ``ValueError``."""
        from kgen.streams import PortForwarder

        forwarder = PortForwarder(
            lambda: self._named(self._rest.get(), name, "portforward"),
            ports,
            address=address,
            description=f"port-forward to {describe(self, name)}",
        )
        self._request(self._rest.get(), name=name, strict_namespace=True).do()
        return forwarder


class ProxyMixin(ClientBase[T, L]):
    """``proxy`` and ``proxy_get``: HTTP to the object through the API server (the ``proxy``
    subresource: a pod's port, a service's endpoint, a node's kubelet), as client-go's
    ``ProxyGet`` and ``kubectl get --raw .../proxy/...`` send it. The answer is the server's
    behind it, unchanged."""

    def proxy(
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
        """Send ``method`` ``path`` (with the query ``params``, ``headers`` and ``body``: bytes
        as-is, a mapping as JSON) to ``[scheme:]name[:port]``'s proxy: ``port`` a number, or
        for a service a port name (the default: the pod's first declared port, the service's
        unnamed port, the kubelet's); ``scheme`` ``http`` or ``https``. A trailing ``/`` on
        ``path`` is kept; ``..`` segments are refused (``ValueError``) rather than resolved
        out of the proxy. Returns the 2xx answer whole (``status_code``, ``headers``,
        ``body``).

        Blocks until the answer has arrived, at most ``timeout`` seconds (``None``: no limit
        here; the API server gives up on a silent pod). Raises
        :class:`kgen.rest.StatusError` for any other answer: the API server's (NotFound,
        Forbidden, BadRequest ``address not allowed`` for a pod without an IP,
        ServiceUnavailable for no endpoints or a port nothing answers) or the pod's own
        (made from its code, its body as the message;
        :class:`kgen.rest.UnexpectedResponseError` for a code with no Status reason).
        """
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
        return request.do()

    def proxy_get(
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
        return self.proxy(
            "GET",
            name,
            path,
            port=port,
            scheme=scheme,
            params=params,
            headers=headers,
            timeout=timeout,
        )
