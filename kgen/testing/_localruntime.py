"""The local runtime: each container's command runs as a process on this machine.

``APIServer(kubelet="local")`` (``kgen testserver --kubelet local``) gives the kubelet this
runtime instead of :class:`kgen.testing._runtime.HandlerRuntime`. Nothing runs locally unless
asked. For each container of a pod bound to one of its nodes:

* ``command`` + ``args`` (``$(VAR)`` expanded from the container's environment, ``$$(VAR)``
  kept literally, as the kubelet does) run in a new process group, in a temporary working
  directory of the container's own, with an environment of ``PATH`` (this machine's), ``HOME``
  (the working directory), ``HOSTNAME`` (the pod's name) and the container's ``env``: plain
  ``value`` (``$(VAR)`` expanded from the variables before it) and ``valueFrom.fieldRef`` of
  ``metadata.name``, ``metadata.namespace``, ``metadata.uid``, ``spec.nodeName``,
  ``spec.serviceAccountName`` and ``status.podIP``; other sources are left out. The image is
  ignored (nothing is pulled or unpacked): without ``command``, ``args`` run as the command
  (as for an image without an entrypoint, busybox's: ``kubectl run --image=busybox -- sh -c
  ...``); a container with neither cannot start;
* stdout and stderr are the container's log (:mod:`kgen.testing._logs`), so ``kubectl logs``
  and ``logs -f`` read them; stdin is open only for ``stdin: true`` (fed by attach, closed after
  the first attach ends with ``stdinOnce``);
* the process's exit ends the container: ``terminated`` with its ``exitCode`` (128 + the signal
  for one killed by a signal) and reason ``Completed`` (0) or ``Error``; when the main process
  exits, the rest of its process group is killed, as a container's processes die with its
  init process. ``restartPolicy`` ``Always`` restarts it, ``OnFailure`` restarts it unless it
  exited 0, ``Never`` leaves it; a restart makes the log the previous one, counts in
  ``restartCount`` and keeps the exit in ``lastState``. The first restart is at once, each next
  one waits the kubelet's crash back-off, 10 s doubling to 5 min (``crash_backoff`` changes the
  two), waiting with reason ``CrashLoopBackOff``. A command that cannot be started ends at once
  as terminated ``StartError`` (exit code 128) with the error;
* ``exec`` runs the command as a process in the container's working directory and environment
  (stdin, stdout, stderr and the exit code as the session carries them; what it leaves behind in
  its process group is killed when it exits); ``attach`` connects to the main process's stdin
  and output from then on; a TTY is refused with an error saying so;
* a port-forwarded port connects to ``127.0.0.1:<port>``, where the process listens (every pod
  shares this machine's ports: two pods listening on one port collide);
* deleting the pod sends SIGTERM to each process group and SIGKILL after the grace period (at
  most :data:`MAX_GRACE` seconds here), then removes the working directories; the server's stop
  kills everything still running.

Not reproduced: init containers (reported ``Completed`` without running), images, volumes,
resources, TTYs, the back-off reset after 10 minutes of running, ``workingDir``, processes
that leave their process group (``setsid``) escape the kill.

Thread-safety: the kubelet calls :meth:`LocalRuntime.sync` and :meth:`~LocalRuntime.kill` from
its thread; :meth:`~LocalRuntime.handler` and :meth:`~LocalRuntime.port` are called from server
threads; one lock guards the pods. Each process has a thread per output pipe.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kgen.testing._containers import (
    ContainerHandler,
    ContainerHandlers,
    ContainerProcess,
    Sink,
    StreamKind,
)
from kgen.testing._ports import PortTarget
from kgen.testing._runtime import ContainerState
from kgen.testing.controllers._pod_status import container_id

__all__ = ["MAX_GRACE", "LocalRuntime"]

JSON = dict[str, Any]

MAX_GRACE = 10.0
"""The longest a deleted pod's processes are given between SIGTERM and SIGKILL."""

_POLL = 0.1
"""Seconds between the kubelet's looks at a pod whose processes run."""

_CHUNK = 64 * 1024
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_FIELDS: dict[str, Callable[[JSON, str], str]] = {
    "metadata.name": lambda pod, ip: str(pod["metadata"].get("name", "")),
    "metadata.namespace": lambda pod, ip: str(pod["metadata"].get("namespace", "")),
    "metadata.uid": lambda pod, ip: str(pod["metadata"].get("uid", "")),
    "spec.nodeName": lambda pod, ip: str(pod["spec"].get("nodeName", "")),
    "spec.serviceAccountName": lambda pod, ip: str(pod["spec"].get("serviceAccountName", "")),
    "status.podIP": lambda pod, ip: ip,
}


