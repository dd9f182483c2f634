"""The StatefulSet controller of the test server: pods ``<set>-0`` … ``<set>-N-1``, in order.

:class:`StatefulSetController` does what kube-controller-manager's statefulset controller does,
keyed by StatefulSet:

* revisions: the template is kept in a ControllerRevision (:class:`_workload.Revisions`); the
  template's one is ``status.updateRevision``, the one the pods came from
  ``status.currentRevision``, which becomes the update revision once every pod is updated
  and ready (RollingUpdate);
* pods: ``<set>-<ordinal>`` with ``spec.hostname`` the pod's name and ``spec.subdomain`` the
  ``serviceName``, labelled ``controller-revision-hash`` (the revision's name),
  ``statefulset.kubernetes.io/pod-name`` and ``apps.kubernetes.io/pod-index``; ordinals below a
  RollingUpdate ``partition`` are made from the current revision, the others from the update
  revision. ``OrderedReady`` (the default) creates one pod at a time, each once those before it
  run and are ready, and removes the highest ordinal first, one at a time; ``Parallel`` does
  all at once. A Failed or Succeeded pod is deleted and made again;
* RollingUpdate: from the highest ordinal down to the partition, a pod of another revision is
  deleted (and made again from the update revision) once every pod is ready; ``OnDelete``
  leaves it to the user;
* status: ``observedGeneration``, ``replicas``, ``readyReplicas``, ``availableReplicas``,
  ``currentReplicas``, ``updatedReplicas``, ``currentRevision``, ``updateRevision``,
  ``collisionCount``.

Differences from kube: no PersistentVolumeClaims from ``volumeClaimTemplates`` (nothing would
bind them), no ``minReadySeconds`` wait (ready is available), no orphan adoption, no
``maxUnavailable`` (alpha in kube); the revision hash is :func:`pod_template_hash`'s.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from kgen.record import EventRecorder
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
    terminal,
    write_status,
)
from kgen.testing.controllers.replicaset import MANAGER, controller_of, pod_ready_since

__all__ = ["StatefulSetController"]

_SETS = ("apps", "statefulsets")
_PODS = ("", "pods")


def _ordinal(set_name: str, pod: JSON) -> int | None:
    head, _, tail = pod["metadata"]["name"].rpartition("-")
    return int(tail) if head == set_name and tail.isdigit() else None


def _healthy(pod: JSON) -> bool:
    return (
        (pod.get("status") or {}).get("phase") == "Running"
        and pod_ready_since(pod) is not None
        and not pod["metadata"].get("deletionTimestamp")
    )


class StatefulSetController:
    """See the module docstring. Thread-safety: :meth:`observe` runs on writers' threads and
    only computes keys; :meth:`sync` runs on the runner's one thread."""

    name = "statefulset"

    def __init__(self, tracker: ObjectTracker) -> None:
        self._tracker = tracker
        self._events = ControllerEvents(tracker).recorder("statefulset-controller")

    def observe(self, event: Event) -> Iterable[Hashable]:
        if event.resource == _SETS and event.type != "DELETED":
            return (event.key,)
        if event.resource != _PODS:
            return ()
        ref = controller_of(event.object)
        if ref is not None and ref.get("kind") == "StatefulSet":
            return ((event.key[0], str(ref.get("name", ""))),)
        return ()

    def initial(self) -> Iterable[Hashable]:
        info = self._tracker.registry.stored_one(*_SETS)
        if info is None:
            return ()
        items = self._tracker.list(info, "", copy=False)["items"]
        return [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]

    def sync(self, key: Hashable) -> float | None:
        info = self._tracker.registry.stored_one(*_SETS)
        pods = self._tracker.registry.stored_one(*_PODS)
        if info is None or pods is None or not isinstance(key, tuple):
            return None
        try:
            sts = self._tracker.get(info, key[0], key[1])
        except APIError as err:
            if err.code == 404:
                return None
            raise
        if sts["metadata"].get("deletionTimestamp"):
            return None
        _Sync(self._tracker, sts, self._events).run()
        return None


