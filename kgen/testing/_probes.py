"""Readiness probes, answered by what the test registered for the container.

A container with a ``readinessProbe`` is ready only while its probe succeeds, as the kubelet's
prober decides it; here the probe is put to what answers the container
(:mod:`kgen.testing._containers`, or the local runtime's processes):

* ``exec``: the exec handler of the container runs the probe's command (stdin closed, output
  dropped); exit code 0 succeeds;
* ``httpGet``: an HTTP/1.1 ``GET`` of the probe's path (with its ``httpHeaders``) to what answers
  the port (a port handler, or the address it is forwarded to); a status 200-399 succeeds
  (``scheme: HTTPS`` is not spoken: it fails, saying so);
* ``tcpSocket``: something answers the port (a handler is registered, or the forwarded address
  accepts a connection).

A named port is looked up in the container's ``ports``. Each probe has ``timeoutSeconds``
(default 1) to answer. :class:`Readiness` keeps the kubelet's timing per container: the first
probe ``initialDelaySeconds`` after the container started, then every ``periodSeconds``
(default 10); the container becomes ready after ``successThreshold`` successes in a row
(default 1) and unready after ``failureThreshold`` failures in a row (default 3); a container
starts unready.

Not reproduced: liveness and startup probes, ``grpc`` probes, probe events, the ``lastProbeTime``
of the conditions (always null, as the kubelet leaves it).

Thread-safety: :class:`Readiness` is used by the kubelet's one thread; a probe's handler runs on
a thread of its own (one that does not return within the timeout is left to end by itself,
as a real probe's process is abandoned).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kgen.testing._containers import ContainerHandlers
from kgen.testing._ports import PortConnection, PortTarget
from kgen.testing._remotecommand import new_process

__all__ = ["Readiness", "probe"]

JSON = dict[str, Any]


def probe(handlers: ContainerHandlers, pod: JSON, container: JSON, spec: JSON) -> bool:
    """Put the probe ``spec`` (a ``Probe`` object) to what answers ``container`` of ``pod``
    once; whether it succeeded. Blocks for at most the probe's ``timeoutSeconds``."""
    timeout = float(spec.get("timeoutSeconds") or 1)
    if "exec" in spec:
        return _exec(handlers, pod, container, list(spec["exec"].get("command") or []), timeout)
    for kind in ("httpGet", "tcpSocket"):
        if kind in spec:
            action = spec[kind] or {}
            port = _port(container, action.get("port"))
            if port is None:
                return False
            meta = pod.get("metadata") or {}
            target = handlers.find_port(meta.get("namespace", ""), meta.get("name", ""), port)
            if target is None:
                return False
            if kind == "tcpSocket":
                if callable(target):
                    return True  # a handler is registered: the port is open
                with _connected(target, pod, port, timeout) as sock:
                    return sock is not None
            if str(action.get("scheme", "HTTP")).upper() != "HTTP":
                return False  # HTTPS probes are not spoken here (see the module docstring)
            return _http(target, pod, port, action, timeout)
    return False  # grpc and unknown probes: not reproduced, never succeed


def _port(container: JSON, port: object) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            return int(declared.get("containerPort", 0)) or None
    return None


