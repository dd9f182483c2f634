"""The kubelets of the test server: nodes that register and stay Ready, and the pods they run.

:class:`Kubelet` plays the kubelet of each node in ``nodes`` (``kgen-node-1`` by default):

* the Node object: registered at start with the labels a kubelet sets
  (``kubernetes.io/hostname``, ``kubernetes.io/os``, ``kubernetes.io/arch``), capacity and
  allocatable, addresses (``InternalIP``, ``Hostname``), ``nodeInfo`` and the conditions
  (``Ready`` True; memory, disk and PID pressure False), their heartbeat renewed every
  :data:`HEARTBEAT` seconds, with the node's Lease in ``kube-node-lease``;
* the pods bound to the node (``spec.nodeName``): their status goes from Pending to Running as
  the kubelet reports it (:mod:`kgen.testing.controllers._pod_status`): ``hostIP``/``podIP``,
  ``startTime``, init containers terminated ``Completed`` first, then each container as its
  runtime reports it (:mod:`kgen.testing._runtime`: by default running from the first sync),
  ready once running, or, with a ``readinessProbe``, while what the test registered answers
  the probe (:mod:`kgen.testing._probes`, re-probed every ``periodSeconds``), and the
  conditions ``PodScheduled``, ``PodReadyToStartContainers``, ``Initialized``,
  ``ContainersReady`` and ``Ready``. Only a change of the kubelet's own view is written (a
  status another client writes stays until then);
* graceful deletion: a pod the tracker has marked with a ``deletionTimestamp`` and its grace
  period (bound pods wait for their kubelet when the controllers run) is removed by its kubelet
  once its containers have stopped, which here is at once, as a kubelet does for containers
  that exit on SIGTERM: the grace period is the most a pod may take;
* run to completion: a Job's pods end Succeeded or Failed, not ready (``PodCompleted``), once
  their runtime reports every container terminated (the default runtime's rule is in
  :class:`kgen.testing._runtime.HandlerRuntime`); other pods run until deleted.

What its containers do when exec'd or attached is the test's (:mod:`kgen.testing._containers`),
or, with the local runtime (:mod:`kgen.testing._localruntime`), what real processes do. A deleted
pod's containers are stopped through the runtime (SIGTERM, SIGKILL after the grace period)
before the pod is removed.

Not reproduced: liveness and startup probes, resources, volumes, images actually pulled, a node
that goes NotReady.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Hashable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from kgen.record import EventRecorder, get_reference
from kgen.testing._containers import ContainerHandlers
from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._probes import Readiness
from kgen.testing._runtime import ContainerRuntime, ContainerState, HandlerRuntime
from kgen.testing._store import JSON, Event
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers._events import ControllerEvents
from kgen.testing.controllers._pod_status import pod_status

__all__ = ["DEFAULT_NODES", "HEARTBEAT", "Kubelet"]

DEFAULT_NODES = ("kgen-node-1",)
HEARTBEAT = 10.0
"""Seconds between node heartbeats (the kubelet's nodeStatusUpdateFrequency is 10 s)."""

_PODS = ("", "pods")
_NODES = ("", "nodes")
_LEASES = ("coordination.k8s.io", "leases")
_LEASE_NAMESPACE = "kube-node-lease"
_MANAGER = "kubelet"
_CAPACITY = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}


class Kubelet:
    """See the module docstring. Thread-safety: the runner calls it from one thread."""

    name = "kubelet"

    def __init__(
        self,
        tracker: ObjectTracker,
        nodes: Sequence[str] = DEFAULT_NODES,
        version: str = "",
        *,
        handlers: ContainerHandlers | None = None,
        runtime: ContainerRuntime | None = None,
    ) -> None:
        self._tracker = tracker
        self._runtime: ContainerRuntime = runtime or HandlerRuntime()
        self._readiness = Readiness(handlers or ContainerHandlers())
        self._nodes = {name: index for index, name in enumerate(nodes)}
        self._version = version or "v1.35.0"
        self._pod_ips: dict[tuple[str, str], str] = {}
        self._written: dict[tuple[str, str], tuple[str, JSON]] = {}
        """The uid and the status last written per pod (see :meth:`_sync_pod`)."""
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
                self._runtime.forget(namespace, name)
                self._written.pop((namespace, name), None)
                return None
            raise
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            grace = meta.get("deletionGracePeriodSeconds")
            self._runtime.kill(pod, float(30 if grace is None else grace))
            self._readiness.forget(meta.get("uid", ""))
            self._written.pop((namespace, name), None)
            self._remove(pods, pod)  # its containers have stopped: gone before its grace is over
            return None
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return None
        ip = self._pod_ip(pod["spec"]["nodeName"], (namespace, name))
        now = self._tracker.now()
        states, again = self._runtime.sync(pod, ip, now)
        ready: dict[str, bool] = {}
        for container in pod["spec"].get("containers") or []:
            state = states.get(container.get("name", ""))
            started = state.state["running"].get("startedAt") if state and state.running else None
            ready[container.get("name", "")], wait = self._readiness.ready(
                pod, container, None if started is None else _parse(started).timestamp()
            )
            again = min(again, wait)
        status = pod_status(pod, ip, self._host_ip(pod["spec"]["nodeName"]), states, ready, now)
        uid = meta.get("uid", "")
        before = pod.get("status") or {}
        if (uid, status) != self._written.get((namespace, name)) and status != before:
            # only what the kubelet's own view changes is written, as its status manager
            # compares with its cache: a status another client writes stays until then
            pod["status"] = status
            meta.pop("resourceVersion", None)
            try:
                self._tracker.update(pods, namespace, pod, self._options(), subresource="status")
            except APIError as err:
                if err.code == 409:
                    return 0.01  # changed meanwhile: look again
                if err.code != 404:
                    raise
                return None
            self._written[(namespace, name)] = (uid, status)
            self._started(pod, before, states)
        if status["phase"] in ("Succeeded", "Failed"):
            return None
        return None if again == float("inf") else max(again, 0.01)

    def _container_event(self, pod: JSON, path: str, reason: str, message: str) -> None:
        recorder = self._events.get((pod.get("spec") or {}).get("nodeName", ""))
        if recorder is not None:
            ref = msgspec.structs.replace(get_reference(pod), field_path=path)
            recorder.event(ref, "Normal", reason, message)

    def _started(self, pod: JSON, before: JSON, states: dict[str, ContainerState]) -> None:
        """The events a kubelet writes for each container that is running now and was not in
        the status ``before`` (images are never pulled: ``Always`` says it pulled in no time);
        init containers get theirs with the pod's first start."""
        spec = pod.get("spec") or {}
        was = {
            s.get("name")
            for s in before.get("containerStatuses") or []
            if "running" in (s.get("state") or {})
        }
        first = not before.get("containerStatuses")
        starting = [("initContainers", c) for c in spec.get("initContainers") or [] if first]
        starting += [
            ("containers", c)
            for c in spec.get("containers") or []
            if c.get("name") not in was and (states.get(c.get("name", "")) or _NOT_RUNNING).running
        ]
        for field, container in starting:
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


_NOT_RUNNING = ContainerState({})


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _micro(stamp: str) -> str:
    """A MicroTime (``2024-01-02T03:04:05.000000Z``) for the same instant."""
    return _parse(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