def expand(text: str, env: Mapping[str, str]) -> str:
    """``$(VAR)`` replaced by its value in ``env`` (left as written when unknown), ``$$`` by
    ``$``: the kubelet's expansion of command, args and env values."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _REFERENCE.sub(one, text)


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _go_duration(seconds: float) -> str:
    """``300ms``, ``10s``, ``1m20s``, ``5m0s``: a back-off as Go prints a Duration (whole
    milliseconds below a second, whole seconds above)."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def _kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


@dataclass
class _Output:
    """A process's stdout and stderr pumped to a log and to attached sinks."""

    write_log: Callable[[bytes, str], None]
    attached: list[tuple[Sink, Sink]] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pump(self, pipe: IO[bytes], stream: str) -> None:
        def run() -> None:
            with pipe:
                while chunk := os.read(pipe.fileno(), _CHUNK):
                    self.write_log(chunk, stream)
                    with self.lock:
                        sinks = list(self.attached)
                    for out, err in sinks:
                        with contextlib.suppress(ConnectionError):
                            (out if stream == "stdout" else err).write(chunk)

        thread = threading.Thread(target=run, name=f"kgen-local-{stream}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self, timeout: float | None = None) -> None:
        for thread in self.threads:
            thread.join(timeout)


@dataclass
class _Container:
    spec: JSON
    workdir: Path
    env: dict[str, str]
    policy: str = "Always"
    process: subprocess.Popen[bytes] | None = None
    output: _Output | None = None
    started_at: str = ""
    state: ContainerState = field(default_factory=lambda: ContainerState({"waiting": {}}))
    restarts: int = 0
    retry_at: float | None = None
    attached_once: bool = False

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))


@dataclass
class _Pod:
    uid: str
    namespace: str
    name: str
    workdir: Path
    containers: dict[str, _Container] = field(default_factory=dict)
    execs: set[subprocess.Popen[bytes]] = field(default_factory=set)