class _Sync:
    """One reconciliation of one StatefulSet."""

    def __init__(self, tracker: ObjectTracker, sts: JSON, events: EventRecorder) -> None:
        self.tracker = tracker
        self.events = events
        self.sts = sts
        self.name = sts["metadata"]["name"]
        self.spec: JSON = sts.get("spec") or {}
        self.replicas = int(self.spec.get("replicas", 1))
        strategy = self.spec.get("updateStrategy") or {}
        self.rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
        self.partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        self.ordered = self.spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        self.revisions = Revisions(tracker, sts)
        self.update, _ = self.revisions.ensure(self.spec.get("template") or {})
        current = (sts.get("status") or {}).get("currentRevision")
        self.current = current if current and self.revisions.named(current) else self.update

    def run(self) -> None:
        pods = {
            o: p
            for p in owned_pods(self.tracker, self.sts)
            if (o := _ordinal(self.name, p)) is not None
        }
        self._manage(pods)
        pods = {
            o: p
            for p in owned_pods(self.tracker, self.sts)
            if (o := _ordinal(self.name, p)) is not None
        }
        self._status(list(pods.values()))
        self.revisions.clean({self.current, self.update})

    def _revision_of(self, ordinal: int) -> str:
        return self.current if self.rolling and ordinal < self.partition else self.update

    def _pod(self, ordinal: int) -> JSON:
        revision = self._revision_of(ordinal)
        template = self.revisions.template(revision) or self.spec.get("template") or {}
        name = f"{self.name}-{ordinal}"
        pod = pod_from_template(
            self.sts,
            template,
            name=name,
            labels={
                REVISION_HASH: revision,
                "statefulset.kubernetes.io/pod-name": name,
                "apps.kubernetes.io/pod-index": str(ordinal),
            },
        )
        pod["spec"]["hostname"] = name
        if self.spec.get("serviceName"):
            pod["spec"]["subdomain"] = self.spec["serviceName"]
        return pod

    def _manage(self, pods: dict[int, JSON]) -> None:
        info = self.tracker.registry.stored_one(*_PODS)
        assert info is not None
        namespace = self.sts["metadata"]["namespace"]
        for ordinal in range(self.replicas):
            pod = pods.get(ordinal)
            if pod is not None and terminal(pod):
                self._delete(pod)  # made again on the next sync
                return
            if pod is None:
                try:
                    self.tracker.create(
                        info, namespace, self._pod(ordinal), WriteOptions(field_manager=MANAGER)
                    )
                except APIError as err:
                    if err.code != 409:
                        raise
                else:
                    self._event("SuccessfulCreate", "create", f"{self.name}-{ordinal}")
                if self.ordered:
                    return
                continue
            if self.ordered and not _healthy(pod):
                return  # the next ordinal waits for this one
        condemned = sorted((o for o in pods if o >= self.replicas), reverse=True)
        for ordinal in condemned:
            if pods[ordinal]["metadata"].get("deletionTimestamp"):
                if self.ordered:
                    return
                continue
            if self.ordered and not all(_healthy(p) for o, p in pods.items() if o < ordinal):
                return
            self._delete(pods[ordinal])
            if self.ordered:
                return
        if not self.rolling:
            return
        if not all(_healthy(pods[o]) for o in range(self.replicas) if o in pods):
            return
        for ordinal in range(self.replicas - 1, self.partition - 1, -1):
            pod = pods.get(ordinal)
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                return
            if (pod["metadata"].get("labels") or {}).get(REVISION_HASH) != self.update:
                self._delete(pod)
                return

    def _event(self, reason: str, verb: str, pod: str) -> None:
        message = f"{verb} Pod {pod} in StatefulSet {self.name} successful"
        self.events.event(self.sts, "Normal", reason, message)

    def _delete(self, pod: JSON) -> None:
        if delete_pod(self.tracker, pod):
            self._event("SuccessfulDelete", "delete", pod["metadata"]["name"])

    def _status(self, pods: list[JSON]) -> None:
        info = self.tracker.registry.stored_one(*_SETS)
        assert info is not None

        def revision(pod: JSON) -> Any:
            return (pod["metadata"].get("labels") or {}).get(REVISION_HASH)

        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in live if _healthy(p))
        updated = sum(1 for p in live if revision(p) == self.update)
        current = self.current
        if self.rolling and updated == self.replicas and ready == self.replicas:
            current = self.update
        old = self.sts.get("status") or {}
        status: JSON = {
            "observedGeneration": self.sts["metadata"].get("generation", 1),
            "replicas": len(live),
            "readyReplicas": ready,
            "currentReplicas": sum(1 for p in live if revision(p) == current),
            "updatedReplicas": updated,
            "currentRevision": current,
            "updateRevision": self.update,
            "collisionCount": int(old.get("collisionCount") or 0),
            "availableReplicas": ready,
        }
        write_status(self.tracker, info, self.sts, status)
