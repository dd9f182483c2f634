"""What the kubelet asks of a container runtime: the state of a pod's containers.

The kubelet (:mod:`kgen.testing.controllers.kubelet`) reports each container's state in the
pod's status; where that state comes from is a :class:`ContainerRuntime`:

* :class:`HandlerRuntime` (the default): nothing runs; every container is running from the
  moment its kubelet first syncs the pod, and what it does when exec'd, attached, port-forwarded
  or logged is the test's (:mod:`kgen.testing._containers`). A Job's pods run to completion:
  their containers terminate :data:`COMPLETION` seconds after they started, with the code
  :func:`exit_code` reads from their command. A container the kubelet restarts (a failed
  liveness probe) ends with exit code 143 (it exits on SIGTERM) and, unless its pod's
  ``restartPolicy`` is ``Never``, runs again at once (no back-off: nothing crashed);
* :class:`kgen.testing._localruntime.LocalRuntime` (``APIServer(kubelet="local")``): each
  container's command runs as a local process.

Thread-safety: the kubelet calls :meth:`ContainerRuntime.sync`, :meth:`~ContainerRuntime.kill`,
:meth:`~ContainerRuntime.restart` and :meth:`~ContainerRuntime.forget` from its one thread; :meth:`~ContainerRuntime.close` is
called by the server once the kubelet has stopped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "COMPLETION",
    "ContainerRuntime",
    "ContainerState",
    "HandlerRuntime",
    "container_id",
    "exit_code",
]

JSON = dict[str, Any]

COMPLETION = 0.05
"""Seconds a Job pod's container of :class:`HandlerRuntime` runs before it exits."""


@dataclass(frozen=True)
class ContainerState:
    """One container as the runtime sees it: ``state`` and ``last_state`` are the
    ``ContainerState`` objects of the pod status (``{"running": {"startedAt": ...}}``,
    ``{"terminated": {...}}``, ``{"waiting": {...}}``; ``{}`` for no last state)."""

    state: JSON
    last_state: JSON = field(default_factory=dict)
    restart_count: int = 0

    @property
    def running(self) -> bool:
        return "running" in self.state

    @property
    def terminated(self) -> JSON | None:
        found: JSON | None = self.state.get("terminated")
        return found


class ContainerRuntime(Protocol):
    """What runs a node's containers; see the module docstring."""

    def sync(self, pod: JSON, pod_ip: str, now: str) -> tuple[dict[str, ContainerState], float]:
        """Start, restart or note the end of ``pod``'s containers (``now`` is the time to
        stamp); their states by name, and the seconds after which the kubelet should look again
        (``inf``: only when the pod changes)."""
        ...

    def kill(self, pod: JSON, grace: float) -> None:
        """Stop the pod's containers (SIGTERM, SIGKILL after at most ``grace`` seconds);
        returns once they are gone."""
        ...

    def restart(self, pod: JSON, container: str, now: str) -> None:
        """Kill the running ``container`` of ``pod`` (SIGTERM, SIGKILL after the pod's grace
        period, bounded by the runtime); it starts again as the pod's ``restartPolicy`` says,
        with its restart count one higher. Returns once it is stopped."""
        ...

    def forget(self, namespace: str, name: str) -> None:
        """The pod is gone: release whatever is left of it."""
        ...

    def close(self) -> None:
        """The server stops: kill everything still running."""
        ...


