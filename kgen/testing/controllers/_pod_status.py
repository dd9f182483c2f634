"""A running pod's status as its kubelet's status manager writes it, from its containers' states.

:func:`pod_status` is pure: given the pod (its spec and the status stored so far), its IPs, the
runtime's :class:`~kgen.testing._runtime.ContainerState` of each container and which are ready,
it returns the whole status. A condition keeps its ``lastTransitionTime`` while its status does
not change, and a container keeps its ids, so an unchanged pod gives an equal status (the
kubelet then writes nothing).

* phase: ``Succeeded`` once every container has terminated with exit code 0, ``Failed`` once
  every one has terminated and one did not exit 0 (the runtime restarts those its
  ``restartPolicy`` restarts, so they are not terminated), ``Running`` otherwise;
* ``ContainersReady`` and ``Ready``: True when every container is ready; False with
  ``ContainersNotReady`` and ``containers with unready status: [a b]``, or ``PodCompleted``
  for a pod whose containers have all terminated;
* init containers are reported terminated ``Completed`` (they do not run here).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from kgen.testing._runtime import ContainerState, container_id

__all__ = ["container_id", "pod_status"]

JSON = dict[str, Any]


def pod_status(
    pod: JSON,
    pod_ip: str,
    host_ip: str,
    states: Mapping[str, ContainerState],
    ready: Mapping[str, bool],
    now: str,
    *,
    confirmed: Mapping[str, bool] | None = None,
) -> JSON:
    """See the module docstring. ``confirmed``: whether each container's startup probe has
    passed (a running container without one, or without an entry, is started)."""
    spec = pod.get("spec") or {}
    old = pod.get("status") or {}
    uid = (pod.get("metadata") or {}).get("uid", "")
    started = old.get("startTime") or now
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    names = [str(c.get("name", "")) for c in containers]
    creating = ContainerState({"waiting": {"reason": "ContainerCreating"}})
    current = {n: states.get(n) or creating for n in names}
    ended = [s.terminated for s in current.values()]
    if names and all(t is not None for t in ended):
        phase = "Succeeded" if all(t and t.get("exitCode") == 0 for t in ended) else "Failed"
    else:
        phase = "Running"
    unready = [n for n in names if not (current[n].running and ready.get(n, False))]
    before = {c.get("type"): c for c in old.get("conditions") or []}

    def condition(kind: str, true: bool, reason: str = "", message: str = "") -> JSON:
        status = "True" if true else "False"
        previous = before.get(kind) or {}
        moved = previous.get("status") != status
        out: JSON = {
            "type": kind,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": now if moved else previous.get("lastTransitionTime", now),
        }
        if not true:
            out["reason"], out["message"] = reason, message
        return out

    if phase != "Running":
        why: tuple[str, str] = ("PodCompleted", "")
    else:
        why = ("ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]")
    status: JSON = {
        "phase": phase,
        "conditions": [
            condition("PodReadyToStartContainers", True),
            condition("Initialized", True),
            condition("Ready", not unready, *why),
            condition("ContainersReady", not unready, *why),
            condition("PodScheduled", True),
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": started,
        "qosClass": old.get("qosClass", "BestEffort"),
    }
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [
            _container(
                c,
                uid,
                ContainerState(
                    {
                        "terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": started,
                            "finishedAt": _finished(old, c, now),
                            "containerID": container_id(uid, c, 0),
                        }
                    }
                ),
                False,
                False,
            )
            for c in spec["initContainers"]
            if isinstance(c, dict)
        ]
    status["containerStatuses"] = [
        _container(
            c,
            uid,
            current[n],
            current[n].running and ready.get(n, False),
            current[n].running and (confirmed or {}).get(n, True),
        )
        for c, n in zip(containers, names, strict=True)
    ]
    return status


def _finished(old: JSON, container: JSON, now: str) -> str:
    for status in old.get("initContainerStatuses") or []:
        if status.get("name") == container.get("name"):
            finished = (status.get("state") or {}).get("terminated", {}).get("finishedAt")
            if finished:
                return str(finished)
    return now


def _image_id(image: str) -> str:
    digest = hashlib.sha256(image.encode()).hexdigest()
    repository = image.split("@")[0].rsplit(":", 1)[0] if "/" in image or ":" in image else image
    if "/" not in repository:
        repository = f"docker.io/library/{repository}"
    return f"{repository}@sha256:{digest}"


def _container(
    container: JSON, uid: str, state: ContainerState, ready: bool, started: bool
) -> JSON:
    image = str(container.get("image", ""))
    out: JSON = {
        "name": container.get("name", ""),
        "state": state.state,
        "lastState": state.last_state,
        "ready": ready,
        "restartCount": state.restart_count,
        "image": image,
        "imageID": _image_id(image),
        "started": started,
    }
    if "waiting" not in state.state or state.restart_count:
        out["containerID"] = container_id(uid, container, state.restart_count)
    return out
