"""The ReplicaSet controller of the test server: ``spec.replicas`` pods, made from the template.

:class:`ReplicaSetController` does what kube-controller-manager's replicaset controller does,
keyed by ReplicaSet:

* claiming: a pod whose controller reference names the ReplicaSet's uid is its own while its
  labels match the selector and is released (the reference removed) once they no longer do; a
  pod with no controller reference that matches is adopted (a controller reference with
  ``blockOwnerDeletion`` added); a ReplicaSet being deleted neither adopts nor manages;
* replicas: missing pods are created from the template (``generateName: <rs>-``, so the name
  gets kube's five random characters, the template's labels and annotations, a controller
  reference with ``blockOwnerDeletion``); extra pods are deleted in kube's order (unscheduled
  before scheduled, pending before running, not ready before ready, ready for less time first,
  then the newest first); pods being deleted or finished (Succeeded, Failed) do not count;
* status: ``replicas``, ``fullyLabeledReplicas`` (labels match the template's),
  ``readyReplicas``, ``availableReplicas`` (ready for ``minReadySeconds``, the key synced again
  when the next one becomes available), ``observedGeneration``.

Differences from kube: all missing pods are created at once (no slow-start batches, no
expectations: the tracker's writes are visible to the next sync at once), and there is no
``ReplicaFailure`` condition (a create that fails raises, and the key is retried).

The helpers :func:`controller_of`, :func:`owner_reference`, :func:`pod_ready_since` and
:func:`parse_time` are shared with the Deployment controller.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime
from typing import Any

from kgen.labels import from_label_selector
from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._registry import ResourceInfo
from kgen.testing._store import JSON, Event, copy_json
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers._events import ControllerEvents

__all__ = [
    "ReplicaSetController",
    "controller_of",
    "owner_reference",
    "parse_time",
    "pod_ready_since",
]

_PODS = ("", "pods")
_REPLICASETS = ("apps", "replicasets")
MANAGER = "kube-controller-manager"


def parse_time(stamp: str) -> datetime:
    """A kube timestamp (``2024-01-02T03:04:05Z``) as an aware datetime."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def controller_of(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The owner reference of ``obj`` marked ``controller: true``, if any."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return None


def owner_reference(owner: Mapping[str, Any]) -> dict[str, Any]:
    """A controller reference to ``owner`` (``controller`` and ``blockOwnerDeletion`` true)."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_ready_since(pod: Mapping[str, Any]) -> str | None:
    """When the pod's ``Ready`` condition became True, or ``None`` if it is not ready."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return str(condition.get("lastTransitionTime") or "") or "1970-01-01T00:00:00Z"
    return None


def _active(pod: JSON) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get(
        "phase"
    ) not in ("Succeeded", "Failed")


