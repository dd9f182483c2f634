"""What the kubelet asks of a container runtime: the state of a pod's containers.

The kubelet (:mod:`kgen.testing.controllers.kubelet`) reports each container's state in the
pod's status; where that state comes from is a :class:`ContainerRuntime`:

* :class:`HandlerRuntime` (the default): nothing runs; every container is running from the
  moment its kubelet first syncs the pod, and what it does when exec'd, attached, port-forwarded
  or logged is the test's (:mod:`kgen.testing._containers`);
* :class:`kgen.testing._localruntime.LocalRuntime` (``APIServer(kubelet="local")``): each
  container's command runs as a local process.

Thread-safety: the kubelet calls :meth:`ContainerRuntime.sync`, :meth:`~ContainerRuntime.kill`
and :meth:`~ContainerRuntime.forget` from its one thread; :meth:`~ContainerRuntime.close` is
called by the server once the kubelet has stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["ContainerRuntime", "ContainerState", "HandlerRuntime"]

JSON = dict[str, Any]


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

    def forget(self, namespace: str, name: str) -> None:
        """The pod is gone: release whatever is left of it."""
        ...

    def close(self) -> None:
        """The server stops: kill everything still running."""
        ...


class HandlerRuntime:
    """Containers that run nothing and never stop (see the module docstring). Stateless."""

    def sync(self, pod: JSON, pod_ip: str, now: str) -> tuple[dict[str, ContainerState], float]:
        old = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        states = {}
        for container in (pod.get("spec") or {}).get("containers") or []:
            name = container.get("name", "")
            started = ((old.get(name) or {}).get("state") or {}).get("running", {}).get("startedAt")
            states[name] = ContainerState({"running": {"startedAt": started or now}})
        return states, float("inf")

    def kill(self, pod: JSON, grace: float) -> None:
        """Nothing runs: nothing to stop."""

    def forget(self, namespace: str, name: str) -> None:
        """Nothing is kept."""

    def close(self) -> None:
        """Nothing runs."""