def _exec(
    handlers: ContainerHandlers, pod: JSON, container: JSON, command: list[str], timeout: float
) -> bool:
    meta = pod.get("metadata") or {}
    name = container.get("name", "")
    handler = handlers.find("exec", meta.get("namespace", ""), meta.get("name", ""), name)
    if handler is None or not command:
        return False
    process = new_process("exec", pod, name, command, tty=False, stdin=False)
    result: list[int | None] = []

    def run() -> None:
        with contextlib.suppress(Exception):  # a handler that raises: the probe fails
            result.append(handler(process))

    worker = threading.Thread(target=run, name="kgen-probe-exec", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        process.disconnected.set()
        return False
    return bool(result) and not result[0]


@contextlib.contextmanager
def _connected(target: PortTarget, pod: JSON, port: int, timeout: float) -> Any:
    """A socket connected to what answers the port (``None`` when it refuses), closed after."""
    if isinstance(target, tuple):
        try:
            sock = socket.create_connection(target, timeout=timeout)
        except OSError:
            yield None
            return
        with sock:
            yield sock
        return
    ours, theirs = socket.socketpair()
    meta = pod.get("metadata") or {}
    view = PortConnection(meta.get("namespace", ""), meta.get("name", ""), port, pod, theirs)
    handler: Callable[[PortConnection], None] = target

    def serve() -> None:
        try:
            with contextlib.suppress(Exception):
                handler(view)
        finally:
            theirs.close()

    worker = threading.Thread(target=serve, name="kgen-probe-port", daemon=True)
    worker.start()
    ours.settimeout(timeout)
    try:
        yield ours
    finally:
        with contextlib.suppress(OSError):
            ours.shutdown(socket.SHUT_RDWR)
        ours.close()


def _http(target: PortTarget, pod: JSON, port: int, action: JSON, timeout: float) -> bool:
    path = str(action.get("path") or "/")
    host = str(action.get("host") or (pod.get("status") or {}).get("podIP") or "localhost")
    headers = {"Host": f"{host}:{port}", "User-Agent": "kube-probe/1.35", "Accept": "*/*"}
    for header in action.get("httpHeaders") or []:
        headers[str(header.get("name"))] = str(header.get("value", ""))
    headers["Connection"] = "close"
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    deadline = time.monotonic() + timeout
    with _connected(target, pod, port, timeout) as sock:
        if sock is None:
            return False
        try:
            sock.sendall((request + "\r\n").encode("latin-1"))
            answer = b""
            while b"\r\n" not in answer and time.monotonic() < deadline:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except OSError:
            return False
    parts = answer.split(b"\r\n", 1)[0].split()
    return len(parts) >= 2 and parts[1].isdigit() and 200 <= int(parts[1]) < 400


@dataclass
class _Tracked:
    next_at: float
    ready: bool = False
    successes: int = 0
    failures: int = 0


class Readiness:
    """The readiness of every probed container of one kubelet, by pod uid and container; see
    the module docstring. Used from the kubelet's thread only."""

    def __init__(
        self,
        handlers: ContainerHandlers,
        clock: Callable[[], float] = time.time,
        run: Callable[[ContainerHandlers, JSON, JSON, JSON], bool] = probe,
    ) -> None:
        self._handlers = handlers
        self._clock = clock
        self._run = run
        self._tracked: dict[tuple[str, str], _Tracked] = {}

    def ready(self, pod: JSON, container: JSON, running_since: float | None) -> tuple[bool, float]:
        """Whether ``container`` of ``pod`` is ready (probing it if it is due), and the seconds
        until its next probe (``inf`` without a probe). ``running_since``: when the current
        instance started (seconds since the epoch), ``None`` when it is not running (never ready;
        its probing starts over when it runs again)."""
        spec = container.get("readinessProbe")
        key = ((pod.get("metadata") or {}).get("uid", ""), container.get("name", ""))
        if running_since is None:
            self._tracked.pop(key, None)
            return False, float("inf")
        if not spec:
            return True, float("inf")
        tracked = self._tracked.get(key)
        if tracked is None:
            delay = float(spec.get("initialDelaySeconds") or 0)
            tracked = self._tracked[key] = _Tracked(next_at=running_since + delay)
        now = self._clock()
        if now >= tracked.next_at:
            period = float(spec.get("periodSeconds") or 10)
            if self._run(self._handlers, pod, container, spec):
                tracked.successes, tracked.failures = tracked.successes + 1, 0
                if tracked.successes >= int(spec.get("successThreshold") or 1):
                    tracked.ready = True
            else:
                tracked.successes, tracked.failures = 0, tracked.failures + 1
                if tracked.failures >= int(spec.get("failureThreshold") or 3):
                    tracked.ready = False
            tracked.next_at = self._clock() + period
        return tracked.ready, max(0.0, tracked.next_at - self._clock())

    def forget(self, uid: str) -> None:
        """The pod is gone: drop its containers."""
        for key in [k for k in self._tracked if k[0] == uid]:
            del self._tracked[key]
