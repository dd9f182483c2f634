"""Readiness, liveness and startup probes, answered by what the test registered for the
container.

Each probe is put to what answers the container (:mod:`kgen.testing._containers`, or the
local runtime's processes), as the kubelet's prober does it:

* ``exec``: the exec handler of the container runs the probe's command (stdin closed, its
  output kept for the failure's message); exit code 0 succeeds;
* ``httpGet``: an HTTP/1.1 ``GET`` of the probe's path (with its ``httpHeaders``) to what answers
  the port (a port handler, or the address it is forwarded to); a status 200-399 succeeds
  (``scheme: HTTPS`` is not spoken: it fails, saying so);
* ``tcpSocket``: something answers the port (a handler is registered, or the forwarded address
  accepts a connection).

A named port is looked up in the container's ``ports``. Each probe has ``timeoutSeconds``
(default 1) to answer. :class:`Prober` keeps the kubelet's timing per container instance: a
probe first runs ``initialDelaySeconds`` after the instance started, then every
``periodSeconds`` (default 10); ``successThreshold`` successes in a row (default 1) make it
pass and ``failureThreshold`` failures in a row (default 3) make it fail. As the kubelet:

* ``startupProbe``: until it has passed, the container is not ``started`` and the other two
  probes do not run; once it passes it is not run again for this instance; if it fails, the
  container is killed and restarted;
* ``livenessProbe``: the container starts healthy; when the probe fails it is killed and
  restarted (by the runtime, as its ``restartPolicy`` says);
* ``readinessProbe``: the container starts unready and is ready only while the probe passes.

Each failed liveness or startup probe is reported (the kubelet's ``Unhealthy`` event,
``Liveness probe failed: <why>``). A restarted container is a new instance: its probing
starts over.

Not reproduced: ``grpc`` probes, ``terminationGracePeriodSeconds`` of a probe, ``Unhealthy``
events of readiness probes, the ``lastProbeTime`` of the conditions (always null, as the
kubelet leaves it); the "why" of a failure is the test server's (the handler's output, the
HTTP status, "connection refused"), in the kubelet's words where it has them.

Thread-safety: :class:`Prober` is used by the kubelet's one thread; a probe's handler runs on
a thread of its own (one that does not return within the timeout is left to end by itself,
as a real probe's process is abandoned).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kgen.testing._containers import ContainerHandlers, Sink
from kgen.testing._ports import PortConnection, PortTarget
from kgen.testing._remotecommand import new_process

__all__ = ["Prober", "Verdict", "probe"]

JSON = dict[str, Any]


def probe(handlers: ContainerHandlers, pod: JSON, container: JSON, spec: JSON) -> tuple[bool, str]:
    """Put the probe ``spec`` (a ``Probe`` object) to what answers ``container`` of ``pod``
    once; whether it succeeded and, when not, why. Blocks for at most the probe's
    ``timeoutSeconds``."""
    timeout = float(spec.get("timeoutSeconds") or 1)
    if "exec" in spec:
        return _exec(handlers, pod, container, list(spec["exec"].get("command") or []), timeout)
    for kind in ("httpGet", "tcpSocket"):
        if kind in spec:
            action = spec[kind] or {}
            port = _port(container, action.get("port"))
            if port is None:
                return False, f"port {action.get('port')!r} is not a port of the container"
            meta = pod.get("metadata") or {}
            host = str(action.get("host") or (pod.get("status") or {}).get("podIP") or "")
            refused = f"dial tcp {host}:{port}: connect: connection refused"
            target = handlers.find_port(meta.get("namespace", ""), meta.get("name", ""), port)
            if target is None:
                return False, refused
            if kind == "tcpSocket":
                if callable(target):
                    return True, ""  # a handler is registered: the port is open
                with _connected(target, pod, port, timeout) as sock:
                    return sock is not None, "" if sock is not None else refused
            if str(action.get("scheme", "HTTP")).upper() != "HTTP":
                return False, "HTTPS probes are not spoken by the test server"
            return _http(target, pod, port, action, timeout)
    return False, "grpc probes are not reproduced"  # and unknown probes: never succeed


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
) -> tuple[bool, str]:
    meta = pod.get("metadata") or {}
    name = container.get("name", "")
    handler = handlers.find("exec", meta.get("namespace", ""), meta.get("name", ""), name)
    if handler is None or not command:
        return False, f"no exec handler for container {name}" if command else "no command"
    process = new_process("exec", pod, name, command, tty=False, stdin=False)
    output = bytearray()
    process.stdout = process.stderr = Sink(output.extend)
    result: list[int | None] = []
    failure: list[str] = []

    def run() -> None:
        try:
            result.append(handler(process))
        except Exception as err:  # a handler that raises: the probe fails, saying why
            failure.append(repr(err))

    worker = threading.Thread(target=run, name="kgen-probe-exec", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        process.disconnected.set()
        return False, f"command {' '.join(command)!r} timed out"
    if failure:
        return False, failure[0]
    return bool(result) and not result[0], output.decode(errors="replace")


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


def _http(
    target: PortTarget, pod: JSON, port: int, action: JSON, timeout: float
) -> tuple[bool, str]:
    path = str(action.get("path") or "/")
    host = str(action.get("host") or (pod.get("status") or {}).get("podIP") or "localhost")
    headers = {"Host": f"{host}:{port}", "User-Agent": "kube-probe/1.35", "Accept": "*/*"}
    for header in action.get("httpHeaders") or []:
        headers[str(header.get("name"))] = str(header.get("value", ""))
    headers["Connection"] = "close"
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    where = f'Get "http://{host}:{port}{path}"'
    deadline = time.monotonic() + timeout
    with _connected(target, pod, port, timeout) as sock:
        if sock is None:
            return False, f"{where}: dial tcp {host}:{port}: connect: connection refused"
        try:
            sock.sendall((request + "\r\n").encode("latin-1"))
            answer = b""
            while b"\r\n" not in answer and time.monotonic() < deadline:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except OSError as err:
            return False, f"{where}: {err}"
    parts = answer.split(b"\r\n", 1)[0].split()
    if len(parts) >= 2 and parts[1].isdigit():
        code = int(parts[1])
        return 200 <= code < 400, f"HTTP probe failed with statuscode: {code}"
    return False, f"{where}: no HTTP answer within {timeout:g}s"


@dataclass
class _Tracked:
    """One probe of one container instance."""

    next_at: float
    passing: bool
    successes: int = 0
    failures: int = 0


@dataclass
class _Instance:
    """The probes of one instance of a container (a restart makes a new one)."""

    identity: tuple[float, int]
    probes: dict[str, _Tracked] = field(default_factory=dict)


@dataclass
class Verdict:
    """What the probes say of one container now: whether it is ``ready`` and ``started``;
    ``restart`` names the probe (``liveness``, ``startup``) whose failure means the container
    is to be killed and restarted ("" otherwise); ``unhealthy`` the messages of the liveness
    and startup probes that failed in this look (the kubelet's ``Unhealthy`` events); ``wait``
    the seconds until a probe is due (``inf`` without one)."""

    ready: bool
    started: bool
    restart: str = ""
    unhealthy: list[str] = field(default_factory=list)
    wait: float = float("inf")


_KINDS = {"startup": "startupProbe", "liveness": "livenessProbe", "readiness": "readinessProbe"}


class Prober:
    """The probes of every container of one kubelet, by pod uid and container; see the module
    docstring. Used from the kubelet's thread only."""

    def __init__(
        self,
        handlers: ContainerHandlers,
        clock: Callable[[], float] = time.time,
        run: Callable[[ContainerHandlers, JSON, JSON, JSON], tuple[bool, str]] = probe,
    ) -> None:
        self._handlers = handlers
        self._clock = clock
        self._run = run
        self._instances: dict[tuple[str, str], _Instance] = {}

    def check(
        self, pod: JSON, container: JSON, running_since: float | None, restarts: int = 0
    ) -> Verdict:
        """Probe ``container`` of ``pod`` where a probe is due; the :class:`Verdict`.
        ``running_since``: when the current instance started (seconds since the epoch),
        ``None`` when it is not running (never ready nor started; its probing starts over when
        it runs again); ``restarts`` tells instances apart."""
        key = ((pod.get("metadata") or {}).get("uid", ""), container.get("name", ""))
        if running_since is None:
            self._instances.pop(key, None)
            return Verdict(False, False)
        instance = self._instances.get(key)
        if instance is None or instance.identity != (running_since, restarts):
            instance = self._instances[key] = _Instance((running_since, restarts))
        verdict = Verdict(ready=True, started=True)
        for kind in ("startup", "liveness", "readiness"):
            spec = container.get(_KINDS[kind])
            if not spec:
                continue
            tracked = instance.probes.get(kind)
            if tracked is None:
                delay = float(spec.get("initialDelaySeconds") or 0)
                start = running_since + delay
                tracked = instance.probes[kind] = _Tracked(start, passing=kind == "liveness")
            if kind != "startup" or not tracked.passing:
                self._probe(kind, spec, pod, container, tracked, verdict)
                verdict.wait = min(verdict.wait, max(0.0, tracked.next_at - self._clock()))
            if kind == "startup" and not tracked.passing:
                verdict.started = verdict.ready = False
                if tracked.failures >= int(spec.get("failureThreshold") or 3):
                    verdict.restart = "startup"
                break  # neither liveness nor readiness runs before the start is confirmed
            if kind == "liveness" and not tracked.passing:
                verdict.restart = "liveness"
                break
            if kind == "readiness":
                verdict.ready = tracked.passing
        if verdict.restart:
            verdict.ready = False
            self._instances.pop(key, None)
        return verdict

    def _probe(
        self, kind: str, spec: JSON, pod: JSON, container: JSON, tracked: _Tracked, verdict: Verdict
    ) -> None:
        if self._clock() < tracked.next_at:
            return
        ok, why = self._run(self._handlers, pod, container, spec)
        if ok:
            tracked.successes, tracked.failures = tracked.successes + 1, 0
            if tracked.successes >= int(spec.get("successThreshold") or 1):
                tracked.passing = True
        else:
            tracked.successes, tracked.failures = 0, tracked.failures + 1
            if kind != "readiness":
                verdict.unhealthy.append(f"{kind.capitalize()} probe failed: {why}")
            if tracked.failures >= int(spec.get("failureThreshold") or 3):
                tracked.passing = False
        tracked.next_at = self._clock() + float(spec.get("periodSeconds") or 10)

    def forget(self, uid: str) -> None:
        """The pod is gone: drop its containers."""
        for key in [k for k in self._instances if k[0] == uid]:
            del self._instances[key]