class ReplicaSetController:
    """See the module docstring. Thread-safety: :meth:`observe` runs on writers' threads and
    only computes keys; :meth:`sync` runs on the runner's one thread."""

    name = "replicaset"

    def __init__(self, tracker: ObjectTracker) -> None:
        self._tracker = tracker
        self._events = ControllerEvents(tracker).recorder("replicaset-controller")

    # --- runner protocol ----------------------------------------------------------------------

    def observe(self, event: Event) -> Iterable[Hashable]:
        if event.resource == _REPLICASETS and event.type != "DELETED":
            return (("rs", *event.key),)
        if event.resource != _PODS:
            return ()
        keys: list[Hashable] = []
        for obj in (event.object, event.previous):
            ref = controller_of(obj) if obj is not None else None
            if ref is not None and ref.get("kind") == "ReplicaSet":
                keys.append(("rs", event.key[0], str(ref.get("name", ""))))
        if controller_of(event.object) is None and event.type != "DELETED":
            keys.append(("namespace", event.key[0]))  # an orphan some ReplicaSet may adopt
        return keys

    def initial(self) -> Iterable[Hashable]:
        info = self._tracker.registry.stored_one(*_REPLICASETS)
        if info is None:
            return ()
        items = self._tracker.list(info, "", copy=False)["items"]
        return [("rs", i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]

    def sync(self, key: Hashable) -> float | None:
        if not isinstance(key, tuple):
            return None
        info = self._tracker.registry.stored_one(*_REPLICASETS)
        pods = self._tracker.registry.stored_one(*_PODS)
        if info is None or pods is None:
            return None
        if key[0] == "namespace":
            for rs in self._tracker.list(info, key[1])["items"]:
                self._sync(info, pods, rs)
            return None
        try:
            rs = self._tracker.get(info, key[1], key[2])
        except APIError as err:
            if err.code == 404:
                return None
            raise
        return self._sync(info, pods, rs)

    # --- one ReplicaSet -----------------------------------------------------------------------

    def _sync(self, info: ResourceInfo, pods: ResourceInfo, rs: JSON) -> float | None:
        meta = rs["metadata"]
        spec = rs.get("spec") or {}
        selector = from_label_selector(spec.get("selector"))
        deleting = bool(meta.get("deletionTimestamp"))
        owned: list[JSON] = []
        for pod in self._tracker.list(pods, meta["namespace"])["items"]:
            labels = pod["metadata"].get("labels") or {}
            ref = controller_of(pod)
            if ref is not None and ref.get("uid") == meta["uid"]:
                if selector.matches(labels) or deleting:
                    owned.append(pod)
                else:
                    self._set_controller(pods, pod, None)
            elif (
                ref is None
                and not deleting
                and selector.matches(labels)
                and _active(pod)
                and self._set_controller(pods, pod, owner_reference(rs))
            ):
                owned.append(pod)
        active = [p for p in owned if _active(p)]
        if not deleting:
            active = self._manage(pods, rs, active)
        return self._update_status(info, rs, active)

    def _set_controller(self, pods: ResourceInfo, pod: JSON, ref: dict[str, Any] | None) -> bool:
        """Adopt ``pod`` (``ref``) or release it (``None``); ``False`` when it changed first."""
        meta = pod["metadata"]
        refs = [r for r in meta.get("ownerReferences") or [] if not r.get("controller")]
        if ref is not None:
            refs.append(ref)
        if refs:
            meta["ownerReferences"] = refs
        else:
            meta.pop("ownerReferences", None)
        try:
            self._tracker.update(pods, meta["namespace"], pod, WriteOptions(field_manager=MANAGER))
        except APIError as err:
            if err.code in (404, 409):
                return False
            raise
        return True

    def _manage(self, pods: ResourceInfo, rs: JSON, active: list[JSON]) -> list[JSON]:
        """Create or delete pods until ``spec.replicas`` are active; returns the active ones."""
        want = int((rs.get("spec") or {}).get("replicas", 1))
        namespace = rs["metadata"]["namespace"]
        if len(active) < want:
            for _ in range(want - len(active)):
                pod = self._tracker.create(pods, namespace, self._pod(rs), self._options())
                active.append(pod)
                name = pod["metadata"]["name"]
                self._events.event(rs, "Normal", "SuccessfulCreate", f"Created pod: {name}")
        elif len(active) > want:
            ranked = sorted(active, key=_deletion_rank)
            for pod in ranked[: len(active) - want]:
                uid = pod["metadata"]["uid"]
                options = self._options(preconditions={"uid": uid})
                name = pod["metadata"]["name"]
                try:
                    self._tracker.delete(pods, namespace, name, options)
                except APIError as err:
                    if err.code not in (404, 409):
                        raise
                    continue
                self._events.event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")
            active = ranked[len(active) - want :]
        return active

    def _pod(self, rs: JSON) -> JSON:
        template = copy_json((rs.get("spec") or {}).get("template") or {})
        metadata = template.get("metadata") or {}
        metadata.pop("name", None)
        metadata["generateName"] = f"{rs['metadata']['name']}-"
        metadata["ownerReferences"] = [owner_reference(rs)]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": metadata,
            "spec": template.get("spec") or {},
        }

    def _update_status(self, info: ResourceInfo, rs: JSON, active: list[JSON]) -> float | None:
        spec = rs.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        now = parse_time(self._tracker.now())
        ready = available = labelled = 0
        again: float | None = None
        for pod in active:
            labels = pod["metadata"].get("labels") or {}
            labelled += all(labels.get(k) == v for k, v in template_labels.items())
            since = pod_ready_since(pod)
            if since is None:
                continue
            ready += 1
            wait = min_ready - (now - parse_time(since)).total_seconds()
            if wait <= 0:
                available += 1
            else:
                again = wait if again is None else min(again, wait)
        status: JSON = {
            "replicas": len(active),
            "fullyLabeledReplicas": labelled,
            "readyReplicas": ready,
            "availableReplicas": available,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        old = rs.get("status") or {}
        if any(old.get(k, 0) != v for k, v in status.items()):
            rs["status"] = {**old, **status}
            try:
                self._tracker.update(
                    info, rs["metadata"]["namespace"], rs, self._options(), subresource="status"
                )
            except APIError as err:
                if err.code == 404:
                    return None
                raise
        return again

    @staticmethod
    def _options(**body: object) -> WriteOptions:
        return WriteOptions(field_manager=MANAGER, body_options=dict(body))


def _deletion_rank(pod: JSON) -> tuple[Any, ...]:
    """Sort key putting the pods to delete first, in kube's order."""
    status = pod.get("status") or {}
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(status.get("phase", ""), 0)
    since = pod_ready_since(pod)
    restarts = sum(int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or [])
    created = pod["metadata"].get("creationTimestamp") or ""
    return (
        bool((pod.get("spec") or {}).get("nodeName")),
        phase_rank,
        since is not None,
        _negated(since or ""),  # ready for less time (a later stamp) goes first
        -restarts,
        _negated(created),  # newer first
        _negated(pod["metadata"]["name"]),
    )


def _negated(text: str) -> tuple[int, ...]:
    """A key sorting ``text`` in descending order."""
    return (*(-ord(c) for c in text), 1)