class LocalRuntime:
    """See the module docstring. Registers itself as ``handlers.provider``: exec, attach and
    port-forward of its pods reach its processes unless the test registered something."""

    def __init__(
        self,
        handlers: ContainerHandlers,
        *,
        crash_backoff: tuple[float, float] = (10.0, 300.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        initial, most = crash_backoff
        if not (0 <= initial <= most):
            raise ValueError(
                f"crash_backoff {crash_backoff!r}: expected (initial, max), 0 <= initial <= max"
            )
        self._handlers = handlers
        self._backoff = (float(initial), float(most))
        self._clock = clock
        self._pods: dict[tuple[str, str], _Pod] = {}
        self._lock = threading.RLock()
        self._closed = False
        handlers.provider = self

    # --- the kubelet's side -------------------------------------------------------------------

    def sync(self, pod: JSON, pod_ip: str, now: str) -> tuple[dict[str, ContainerState], float]:
        meta = pod["metadata"]
        key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
        with self._lock:
            if self._closed:
                return {}, float("inf")
            known = self._pods.get(key)
            if known is not None and known.uid != meta.get("uid"):
                self._stop(known, 0.0)
                known = None
            if known is None:
                known = self._pods[key] = self._new_pod(pod, pod_ip)
            again = float("inf")
            states = {}
            for name, container in known.containers.items():
                self._advance(known, container, now)
                states[name] = container.state
                if container.process is not None:
                    again = min(again, _POLL)
                elif container.retry_at is not None:
                    again = min(again, max(0.0, container.retry_at - self._clock()))
            return states, again

    def kill(self, pod: JSON, grace: float) -> None:
        meta = pod["metadata"]
        with self._lock:
            known = self._pods.pop((meta.get("namespace", ""), meta.get("name", "")), None)
        if known is not None:
            self._stop(known, min(grace, MAX_GRACE))

    def restart(self, pod: JSON, container: str, now: str) -> None:
        """SIGTERM the container's process group, SIGKILL after the pod's grace period (at
        most :data:`MAX_GRACE`); its exit is then noted and it restarts as a crashed container
        does (``restartPolicy``, back-off)."""
        meta = pod["metadata"]
        with self._lock:
            known = self._pods.get((meta.get("namespace", ""), meta.get("name", "")))
            found = None if known is None else known.containers.get(container)
            process = None if found is None else found.process
        if known is None or found is None or process is None:
            return
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        _kill_group(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(min(float(30 if grace is None else grace), MAX_GRACE))
        _kill_group(process, signal.SIGKILL)
        process.wait()
        with self._lock:
            if found.process is process:
                self._advance(known, found, now)

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            known = self._pods.pop((namespace, name), None)
        if known is not None:
            self._stop(known, 0.0)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pods, self._pods = list(self._pods.values()), {}
        for known in pods:
            self._stop(known, 0.0)
        if self._handlers.provider is self:
            self._handlers.provider = None

    @property
    def processes(self) -> list[int]:
        """The process ids of every main and exec'd process running now (for tests)."""
        with self._lock:
            found = [
                c.process.pid
                for p in self._pods.values()
                for c in p.containers.values()
                if c.process is not None
            ]
            return found + [e.pid for p in self._pods.values() for e in p.execs]

    # --- the server's side --------------------------------------------------------------------

    def handler(
        self, kind: StreamKind, namespace: str, pod: str, container: str
    ) -> ContainerHandler | None:
        with self._lock:
            known = self._pods.get((namespace, pod))
            found = None if known is None else known.containers.get(container)
        if known is None or found is None:
            return None
        if kind == "exec":
            return lambda process: self._exec(known, found, process)
        return lambda process: self._attach(found, process)

    def port(self, namespace: str, pod: str, port: int) -> PortTarget | None:
        with self._lock:
            return ("127.0.0.1", port) if (namespace, pod) in self._pods else None

    # --- containers ---------------------------------------------------------------------------

    def _new_pod(self, pod: JSON, pod_ip: str) -> _Pod:
        meta = pod["metadata"]
        workdir = Path(tempfile.mkdtemp(prefix=f"kgen-{meta.get('namespace')}-{meta.get('name')}-"))
        known = _Pod(str(meta.get("uid", "")), meta["namespace"], meta["name"], workdir)
        for spec in pod["spec"].get("containers") or []:
            name = str(spec.get("name", ""))
            home = workdir / name
            home.mkdir()
            env = {
                "PATH": os.environ.get("PATH", os.defpath),
                "HOME": str(home),
                "HOSTNAME": known.name,
            }
            for var in spec.get("env") or []:
                if "value" in var:
                    env[var["name"]] = expand(str(var["value"]), env)
                else:
                    path = ((var.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
                    if path in _FIELDS:
                        env[var["name"]] = _FIELDS[path](pod, pod_ip)
            policy = str(pod["spec"].get("restartPolicy") or "Always")
            container = _Container(spec, home, env, policy)
            known.containers[name] = container
        return known

    def _advance(self, pod: _Pod, container: _Container, now: str) -> None:
        """Start a container not started yet or due for a restart, note one that exited."""
        process = container.process
        if process is None and container.retry_at is None and not container.state.terminated:
            if not container.started_at:
                self._start(pod, container, now)
        elif process is not None and process.poll() is not None:
            _kill_group(process, signal.SIGKILL)  # the rest dies with the container's init
            if container.output is not None:
                container.output.join()
            self._handlers.logs.log(pod.namespace, pod.name, container.name).end()
            container.process = None
            self._exited(pod, container, _exit_code(process.returncode), "", now)
        if container.retry_at is not None and self._clock() >= container.retry_at:
            container.retry_at = None
            container.restarts += 1
            self._handlers.logs.restart(pod.namespace, pod.name, container.name)
            self._start(pod, container, now)

    def _start(self, pod: _Pod, container: _Container, now: str) -> None:
        spec = container.spec
        argv = [
            expand(str(a), container.env)
            for a in [*(spec.get("command") or []), *(spec.get("args") or [])]
        ]
        container.started_at = now
        container.attached_once = False
        if not argv:
            message = (
                "the local runtime runs a container's command and args (images are not run): "
                "this container has neither"
            )
            self._exited(pod, container, 128, message, now, reason="StartError")
            return
        try:
            process = subprocess.Popen(
                argv,
                cwd=container.workdir,
                env=container.env,
                stdin=subprocess.PIPE if spec.get("stdin") else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as err:
            self._exited(
                pod, container, 128, f"failed to start {argv[0]!r}: {err}", now, reason="StartError"
            )
            return
        log = self._handlers.logs.log(pod.namespace, pod.name, container.name)

        def write(chunk: bytes, stream: str) -> None:
            with contextlib.suppress(ValueError):  # the test cleared the logs
                log.write(chunk, stream="stderr" if stream == "stderr" else "stdout")

        output = _Output(write)
        assert process.stdout is not None and process.stderr is not None
        output.pump(process.stdout, "stdout")
        output.pump(process.stderr, "stderr")
        container.process, container.output = process, output
        container.state = ContainerState(
            {"running": {"startedAt": now}}, container.state.last_state, container.restarts
        )

    def _exited(
        self, pod: _Pod, container: _Container, code: int, message: str, now: str, reason: str = ""
    ) -> None:
        terminated: JSON = {
            "exitCode": code,
            "reason": reason or ("Completed" if code == 0 else "Error"),
            "startedAt": container.started_at,
            "finishedAt": now,
            "containerID": container_id(pod.uid, container.spec, container.restarts),
        }
        if message:
            terminated["message"] = message
        policy = container.policy
        if policy == "Never" or (policy == "OnFailure" and code == 0):
            container.state = ContainerState(
                {"terminated": terminated}, container.state.last_state, container.restarts
            )
            return
        initial, most = self._backoff
        delay = (
            0.0 if container.restarts == 0 else min(initial * 2 ** (container.restarts - 1), most)
        )
        container.retry_at = self._clock() + delay
        waiting: JSON = {"reason": "CrashLoopBackOff"} if delay else {"reason": "ContainerCreating"}
        if delay:
            waiting["message"] = (
                f"back-off {_go_duration(delay)} restarting failed container={container.name} "
                f"pod={pod.name}_{pod.namespace}({pod.uid})"
            )
        container.state = ContainerState(
            {"waiting": waiting}, {"terminated": terminated}, container.restarts
        )

    def _stop(self, pod: _Pod, grace: float) -> None:
        """SIGTERM every process group of the pod, SIGKILL after ``grace``, then clean up."""
        processes = [c.process for c in pod.containers.values() if c.process is not None]
        with self._lock:
            processes += list(pod.execs)
        for process in processes:
            _kill_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.0, deadline - time.monotonic()))
            _kill_group(process, signal.SIGKILL)
            process.wait()
        for container in pod.containers.values():
            if container.output is not None:
                container.output.join()
            container.process = None
            self._handlers.logs.log(pod.namespace, pod.name, container.name).end()
        shutil.rmtree(pod.workdir, ignore_errors=True)

    # --- exec and attach ----------------------------------------------------------------------

    def _exec(self, pod: _Pod, container: _Container, process: ContainerProcess) -> int:
        if process.tty:
            raise RuntimeError("the local runtime has no TTY: exec without -t/--tty")
        try:
            child = subprocess.Popen(
                list(process.command),
                cwd=container.workdir,
                env=container.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as err:
            raise RuntimeError(
                f"cannot run {process.command[0]!r} in the container: {err}"
            ) from None
        with self._lock:
            pod.execs.add(child)
        try:
            output = _Output(lambda chunk, stream: None, [(process.stdout, process.stderr)])
            assert child.stdout is not None and child.stderr is not None
            output.pump(child.stdout, "stdout")
            output.pump(child.stderr, "stderr")
            feeder = self._feed(process, child, close_after=True)
            while child.poll() is None:
                if process.disconnected.is_set():
                    _kill_group(child, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(_POLL)
            _kill_group(child, signal.SIGKILL)  # what it left behind in its group goes too
            output.join()
            process.stdin.end()
            feeder.join()
            return _exit_code(child.returncode)
        finally:
            with self._lock:
                pod.execs.discard(child)

    def _attach(self, container: _Container, process: ContainerProcess) -> int:
        if process.tty:
            raise RuntimeError("the local runtime has no TTY: attach without -t/--tty")
        with self._lock:
            child, output = container.process, container.output
        if child is None or output is None:
            raise RuntimeError(f"container {container.name} is not running")
        sinks = (process.stdout, process.stderr)
        with output.lock:
            output.attached.append(sinks)
        once = bool(container.spec.get("stdinOnce"))
        feeder = self._feed(process, child, close_after=once and not container.attached_once)
        container.attached_once = True
        try:
            while child.poll() is None and not process.disconnected.is_set():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(_POLL)
            if child.poll() is not None:
                output.join()  # everything it wrote has reached the client
        finally:
            with output.lock:
                output.attached.remove(sinks)
        process.stdin.end()
        feeder.join()
        return 0

    @staticmethod
    def _feed(
        process: ContainerProcess, child: subprocess.Popen[bytes], close_after: bool
    ) -> threading.Thread:
        """A thread copying the session's stdin to the child's (closed at the end when
        ``close_after``); returns at the session's EOF."""

        def run() -> None:
            pipe = child.stdin
            while data := process.stdin.read1():
                if pipe is None:
                    continue
                try:
                    pipe.write(data)
                    pipe.flush()
                except (OSError, ValueError):
                    pipe = None
            if close_after and pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

        thread = threading.Thread(target=run, name="kgen-local-stdin", daemon=True)
        thread.start()
        return thread
