"""The kubelets of the test server: nodes that register and stay Ready, and the pods they run.

:class:`Kubelet` plays the kubelet of each node in ``nodes`` (``kgen-node-1`` by default):

* the Node object: registered at start with the labels a kubelet sets
  (``kubernetes.io/hostname``, ``kubernetes.io/os``, ``kubernetes.io/arch``), capacity and
  allocatable, addresses (``InternalIP``, ``Hostname``), ``nodeInfo`` and the conditions
  (``Ready`` True; memory, disk and PID pressure False), their heartbeat renewed every
  :data:`HEARTBEAT` seconds, with the node's Lease in ``kube-node-lease``;
* the pods bound to the node (``spec.nodeName``): their status goes from Pending to Running as
  the kubelet reports it: ``hostIP``/``podIP``, ``startTime``, init containers terminated
  ``Completed`` first, then every container running, started and ready with a ``containerID``,
  an ``imageID`` and ``restartCount`` 0, and the conditions ``PodScheduled``,
  ``PodReadyToStartContainers``, ``Initialized``, ``ContainersReady`` and ``Ready``;
* graceful deletion: a pod the tracker has marked with a ``deletionTimestamp`` and its grace
  period (bound pods wait for their kubelet when the controllers run) is removed by its kubelet
  once its containers have stopped, which here is at once, as a kubelet does for containers
  that exit on SIGTERM: the grace period is the most a pod may take.

* run to completion: the containers of a Job's pods exit :data:`_COMPLETION` seconds after
  they start running, with the code :func:`exit_code` reads from their command (``false``,
  ``exit N``; 0 otherwise), and the pod ends Succeeded or Failed, not ready
  (``PodCompleted``); other pods run until deleted.

What its containers do when exec'd or attached is the test's (:mod:`kgen.testing._containers`).
Not reproduced: readiness and liveness probes, restarts and CrashLoopBackOff, resources,
volumes, images actually pulled, a node that goes NotReady.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Hashable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from kgen.record import EventRecorder, get_reference
from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._store import JSON, Event
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers._events import ControllerEvents

__all__ = ["DEFAULT_NODES", "HEARTBEAT", "Kubelet", "exit_code"]

DEFAULT_NODES = ("kgen-node-1",)
HEARTBEAT = 10.0
"""Seconds between node heartbeats (the kubelet's nodeStatusUpdateFrequency is 10 s)."""

_PODS = ("", "pods")
_NODES = ("", "nodes")
_LEASES = ("coordination.k8s.io", "leases")
_LEASE_NAMESPACE = "kube-node-lease"
_MANAGER = "kubelet"
_COMPLETION = 0.05
"""Seconds a Job's pod runs before its containers exit."""
_CAPACITY = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}


