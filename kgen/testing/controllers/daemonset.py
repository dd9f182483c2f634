"""The DaemonSet controller of the test server: one pod on every node that should run it.

:class:`DaemonSetController` does what kube-controller-manager's daemonset controller does,
keyed by DaemonSet:

* nodes: a node should run the daemon when the template's ``nodeSelector`` and required node
  affinity match it and the pod tolerates its ``NoSchedule``/``NoExecute`` taints, counting the
  tolerations every daemon pod gets (``not-ready`` and ``unreachable`` NoExecute; disk, memory
  and PID pressure and ``unschedulable`` NoSchedule; ``network-unavailable`` with host network);
* pods: ``generateName: <ds>-``, labelled ``controller-revision-hash`` (the template's hash)
  and ``pod-template-generation``, with a required node affinity on ``metadata.name`` so the
  scheduler puts it on its node (as kube does since 1.12); pods on nodes that should not run
  the daemon, extra ones on a node, and Failed ones are deleted (and made again);
* RollingUpdate: old pods (another hash) are deleted while the number of nodes without an
  available daemon pod stays within ``maxUnavailable`` (an integer or a percentage of the
  desired number, rounded up); ``OnDelete`` leaves it to the user;
* the template's history in ControllerRevisions (``kubectl rollout history daemonset/x``);
* status: ``desiredNumberScheduled``, ``currentNumberScheduled``, ``numberMisscheduled``,
  ``numberReady``, ``updatedNumberScheduled``, ``numberAvailable``, ``numberUnavailable``,
  ``observedGeneration``.

Differences from kube: no ``maxSurge`` (pods are replaced delete-first), no ``minReadySeconds``
wait, no orphan adoption.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._store import JSON, Event
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers._events import ControllerEvents
from kgen.testing.controllers._workload import (
    REVISION_HASH,
    Revisions,
    delete_pod,
    owned_pods,
    pod_from_template,
    write_status,
)
from kgen.testing.controllers.replicaset import MANAGER, controller_of, pod_ready_since
from kgen.testing.controllers.scheduler import fits_node

__all__ = ["DaemonSetController"]

_SETS = ("apps", "daemonsets")
_PODS = ("", "pods")
_NODES = ("", "nodes")
_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
_HOST_NETWORK = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def _node_of(pod: Mapping[str, Any]) -> str:
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    terms = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or {}
    ).get("nodeSelectorTerms") or []
    for term in terms:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return str(field["values"][0])
    return ""


def _with_tolerations(spec: JSON) -> JSON:
    tolerations = list(spec.get("tolerations") or [])
    extra = [*_TOLERATIONS, *([_HOST_NETWORK] if spec.get("hostNetwork") else [])]
    for toleration in extra:
        if not any(t.get("key") == toleration["key"] for t in tolerations):
            tolerations.append(dict(toleration))
    return {**spec, "tolerations": tolerations}


def _affinity(spec: JSON, node: str) -> JSON:
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    affinity = dict(spec.get("affinity") or {})
    node_affinity = dict(affinity.get("nodeAffinity") or {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}
    affinity["nodeAffinity"] = node_affinity
    return {**spec, "affinity": affinity}


class DaemonSetController:
    """See the module docstring. Thread-safety: :meth:`observe` runs on writers' threads and
    only computes keys; :meth:`sync` runs on the runner's one thread."""

    name = "daemonset"

    def __init__(self, tracker: ObjectTracker) -> None:
        self._tracker = tracker
        self._events = ControllerEvents(tracker).recorder("daemonset-controller")
        self._ds: JSON = {}

    def observe(self, event: Event) -> Iterable[Hashable]:
        if event.resource == _SETS and event.type != "DELETED":
            return (("ds", *event.key),)
        if event.resource == _NODES:
            return (("all",),)
        if event.resource != _PODS:
            return ()
        ref = controller_of(event.object)
        if ref is not None and ref.get("kind") == "DaemonSet":
            return (("ds", event.key[0], str(ref.get("name", ""))),)
        return ()

    def initial(self) -> Iterable[Hashable]:
        return (("all",),)

    def sync(self, key: Hashable) -> float | None:
        info = self._tracker.registry.stored_one(*_SETS)
        if info is None or not isinstance(key, tuple):
            return None
        if key[0] == "all":
            for ds in self._tracker.list(info, "")["items"]:
                self._sync(ds)
            return None
        try:
            ds = self._tracker.get(info, key[1], key[2])
        except APIError as err:
            if err.code == 404:
                return None
            raise
        self._sync(ds)
        return None

    def _sync(self, ds: JSON) -> None:
        if ds["metadata"].get("deletionTimestamp"):
            return
        self._ds = ds
        info = self._tracker.registry.stored_one(*_SETS)
        pods_info = self._tracker.registry.stored_one(*_PODS)
        nodes_info = self._tracker.registry.stored_one(*_NODES)
        if info is None or pods_info is None or nodes_info is None:
            return
        spec = ds.get("spec") or {}
        template = spec.get("template") or {}
        revisions = Revisions(self._tracker, ds)
        revision, digest = revisions.ensure(template)
        pod_spec = _with_tolerations(template.get("spec") or {})
        nodes = self._tracker.list(nodes_info, "", copy=False)["items"]
        wanted = [n["metadata"]["name"] for n in nodes if fits_node(pod_spec, n)]
        by_node: dict[str, list[JSON]] = {}
        for pod in owned_pods(self._tracker, ds):
            by_node.setdefault(_node_of(pod), []).append(pod)
        namespace = ds["metadata"]["namespace"]
        for node, pods in by_node.items():
            live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
            failed = [p for p in live if (p.get("status") or {}).get("phase") == "Failed"]
            extra = (
                live if node not in wanted else [*failed, *[p for p in live if p not in failed][1:]]
            )
            for pod in extra:
                self._delete(pod)
        for node in wanted:
            if any(not p["metadata"].get("deletionTimestamp") for p in by_node.get(node, [])):
                continue
            pod = pod_from_template(
                ds,
                {**template, "spec": _affinity(pod_spec, node)},
                generate_name=f"{ds['metadata']['name']}-",
                labels={
                    REVISION_HASH: digest,
                    "pod-template-generation": str(ds["metadata"].get("generation", 1)),
                },
            )
            pod = self._tracker.create(
                pods_info, namespace, pod, WriteOptions(field_manager=MANAGER)
            )
            message = f"Created pod: {pod['metadata']['name']}"
            self._events.event(ds, "Normal", "SuccessfulCreate", message)
        by_node = {}
        for pod in owned_pods(self._tracker, ds):
            if not pod["metadata"].get("deletionTimestamp"):
                by_node.setdefault(_node_of(pod), []).append(pod)
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            self._roll(strategy, wanted, by_node, digest)
        revisions.clean({revision})
        self._status(ds, wanted, by_node, digest)

    def _roll(
        self, strategy: JSON, wanted: list[str], by_node: dict[str, list[JSON]], digest: str
    ) -> None:
        limit = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1)
        if isinstance(limit, str) and limit.endswith("%"):
            limit = math.ceil(int(limit[:-1]) * len(wanted) / 100)
        limit = max(1, int(limit))
        unavailable = sum(
            1 for n in wanted if not any(pod_ready_since(p) for p in by_node.get(n, []))
        )
        old = [
            p
            for n in wanted
            for p in by_node.get(n, [])
            if (p["metadata"].get("labels") or {}).get(REVISION_HASH) != digest
        ]
        old.sort(key=lambda p: pod_ready_since(p) is not None)  # unavailable ones first
        for pod in old:
            if pod_ready_since(pod) is None:
                self._delete(pod)
            elif unavailable < limit:
                self._delete(pod)
                unavailable += 1

    def _delete(self, pod: JSON) -> None:
        if delete_pod(self._tracker, pod):
            message = f"Deleted pod: {pod['metadata']['name']}"
            self._events.event(self._ds, "Normal", "SuccessfulDelete", message)

    def _status(
        self, ds: JSON, wanted: list[str], by_node: dict[str, list[JSON]], digest: str
    ) -> None:
        info = self._tracker.registry.stored_one(*_SETS)
        assert info is not None
        on_wanted = [by_node[n][0] for n in wanted if by_node.get(n)]
        ready = sum(1 for p in on_wanted if pod_ready_since(p) is not None)
        status: JSON = {
            "currentNumberScheduled": len(on_wanted),
            "numberMisscheduled": sum(1 for n in by_node if n not in wanted and n),
            "desiredNumberScheduled": len(wanted),
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": sum(
                1
                for p in on_wanted
                if (p["metadata"].get("labels") or {}).get(REVISION_HASH) == digest
            ),
            "numberAvailable": ready,
        }
        if len(wanted) - ready:
            status["numberUnavailable"] = len(wanted) - ready
        write_status(self._tracker, info, ds, status)
