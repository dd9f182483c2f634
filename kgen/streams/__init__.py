"""kgen.streams: exec, attach and port-forward to a pod over WebSocket, and its logs.

The typed clients of every resource whose API declares ``exec``/``attach`` (and the dynamic
client) call into this package: ``client.exec(name, command)`` runs a command to completion
(:class:`ExecResult`), ``client.open_exec(...)`` gives an interactive :class:`ExecSession`,
``client.attach(...)`` attaches to the running process. For asyncio,
:func:`open_async_session` opens an :class:`AsyncExecSession` from a
:class:`kgen.rest.AsyncRESTClient` request and :func:`run_async` drives it to its end;
:func:`open_async_logs` reads a log as an :class:`AsyncLogStream` (``async for`` lines, or
chunks) and :func:`open_async_port_forward` connects to a pod's port as an
:class:`AsyncPortStream` (``read``/``readline``/``readexactly``/``write``), and
:class:`AsyncPortForwarder` listens on local ports as :class:`PortForwarder` does, sharing
their framing and port bookkeeping with the threaded flavours. The wire
protocols are ``v5.channel.k8s.io`` with a fallback to ``v4.channel.k8s.io``
(:mod:`kgen.streams._channel`). Where ``log`` is declared, ``client.stream_logs(name,
follow=True)`` reads a container's log as it is written (:class:`LogStream`, plain HTTP).
``client.port_forward(name, ports)`` gives a :class:`PortForwarder`: local listeners like
``kubectl port-forward`` and in-process :class:`PortStream` connections, over the kubelet's
port-forward framing (:mod:`kgen.streams._portforward_channel`). ``client.copy_to_pod`` and
``client.copy_from_pod`` copy files as ``kubectl cp`` does, tar over exec
(:mod:`kgen.streams._cp`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kgen._lazy import lazy_attribute
from kgen.streams._channel import V4, V5, Channel, FramingError, TerminalSize
from kgen.streams._cp import CopyError
from kgen.streams._exec import ExecSession, open_session, run
from kgen.streams._logs import LogStream
from kgen.streams._portforward import (
    ForwardedPort,
    PortForwarder,
    PortForwardError,
    PortStream,
    open_port_forward,
    parse_port_spec,
)
from kgen.streams._session import ExecResult, Output
from kgen.streams._websocket import StreamError, open_websocket

if TYPE_CHECKING:
    from kgen.streams._async import AsyncExecSession, open_async_session, run_async
    from kgen.streams._async_forwarder import AsyncPortForwarder
    from kgen.streams._async_logs import AsyncLogStream, open_async_logs
    from kgen.streams._async_portforward import BUFFER, AsyncPortStream, open_async_port_forward

# The asyncio flavours (aiohttp, websockets.asyncio) are imported on first use (PEP 562), so that
# importing a clientset, which reaches this package through kgen.client, does not pay for them.
_LAZY = {
    "AsyncExecSession": "_async",
    "open_async_session": "_async",
    "run_async": "_async",
    "AsyncLogStream": "_async_logs",
    "open_async_logs": "_async_logs",
    "AsyncPortStream": "_async_portforward",
    "BUFFER": "_async_portforward",
    "AsyncPortForwarder": "_async_forwarder",
    "open_async_port_forward": "_async_portforward",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name, globals())


__all__ = [
    "BUFFER",
    "V4",
    "V5",
    "AsyncExecSession",
    "AsyncLogStream",
    "AsyncPortForwarder",
    "AsyncPortStream",
    "Channel",
    "CopyError",
    "ExecResult",
    "ExecSession",
    "ForwardedPort",
    "FramingError",
    "LogStream",
    "Output",
    "PortForwardError",
    "PortForwarder",
    "PortStream",
    "StreamError",
    "TerminalSize",
    "open_async_logs",
    "open_async_port_forward",
    "open_async_session",
    "open_port_forward",
    "open_session",
    "open_websocket",
    "parse_port_spec",
    "run",
    "run_async",
]