class HandlerRuntime:
    """Containers that run nothing: they never stop, except a Job's, which exit
    :data:`COMPLETION` seconds after they started, and those the kubelet restarts (see the
    module docstring). Keeps only the restarted containers' states, by pod and container."""

    def __init__(self) -> None:
        self._restarted: dict[tuple[str, str, str], tuple[str, ContainerState]] = {}
        """(namespace, pod, container) -> (pod uid, the state after the last restart)."""

    def sync(self, pod: JSON, pod_ip: str, now: str) -> tuple[dict[str, ContainerState], float]:
        old = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        meta = pod.get("metadata") or {}
        completes = _runs_to_completion(pod)
        states = {}
        again = float("inf")
        for container in (pod.get("spec") or {}).get("containers") or []:
            name = container.get("name", "")
            restarted = self._restarted.get((meta.get("namespace", ""), meta.get("name", ""), name))
            if restarted is not None and restarted[0] == meta.get("uid"):
                before = restarted[1]
                if before.terminated is not None:
                    states[name] = before
                    continue
                state = before.state
            else:
                before = None
                state = (old.get(name) or {}).get("state") or {}
            if completes and "terminated" in state:
                states[name] = ContainerState(state)
                continue
            started = state.get("running", {}).get("startedAt") or now
            left = COMPLETION - (_parse(now) - _parse(started)).total_seconds()
            if completes and left <= 0:
                code = exit_code(container)
                ended = {
                    "exitCode": code,
                    "reason": "Completed" if code == 0 else "Error",
                    "startedAt": started,
                    "finishedAt": now,
                }
                states[name] = ContainerState({"terminated": ended})
            else:
                running = {"running": {"startedAt": started}}
                states[name] = (
                    ContainerState(running)
                    if before is None
                    else ContainerState(running, before.last_state, before.restart_count)
                )
                again = min(again, left) if completes else again
        return states, again

    def restart(self, pod: JSON, container: str, now: str) -> None:
        """The container exits on SIGTERM (143) and, unless ``restartPolicy`` is ``Never``,
        runs again from ``now``."""
        meta = pod.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""), container)
        status: JSON = next(
            (
                s
                for s in (pod.get("status") or {}).get("containerStatuses") or []
                if s.get("name") == container
            ),
            {},
        )
        restarted = self._restarted.get(key)
        count = int(status.get("restartCount") or 0)
        started = ((status.get("state") or {}).get("running") or {}).get("startedAt") or now
        if restarted is not None and restarted[0] == meta.get("uid"):
            count = restarted[1].restart_count
            started = restarted[1].state.get("running", {}).get("startedAt", started)
        ended = {
            "exitCode": 143,
            "reason": "Error",
            "startedAt": started,
            "finishedAt": now,
            "containerID": container_id(str(meta.get("uid", "")), {"name": container}, count),
        }
        if (pod.get("spec") or {}).get("restartPolicy") == "Never":
            state = ContainerState({"terminated": ended}, {}, count)
        else:
            state = ContainerState(
                {"running": {"startedAt": now}}, {"terminated": ended}, count + 1
            )
        self._restarted[key] = (str(meta.get("uid", "")), state)

    def kill(self, pod: JSON, grace: float) -> None:
        """Nothing runs: nothing to stop."""

    def forget(self, namespace: str, name: str) -> None:
        """The pod is gone: its restarted containers' states go too."""
        for key in [k for k in self._restarted if k[:2] == (namespace, name)]:
            del self._restarted[key]

    def close(self) -> None:
        """Nothing runs."""


def _runs_to_completion(pod: JSON) -> bool:
    """Whether the pod's containers end by themselves: a Job's pods (controller reference kind
    ``Job``) do, as their commands would; every other pod's containers run until deleted."""
    return any(
        isinstance(r, dict) and r.get("controller") and r.get("kind") == "Job"
        for r in (pod.get("metadata") or {}).get("ownerReferences") or []
    )


_EXIT = re.compile(r"(?:^|[;&|]\s*)exit\s+(\d+)\s*;?\s*$")


def exit_code(container: JSON) -> int:
    """The exit code of a container that runs to completion, read from its command as a shell
    would end it: ``false`` exits 1, a script ending in ``exit N`` (``sh -c "...; exit 3"``)
    exits N, anything else exits 0 (nothing runs, so nothing else can fail)."""
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    if (words and words[-1].strip() == "false") or words[:1] == ["false"]:
        return 1
    found = _EXIT.search(words[-1].strip()) if words else None
    return int(found.group(1)) % 256 if found else 0


def container_id(uid: str, container: JSON, restarts: int) -> str:
    """The ``containerd://`` id of one instance of a container (a new one per restart)."""
    seed = f"{uid}/{container.get('name')}" + (f"/{restarts}" if restarts else "")
    return "containerd://" + hashlib.sha256(seed.encode()).hexdigest()


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