class Kubelet:
    """See the module docstring. Thread-safety: the runner calls it from one thread."""

    name = "kubelet"

    def __init__(
        self, tracker: ObjectTracker, nodes: Sequence[str] = DEFAULT_NODES, version: str = ""
    ) -> None:
        self._tracker = tracker
        self._nodes = {name: index for index, name in enumerate(nodes)}
        self._version = version or "v1.35.0"
        self._pod_ips: dict[tuple[str, str], str] = {}
        events = ControllerEvents(tracker)
        self._events: dict[str, EventRecorder] = {
            name: events.recorder("kubelet", name) for name in nodes
        }

    # --- runner protocol ----------------------------------------------------------------------

    def observe(self, event: Event) -> Iterable[Hashable]:
        if (
            event.resource == _PODS
            and (event.object.get("spec") or {}).get("nodeName") in self._nodes
        ):
            return (("pod", *event.key),)  # a DELETED one too: its pod IP is given back
        return ()

    def initial(self) -> Iterable[Hashable]:
        return [("node", name) for name in self._nodes]

    def sync(self, key: Hashable) -> float | None:
        if not isinstance(key, tuple):
            return None
        if key[0] == "node":
            self._heartbeat(key[1])
            return HEARTBEAT
        if key[0] == "pod":
            return self._sync_pod(key[1], key[2])
        return None

    # --- nodes --------------------------------------------------------------------------------

    def _heartbeat(self, name: str) -> None:
        nodes = self._tracker.registry.stored_one(*_NODES)
        if nodes is None:
            return
        now = self._tracker.now()
        try:
            node = self._tracker.get(nodes, "", name)
        except APIError as err:
            if err.code != 404:
                raise
            node = self._tracker.create(nodes, "", self._node(name), self._options())
        node["status"] = self._node_status(name, node.get("status") or {}, now)
        node["metadata"].pop("resourceVersion", None)
        self._tracker.update(nodes, "", node, self._options(), subresource="status")
        self._renew_lease(name, node["metadata"].get("uid", ""), now)

    def _node(self, name: str) -> JSON:
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "beta.kubernetes.io/arch": "amd64",
                },
                "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            },
            "spec": {"podCIDR": str(self._pod_cidr(name))},
        }

    def _pod_cidr(self, name: str) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"10.244.{self._nodes[name]}.0/24")

    def _node_status(self, name: str, old: JSON, now: str) -> JSON:
        def condition(kind: str, status: str, reason: str, message: str) -> JSON:
            before: JSON = next(
                (c for c in old.get("conditions") or [] if c.get("type") == kind), {}
            )
            moved = before.get("status") != status
            return {
                "type": kind,
                "status": status,
                "lastHeartbeatTime": now,
                "lastTransitionTime": now if moved else before.get("lastTransitionTime", now),
                "reason": reason,
                "message": message,
            }

        index = self._nodes[name]
        digest = hashlib.sha256(name.encode()).hexdigest()
        return {
            "capacity": dict(_CAPACITY),
            "allocatable": dict(_CAPACITY),
            "conditions": [
                condition(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                ),
                condition(
                    "DiskPressure",
                    "False",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                ),
                condition(
                    "PIDPressure",
                    "False",
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                ),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.0.{index + 10}"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": digest[:32],
                "systemUUID": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
                "bootID": digest[32:64],
                "kernelVersion": "6.1.0-kgen",
                "osImage": "kgen testing node",
                "containerRuntimeVersion": "containerd://2.0.0",
                "kubeletVersion": self._version,
                "kubeProxyVersion": self._version,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        }

    def _renew_lease(self, node: str, uid: str, now: str) -> None:
        leases = self._tracker.registry.stored_one(*_LEASES)
        if leases is None:
            return
        renew = _micro(now)
        try:
            lease = self._tracker.get(leases, _LEASE_NAMESPACE, node)
        except APIError as err:
            if err.code != 404:
                raise
            lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {
                    "name": node,
                    "namespace": _LEASE_NAMESPACE,
                    "ownerReferences": [
                        {"apiVersion": "v1", "kind": "Node", "name": node, "uid": uid}
                    ],
                },
                "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": renew},
            }
            try:
                self._tracker.create(leases, _LEASE_NAMESPACE, lease, self._options())
            except APIError as create_err:
                if create_err.code != 404:  # no kube-node-lease namespace: no lease, as kube
                    raise
            return
        lease["spec"]["renewTime"] = renew
        lease["metadata"].pop("resourceVersion", None)
        self._tracker.update(leases, _LEASE_NAMESPACE, lease, self._options())

    # --- pods ---------------------------------------------------------------------------------

    def _sync_pod(self, namespace: str, name: str) -> float | None:
        pods = self._tracker.registry.stored_one(*_PODS)
        if pods is None:
            return None
        try:
            pod = self._tracker.get(pods, namespace, name)
        except APIError as err:
            if err.code == 404:
                self._pod_ips.pop((namespace, name), None)
                return None
            raise
        if pod["metadata"].get("deletionTimestamp"):
            self._remove(pods, pod)  # nothing runs to be stopped: gone before its grace is over
            return None
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed") or (
            phase == "Running" and not _runs_to_completion(pod)
        ):
            return None
        pod["status"] = self._running(pod) if phase != "Running" else self._completed(pod)
        pod["metadata"].pop("resourceVersion", None)
        try:
            self._tracker.update(pods, namespace, pod, self._options(), subresource="status")
        except APIError as err:
            if err.code == 409:
                return 0.01  # changed meanwhile: look again
            if err.code != 404:
                raise
            return None
        if phase != "Running":
            self._started(pod)
        return _COMPLETION if phase != "Running" and _runs_to_completion(pod) else None

    def _completed(self, pod: JSON) -> JSON:
        """The status of a pod whose containers have all exited (see :func:`exit_code`):
        Succeeded when every one exited 0, Failed otherwise; not ready (``PodCompleted``)."""
        now = self._tracker.now()
        status: JSON = dict(pod.get("status") or {})
        codes = []
        containers = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
        statuses = []
        for old in status.get("containerStatuses") or []:
            code = exit_code(containers.get(old.get("name")) or {})
            codes.append(code)
            running = (old.get("state") or {}).get("running") or {}
            terminated = {
                "exitCode": code,
                "reason": "Completed" if code == 0 else "Error",
                "startedAt": running.get("startedAt", now),
                "finishedAt": now,
                "containerID": old.get("containerID", ""),
            }
            statuses.append(
                {**old, "state": {"terminated": terminated}, "ready": False, "started": False}
            )
        status["containerStatuses"] = statuses
        status["phase"] = "Succeeded" if all(c == 0 for c in codes) else "Failed"
        conditions = []
        for condition in status.get("conditions") or []:
            if condition.get("type") in ("Ready", "ContainersReady"):
                condition = {
                    **condition,
                    "status": "False",
                    "lastTransitionTime": now,
                    "reason": "PodCompleted",
                }
            conditions.append(condition)
        status["conditions"] = conditions
        return status

    def _container_event(self, pod: JSON, path: str, reason: str, message: str) -> None:
        recorder = self._events.get((pod.get("spec") or {}).get("nodeName", ""))
        if recorder is not None:
            ref = msgspec.structs.replace(get_reference(pod), field_path=path)
            recorder.event(ref, "Normal", reason, message)

    def _started(self, pod: JSON) -> None:
        """The events a kubelet writes as it starts a pod's containers (images are never
        pulled: ``Always`` says it pulled in no time)."""
        spec = pod.get("spec") or {}
        for field in ("initContainers", "containers"):
            for container in spec.get(field) or []:
                name, image = container.get("name", ""), container.get("image", "")
                path = f"spec.{field}{{{name}}}"
                if container.get("imagePullPolicy") == "Always":
                    self._container_event(pod, path, "Pulling", f'Pulling image "{image}"')
                    pulled = (
                        f'Successfully pulled image "{image}" in 0s (0s including waiting).'
                        " Image size: 0 bytes."
                    )
                else:
                    pulled = (
                        f'Container image "{image}" already present on machine'
                        " and can be accessed by the pod"
                    )
                self._container_event(pod, path, "Pulled", pulled)
                self._container_event(pod, path, "Created", f"Created container: {name}")
                self._container_event(pod, path, "Started", f"Started container {name}")

    def _remove(self, pods: Any, pod: JSON) -> None:
        if (pod.get("status") or {}).get("phase") == "Running":
            for container in (pod.get("spec") or {}).get("containers") or []:
                name = container.get("name", "")
                path = f"spec.containers{{{name}}}"
                self._container_event(pod, path, "Killing", f"Stopping container {name}")
        meta = pod["metadata"]
        options = self._options(gracePeriodSeconds=0, preconditions={"uid": meta.get("uid")})
        try:
            self._tracker.delete(pods, meta["namespace"], meta["name"], options)
        except APIError as err:
            if err.code not in (404, 409):
                raise

    def _running(self, pod: JSON) -> JSON:
        now = self._tracker.now()
        spec = pod.get("spec") or {}
        node = spec["nodeName"]
        old = pod.get("status") or {}
        meta = pod["metadata"]
        ip = self._pod_ip(node, (meta["namespace"], meta["name"]))
        started = old.get("startTime") or now

        def container_id(container: JSON) -> str:
            seed = f"{meta.get('uid')}/{container.get('name')}".encode()
            return "containerd://" + hashlib.sha256(seed).hexdigest()

        def image_id(image: str) -> str:
            digest = hashlib.sha256(image.encode()).hexdigest()
            repository = (
                image.split("@")[0].rsplit(":", 1)[0] if "/" in image or ":" in image else image
            )
            if "/" not in repository:
                repository = f"docker.io/library/{repository}"
            return f"{repository}@sha256:{digest}"

        def status_of(container: JSON, state: JSON, ready: bool) -> JSON:
            image = container.get("image", "")
            return {
                "name": container.get("name", ""),
                "state": state,
                "lastState": {},
                "ready": ready,
                "restartCount": 0,
                "image": image,
                "imageID": image_id(image),
                "containerID": container_id(container),
                "started": ready,
            }

        def condition(kind: str) -> JSON:
            return {
                "type": kind,
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": now,
            }

        status: JSON = {
            "phase": "Running",
            "conditions": [
                condition(kind)
                for kind in (
                    "PodReadyToStartContainers",
                    "Initialized",
                    "Ready",
                    "ContainersReady",
                    "PodScheduled",
                )
            ],
            "hostIP": self._host_ip(node),
            "hostIPs": [{"ip": self._host_ip(node)}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": started,
            "qosClass": old.get("qosClass", "BestEffort"),
        }
        if spec.get("initContainers"):
            status["initContainerStatuses"] = [
                status_of(
                    c,
                    {
                        "terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": started,
                            "finishedAt": now,
                            "containerID": container_id(c),
                        }
                    },
                    False,
                )
                | {"started": False}
                for c in spec["initContainers"]
            ]
        status["containerStatuses"] = [
            status_of(c, {"running": {"startedAt": now}}, True)
            for c in spec.get("containers") or []
        ]
        return status

    def _host_ip(self, node: str) -> str:
        return f"10.0.0.{self._nodes[node] + 10}"

    def _pod_ip(self, node: str, key: tuple[str, str]) -> str:
        if key not in self._pod_ips:
            taken = set(self._pod_ips.values())
            network = self._pod_cidr(node)
            self._pod_ips[key] = next(
                str(ip) for ip in list(network.hosts())[1:] if str(ip) not in taken
            )
        return self._pod_ips[key]

    @staticmethod
    def _options(**body: object) -> WriteOptions:
        return WriteOptions(field_manager=_MANAGER, body_options=dict(body))


def _runs_to_completion(pod: JSON) -> bool:
    """Whether the pod's containers end by themselves: a Job's pods (controller reference kind
    ``Job``) do, as their commands would; every other pod's containers run until deleted."""
    return any(
        isinstance(r, dict) and r.get("controller") and r.get("kind") == "Job"
        for r in pod["metadata"].get("ownerReferences") or []
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


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _micro(stamp: str) -> str:
    """A MicroTime (``2024-01-02T03:04:05.000000Z``) for the same instant."""
    return _parse(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
