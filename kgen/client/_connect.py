"""The streaming subresources of a typed client: ``exec``, ``attach`` and ``portforward`` (pods).

Generated clients inherit these mixins when the API documents declare the subresource (the
connect operations of ``pods/exec``, ``pods/attach``, ``pods/portforward``);
:class:`kgen.client.ResourceClient`
always has them. The protocol is :mod:`kgen.streams`'s. Thread-safety is the base's; each call
opens its own connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TypeVar

from kgen.client._base import ClientBase
from kgen.streams import ExecResult, ExecSession, PortForwarder, open_session, run

__all__ = ["AttachMixin", "ExecMixin", "PortForwardMixin"]

T = TypeVar("T")
L = TypeVar("L")


class ExecMixin(ClientBase[T, L]):
    """``exec`` (run a command to its end) and ``open_exec`` (an interactive session)."""

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
        if isinstance(command, str) or not command:
            raise ValueError("exec: command must be a non-empty sequence of arguments")
        request = self._named(self._rest.get(), name, "exec")
        return open_session(
            request,
            command=command,
            container=container,
            stdin=stdin,
            tty=tty,
            description=f"exec {' '.join(command)!r} in {self._describe(name, container)}",
        )

    def _describe(self, name: str, container: str | None) -> str:
        where = f"{self._namespace}/{name}" if self._namespace else name
        return f"{self._resource.resource} {where}" + (
            f" container {container}" if container else ""
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
        where = f"{self._namespace}/{name}" if self._namespace else name
        return open_session(
            request,
            container=container,
            stdin=stdin,
            tty=tty,
            description=f"attach to {self._resource.resource} {where}",
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
        forwarder = PortForwarder(
            lambda: self._named(self._rest.get(), name, "portforward"),
            ports,
            address=address,
            description=f"port-forward to {self._describe_pod(name)}",
        )
        self._request(self._rest.get(), name=name, strict_namespace=True).do()
        return forwarder

    def _describe_pod(self, name: str) -> str:
        where = f"{self._namespace}/{name}" if self._namespace else name
        return f"{self._resource.resource} {where}"
