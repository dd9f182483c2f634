"""The scheduler of the test server: pending pods bound to a node that fits them.

:class:`Scheduler` does what kube-scheduler does in the simple cases, keyed by pod: a pod with no
``spec.nodeName`` (and not being deleted) is bound, through the ``pods/binding`` subresource as
kube-scheduler binds, to the Ready node with the fewest pods among those that fit: its
``nodeSelector`` labels and its required node affinity (``matchExpressions`` on labels,
``matchFields`` on ``metadata.name``, as a DaemonSet's pods carry) match, it tolerates the node's
``NoSchedule``/``NoExecute`` taints, and the node is not cordoned (``spec.unschedulable``) unless
the pod tolerates ``node.kubernetes.io/unschedulable``. A pod no node fits gets the condition
``PodScheduled=False`` with reason ``Unschedulable`` and kube-scheduler's message
(``0/N nodes are available: ...``), and is tried again when nodes change and every few seconds.
Not reproduced: preferred affinity, pod (anti-)affinity, topology spread, resource requests against allocatable, priorities,
preemption, ``PreferNoSchedule``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._store import JSON, Event
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers._events import ControllerEvents

__all__ = ["Scheduler", "fits_node", "tolerates"]

_PODS = ("", "pods")
_NODES = ("", "nodes")
_RETRY = 5.0
_MANAGER = "kube-scheduler"
_UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def _requirement(requirement: Mapping[str, Any], value: str | None) -> bool:
    operator = requirement.get("operator")
    values = requirement.get("values") or []
    if operator == "In":
        return value in values
    if operator == "NotIn":
        return value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    return False  # Gt/Lt are not read: such a term matches no node


def _required_affinity(spec: Mapping[str, Any], node: JSON) -> bool:
    """Whether ``node`` satisfies the pod's required node affinity (any term; every
    ``matchExpressions`` on labels and ``matchFields`` on ``metadata.name`` of a term)."""
    required = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or {}
    ).get("nodeSelectorTerms")
    if not required:
        return True
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}
    return any(
        all(_requirement(r, labels.get(r.get("key", ""))) for r in t.get("matchExpressions") or [])
        and all(_requirement(r, fields.get(r.get("key", ""))) for r in t.get("matchFields") or [])
        for t in required
        if t.get("matchExpressions") or t.get("matchFields")
    )


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    """Whether one of ``tolerations`` tolerates ``taint``, by kube's matching rules (an empty
    key with ``Exists`` tolerates everything; an empty effect matches every effect)."""
    for toleration in tolerations:
        effect = toleration.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key = toleration.get("key") or ""
        operator = toleration.get("operator") or "Equal"
        if operator == "Exists":
            if not key or key == taint.get("key"):
                return True
        elif key == taint.get("key") and (toleration.get("value") or "") == (
            taint.get("value") or ""
        ):
            return True
    return False


class Scheduler:
    """See the module docstring. Thread-safety: the runner calls it from one thread."""

    name = "scheduler"

    def __init__(self, tracker: ObjectTracker) -> None:
        self._tracker = tracker
        self._events = ControllerEvents(tracker).recorder("default-scheduler")

    def observe(self, event: Event) -> Iterable[Hashable]:
        if event.resource == _PODS and event.type != "DELETED" and _pending(event.object):
            return (("pod", *event.key),)
        if event.resource == _NODES and event.type != "DELETED":
            return ("unscheduled",)
        return ()

    def initial(self) -> Iterable[Hashable]:
        return ("unscheduled",)

    def sync(self, key: Hashable) -> float | None:
        pods = self._tracker.registry.stored_one(*_PODS)
        if pods is None:
            return None
        if key == "unscheduled":
            waiting = [p for p in self._tracker.list(pods, "", copy=False)["items"] if _pending(p)]
            for pod in waiting:
                self._schedule(pod["metadata"]["namespace"], pod["metadata"]["name"])
            return _RETRY if waiting else None
        if isinstance(key, tuple) and len(key) == 3:
            return self._schedule(key[1], key[2])
        return None

    def _schedule(self, namespace: str, name: str) -> float | None:
        pods = self._tracker.registry.stored_one(*_PODS)
        nodes = self._tracker.registry.stored_one(*_NODES)
        if pods is None or nodes is None:
            return None
        try:
            pod = self._tracker.get(pods, namespace, name)
        except APIError:
            return None
        if not _pending(pod):
            return None
        all_nodes = self._tracker.list(nodes, "", copy=False)["items"]
        reasons: Counter[str] = Counter()
        fitting = [n for n in all_nodes if _fits(pod, n, reasons)]
        if not fitting:
            self._unschedulable(pods, pod, len(all_nodes), reasons)
            return _RETRY
        load = Counter(
            (p.get("spec") or {}).get("nodeName")
            for p in self._tracker.list(pods, "", copy=False)["items"]
        )
        node = min(fitting, key=lambda n: (load[n["metadata"]["name"]], n["metadata"]["name"]))
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node["metadata"]["name"]},
        }
        try:
            self._tracker.bind(pods, namespace, name, binding, WriteOptions(field_manager=_MANAGER))
        except APIError as err:
            if err.code in (404, 409):
                return None  # deleted, or bound by someone else meanwhile
            raise
        target = node["metadata"]["name"]
        message = f"Successfully assigned {namespace}/{name} to {target}"
        self._events.event(pod, "Normal", "Scheduled", message)
        return None

    def _unschedulable(self, pods: Any, pod: JSON, total: int, reasons: Counter[str]) -> None:
        detail = " ".join(f"{n} node(s) {reason}." for reason, n in sorted(reasons.items()))
        message = f"0/{total} nodes are available: {detail}".rstrip()
        if total == 0:
            message = "no nodes available to schedule pods"
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        previous = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None
        )
        if previous and previous.get("message") == message and previous.get("status") == "False":
            return
        self._events.event(pod, "Warning", "FailedScheduling", message)
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": self._tracker.now(),
                "reason": "Unschedulable",
                "message": message,
            }
        )
        status["conditions"] = conditions
        status.setdefault("phase", "Pending")
        pod["metadata"].pop("resourceVersion", None)
        try:
            self._tracker.update(
                pods,
                pod["metadata"]["namespace"],
                pod,
                WriteOptions(field_manager=_MANAGER),
                subresource="status",
            )
        except APIError as err:
            if err.code not in (404, 409):
                raise


def _pending(pod: JSON) -> bool:
    return not (pod.get("spec") or {}).get("nodeName") and not pod["metadata"].get(
        "deletionTimestamp"
    )


def _fits(pod: JSON, node: JSON, reasons: Counter[str]) -> bool:
    spec = pod.get("spec") or {}
    node_spec = node.get("spec") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )
    if not ready:
        reasons["were not ready"] += 1
        return False
    tolerations = spec.get("tolerations") or []
    if node_spec.get("unschedulable") and not tolerates(tolerations, _UNSCHEDULABLE):
        reasons["were unschedulable"] += 1
        return False
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()) or (
        not _required_affinity(spec, node)
    ):
        reasons["didn't match Pod's node affinity/selector"] += 1
        return False
    for taint in node_spec.get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            reasons[f"had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"] += 1
            return False
    return True


def fits_node(spec: Mapping[str, Any], node: JSON) -> bool:
    """Whether a pod with ``spec`` fits ``node`` by the scheduler's rules (what the DaemonSet
    controller asks of every node)."""
    return _fits({"metadata": {}, "spec": dict(spec)}, node, Counter())
