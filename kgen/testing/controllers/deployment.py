"""The Deployment controller of the test server: one ReplicaSet per pod template, rolled out.

:class:`DeploymentController` does what kube-controller-manager's deployment controller does,
keyed by Deployment:

* ReplicaSets: those whose controller reference names the Deployment and whose labels match
  its selector are its own (orphans that match are adopted, those that stop matching are
  released). The *new* one is the oldest whose template equals the Deployment's, the
  ``pod-template-hash`` label aside; when there is none (and the Deployment is not paused) it is
  created as ``<deployment>-<hash>`` with that label on itself, its selector and its template,
  the Deployment's annotations, and ``deployment.kubernetes.io/revision`` (one more than the
  old ones), ``desired-replicas`` and ``max-replicas``; a name taken by another template bumps
  ``status.collisionCount`` and hashes again. A ReplicaSet becoming the new one again (a
  rollback) gets the next revision, and the Deployment carries the new one's revision.
* strategies: ``RollingUpdate`` scales the new ReplicaSet up while the pods stay within
  ``replicas + maxSurge`` and the old ones down while at least ``replicas - maxUnavailable``
  stay available (percentages of ``replicas``, surge rounded up, unavailable down, both zero
  meaning an unavailable of one), unhealthy old pods first; ``Recreate`` scales the old ones to
  zero, waits until their pods are gone, then scales the new one up. A change of ``replicas``
  alone (or a paused Deployment) is a scaling: spread over the active ReplicaSets in
  proportion to their sizes, the remainder to the largest (newest on a tie).
* cleanup: once complete (or while paused), old ReplicaSets at zero beyond
  ``revisionHistoryLimit`` are deleted, oldest revision first.
* status: ``replicas``, ``updatedReplicas``, ``readyReplicas``, ``availableReplicas``,
  ``unavailableReplicas``, ``observedGeneration``, ``collisionCount`` and the conditions
  ``Available`` (``MinimumReplicasAvailable``/``MinimumReplicasUnavailable``) and
  ``Progressing`` (``NewReplicaSetCreated``, ``FoundNewReplicaSet``, ``ReplicaSetUpdated``,
  ``NewReplicaSetAvailable``, ``DeploymentPaused``, ``DeploymentResumed``,
  ``ProgressDeadlineExceeded``) with kube's
  messages. A Deployment being deleted only has its status synced.

Differences from kube: the pod-template hash is FNV-32a over the template's canonical JSON
(sorted keys) and the collision count, encoded as kube encodes it; kube hashes a Go
pretty-print of the struct, so the names differ from a real cluster's for the same template
(they are stable and distinct per template, which is what clients rely on).
(kube's value comes from ``dump.ForHash``, spew's ``%#v`` of the Go struct: Go type and field
names, every zero-valued field, pointers followed; the OpenAPI documents do not carry the Go
field order or types, so that text cannot be rebuilt from JSON.) ``progressDeadlineSeconds`` is
enforced as kube does (``ProgressDeadlineExceeded`` once the Progressing condition has not been
updated for that long; the Deployment is synced again when the deadline passes). The old
in-API rollback (``spec.rollbackTo``, gone from apps/v1) is not there: kubectl's rollout undo
patches the template client-side, which works as kube's does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from kgen.labels import from_label_selector
from kgen.record import EventRecorder
from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._registry import ResourceInfo
from kgen.testing._store import JSON, Event, copy_json
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers._events import ControllerEvents
from kgen.testing.controllers.replicaset import (
    MANAGER,
    controller_of,
    owner_reference,
    parse_time,
)

__all__ = ["DeploymentController", "pod_template_hash", "resolve_fenceposts"]

_DEPLOYMENTS = ("apps", "deployments")
_REPLICASETS = ("apps", "replicasets")
_PODS = ("", "pods")
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"
_NOT_COPIED = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    DESIRED,
    MAX,
    "deprecated.deployment.rollback.to",
}
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_NO_DEADLINE = 2**31 - 1  # kube's "no progress deadline" (math.MaxInt32)


def pod_template_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """The ``pod-template-hash`` of ``template`` (see the module docstring for how it differs
    from kube's): FNV-32a, then kube's safe encoding of its decimal digits."""
    value = 0x811C9DC5
    data = json.dumps(_without_hash(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += collision_count.to_bytes(8, "little")  # kube writes an 8-byte buffer
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE[b % len(_SAFE)] for b in str(value).encode())


def _scaled(value: Any, total: int, round_up: bool, what: str) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%") or not text[:-1].isdigit():
        raise ValueError(f"{what}: {text!r} is neither an integer nor a percentage")
    exact = int(text[:-1]) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def resolve_fenceposts(surge: Any, unavailable: Any, replicas: int) -> tuple[int, int]:
    """``(maxSurge, maxUnavailable)`` as pod counts for ``replicas`` (kube's rounding)."""
    up = _scaled("25%" if surge is None else surge, replicas, True, "maxSurge")
    down = _scaled("25%" if unavailable is None else unavailable, replicas, False, "maxUnavail")
    return up, (1 if up == 0 and down == 0 else down)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _without_hash(template: Mapping[str, Any]) -> JSON:
    """``template`` without its ``pod-template-hash`` label and without nulls: kube compares
    decoded Go structs, where ``creationTimestamp: null`` (which kubectl's rollout undo sends)
    is the same as no field at all."""
    clean: JSON = _without_nulls(copy_json(dict(template)))
    labels = (clean.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return clean


def _revision(rs: JSON) -> int:
    text = (rs["metadata"].get("annotations") or {}).get(REVISION, "")
    return int(text) if str(text).isdigit() else 0


def _replicas(rs: JSON) -> int:
    return int((rs.get("spec") or {}).get("replicas", 0))


def _status(rs: JSON | None, field: str) -> int:
    return int(((rs or {}).get("status") or {}).get(field, 0))


def _by_age(sets: Iterable[JSON]) -> list[JSON]:
    return sorted(
        sets, key=lambda r: (r["metadata"].get("creationTimestamp", ""), r["metadata"]["name"])
    )


class DeploymentController:
    """See the module docstring. Thread-safety: :meth:`observe` runs on writers' threads and
    only computes keys; :meth:`sync` runs on the runner's one thread."""

    name = "deployment"

    def __init__(self, tracker: ObjectTracker) -> None:
        self._tracker = tracker
        self._events = ControllerEvents(tracker).recorder("deployment-controller")

    # --- runner protocol ----------------------------------------------------------------------

    def observe(self, event: Event) -> Iterable[Hashable]:
        if event.resource == _DEPLOYMENTS and event.type != "DELETED":
            return (("deployment", *event.key),)
        if event.resource == _PODS and event.type == "DELETED":
            ref = controller_of(event.object)  # Recreate waits for the old pods to go
            if ref is not None and ref.get("kind") == "ReplicaSet":
                return (("namespace", event.key[0]),)
            return ()
        if event.resource != _REPLICASETS:
            return ()
        keys: list[Hashable] = []
        for obj in (event.object, event.previous):
            ref = controller_of(obj) if obj is not None else None
            if ref is not None and ref.get("kind") == "Deployment":
                keys.append(("deployment", event.key[0], str(ref.get("name", ""))))
        if controller_of(event.object) is None and event.type != "DELETED":
            keys.append(("namespace", event.key[0]))
        return keys

    def initial(self) -> Iterable[Hashable]:
        info = self._tracker.registry.stored_one(*_DEPLOYMENTS)
        if info is None:
            return ()
        items = self._tracker.list(info, "", copy=False)["items"]
        return [("deployment", i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]

    def sync(self, key: Hashable) -> float | None:
        if not isinstance(key, tuple):
            return None
        deployments = self._tracker.registry.stored_one(*_DEPLOYMENTS)
        sets = self._tracker.registry.stored_one(*_REPLICASETS)
        if deployments is None or sets is None:
            return None
        if key[0] == "namespace":
            for d in self._tracker.list(deployments, key[1])["items"]:
                _Sync(self._tracker, deployments, sets, d, self._events).run()
            return None  # a timed-out one is synced by its own key
        try:
            d = self._tracker.get(deployments, key[1], key[2])
        except APIError as err:
            if err.code == 404:
                return None
            raise
        one = _Sync(self._tracker, deployments, sets, d, self._events)
        one.run()
        return one.resync


class _Sync:
    """One reconciliation of one Deployment (kube's syncDeployment)."""

    def __init__(
        self,
        tracker: ObjectTracker,
        deployments: ResourceInfo,
        sets: ResourceInfo,
        d: JSON,
        events: EventRecorder,
    ) -> None:
        self.tracker = tracker
        self.events = events
        self.deployments = deployments
        self.sets = sets
        self.d = d
        self.namespace = d["metadata"]["namespace"]
        self.spec: JSON = d.get("spec") or {}
        self.replicas = int(self.spec.get("replicas", 1))
        strategy = self.spec.get("strategy") or {}
        self.recreate = strategy.get("type") == "Recreate"
        rolling = strategy.get("rollingUpdate") or {}
        self.surge, self.unavailable = (
            (0, 0)
            if self.recreate
            else resolve_fenceposts(
                rolling.get("maxSurge"), rolling.get("maxUnavailable"), self.replicas
            )
        )
        self.condition_note: tuple[str, str] | None = None
        self.resync: float | None = None
        """Seconds after which the Deployment is to be synced again (its progress deadline)."""

    # --- the steps ----------------------------------------------------------------------------

    def run(self) -> None:
        meta = self.d["metadata"]
        selector = self.spec.get("selector")
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            return  # kube ignores a Deployment selecting everything
        owned = self._claim()
        if meta.get("deletionTimestamp"):
            self._write_status(self._new_of(owned), owned)
            return
        self._paused_condition()
        if self.spec.get("paused") or self._scaling(owned):
            new, old = self._sets(owned, create=False)
            self._scale(new, old)
            if self.spec.get("paused"):
                self._cleanup(old)
            self._write_status(new, owned)
            return
        if self.recreate:
            self._recreate(owned)
        else:
            self._rolling(owned)

    def _claim(self) -> list[JSON]:
        uid = self.d["metadata"]["uid"]
        selector = from_label_selector(self.spec.get("selector"))
        deleting = bool(self.d["metadata"].get("deletionTimestamp"))
        owned = []
        for rs in self.tracker.list(self.sets, self.namespace)["items"]:
            ref = controller_of(rs)
            labels = rs["metadata"].get("labels") or {}
            if ref is not None and ref.get("uid") == uid:
                if selector.matches(labels) or deleting:
                    owned.append(rs)
                else:
                    self._set_controller(rs, None)
            elif (
                ref is None
                and not deleting
                and selector.matches(labels)
                and not rs["metadata"].get("deletionTimestamp")
            ):
                owned.append(self._set_controller(rs, owner_reference(self.d)))
        return owned

    def _set_controller(self, rs: JSON, ref: dict[str, Any] | None) -> JSON:
        meta = rs["metadata"]
        refs = [r for r in meta.get("ownerReferences") or [] if not r.get("controller")]
        if ref is not None:
            refs.append(ref)
        meta["ownerReferences"] = refs
        if not refs:
            del meta["ownerReferences"]
        return self._update(self.sets, rs)

    def _new_of(self, owned: list[JSON]) -> JSON | None:
        template = _without_hash(self.spec.get("template") or {})
        for rs in _by_age(owned):
            if _without_hash((rs.get("spec") or {}).get("template") or {}) == template:
                return rs
        return None

    def _sets(self, owned: list[JSON], create: bool) -> tuple[JSON | None, list[JSON]]:
        """The new ReplicaSet (created if ``create`` and missing) and the old ones, with the
        revisions synced."""
        new = self._new_of(owned)
        old = [rs for rs in owned if rs is not new]
        revision = str(max((_revision(rs) for rs in old), default=0) + 1)
        if new is not None:
            annotations = new["metadata"].setdefault("annotations", {})
            if _revision(new) < int(revision) or self._annotate(annotations):
                if _revision(new) < int(revision):
                    annotations[REVISION] = revision
                self._annotate(annotations)
                new = self._update(self.sets, new)
            if not any(c.get("type") == "Progressing" for c in self._conditions()):
                self.condition_note = ("FoundNewReplicaSet", new["metadata"]["name"])
        elif create:
            new = self._create_new(revision, self._first_replicas(old))
            self.condition_note = ("NewReplicaSetCreated", new["metadata"]["name"])
        if new is not None:
            annotations = self.d["metadata"].setdefault("annotations", {})
            current = (new["metadata"].get("annotations") or {}).get(REVISION, revision)
            if annotations.get(REVISION) != current:
                annotations[REVISION] = current
                self.d = self._update(self.deployments, self.d)
        return new, old

    def _annotate(self, annotations: dict[str, str]) -> bool:
        """Set desired/max replicas on ``annotations``; whether they changed."""
        wanted = {DESIRED: str(self.replicas), MAX: str(self.replicas + self.surge)}
        changed = any(annotations.get(k) != v for k, v in wanted.items())
        annotations.update(wanted)
        return changed

    def _first_replicas(self, old: list[JSON]) -> int:
        if self.recreate:
            return self.replicas
        current = sum(_replicas(rs) for rs in old)
        room = self.replicas + self.surge - current
        return max(0, min(room, self.replicas))

    def _create_new(self, revision: str, size: int) -> JSON:
        collisions = (self.d.get("status") or {}).get("collisionCount")
        while True:
            template = _without_hash(self.spec.get("template") or {})
            digest = pod_template_hash(template, collisions)
            labels: dict[str, str] = template.setdefault("metadata", {}).setdefault("labels", {})
            labels[HASH_LABEL] = digest
            selector = copy_json(self.spec.get("selector") or {})
            selector.setdefault("matchLabels", {})[HASH_LABEL] = digest
            annotations = {
                k: v
                for k, v in (self.d["metadata"].get("annotations") or {}).items()
                if k not in _NOT_COPIED
            }
            annotations[REVISION] = revision
            self._annotate(annotations)
            name = f"{self.d['metadata']['name']}-{digest}"
            rs: JSON = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": name,
                    "namespace": self.namespace,
                    "labels": dict(labels),
                    "annotations": annotations,
                    "ownerReferences": [owner_reference(self.d)],
                },
                "spec": {
                    "replicas": size,
                    "minReadySeconds": int(self.spec.get("minReadySeconds") or 0),
                    "selector": selector,
                    "template": template,
                },
            }
            try:
                created = self.tracker.create(self.sets, self.namespace, rs, _options())
                if size > 0:
                    self._scaled(name, 0, size)
                return created
            except APIError as err:
                if err.code != 409:
                    raise
            taken = self.tracker.get(self.sets, self.namespace, name)
            ref = controller_of(taken)
            if (
                ref is not None
                and ref.get("uid") == self.d["metadata"]["uid"]
                and _without_hash(taken["spec"]["template"]) == _without_hash(template)
            ):
                return taken
            collisions = (collisions or 0) + 1
            self.d.setdefault("status", {})["collisionCount"] = collisions
            self.d = self._update(self.deployments, self.d, subresource="status")

    def _scale_set(self, rs: JSON, size: int) -> JSON:
        annotations = rs["metadata"].setdefault("annotations", {})
        changed = self._annotate(annotations)
        if _replicas(rs) == size and not changed:
            return rs
        before = _replicas(rs)
        rs.setdefault("spec", {})["replicas"] = size
        stored = self._update(self.sets, rs)
        if before != size:
            self._scaled(rs["metadata"]["name"], before, size)
        return stored

    def _scaled(self, name: str, before: int, after: int) -> None:
        way = "up" if after > before else "down"
        message = f"Scaled {way} replica set {name} from {before} to {after}"
        self.events.event(self.d, "Normal", "ScalingReplicaSet", message)

    def _rolling(self, owned: list[JSON]) -> None:
        new, old = self._sets(owned, create=True)
        assert new is not None
        everything = [new, *old]
        if _replicas(new) != self.replicas:
            if _replicas(new) > self.replicas:
                size = self.replicas
            else:
                total = sum(_replicas(rs) for rs in everything)
                room = self.replicas + self.surge - total
                size = _replicas(new) + max(0, min(room, self.replicas - _replicas(new)))
            if size != _replicas(new):
                new = self._scale_set(new, size)
                self._write_status(new, [new, *old])
                return
        if self._scale_down_old(new, old):
            self._write_status(new, [new, *old])
            return
        if self._complete(new, [new, *old]):
            self._cleanup(old)
        self._write_status(new, [new, *old])

    def _scale_down_old(self, new: JSON, old: list[JSON]) -> bool:
        if sum(_replicas(rs) for rs in old) == 0:
            return False
        total = _replicas(new) + sum(_replicas(rs) for rs in old)
        least = self.replicas - self.unavailable
        new_unavailable = _replicas(new) - _status(new, "availableReplicas")
        room = total - least - new_unavailable
        if room <= 0:
            return False
        scaled = False
        for rs in _by_age(old):  # unhealthy pods first
            unhealthy = _replicas(rs) - _status(rs, "availableReplicas")
            if room <= 0 or unhealthy <= 0:
                continue
            cut = min(room, unhealthy)
            old[old.index(rs)] = self._scale_set(rs, _replicas(rs) - cut)
            room -= cut
            scaled = True
        available = _status(new, "availableReplicas") + sum(
            min(_status(rs, "availableReplicas"), _replicas(rs)) for rs in old
        )
        room = available - least
        for rs in _by_age(old):
            if room <= 0:
                break
            if _replicas(rs) == 0:
                continue
            cut = min(room, _replicas(rs))
            old[old.index(rs)] = self._scale_set(rs, _replicas(rs) - cut)
            room -= cut
            scaled = True
        return scaled

    def _recreate(self, owned: list[JSON]) -> None:
        new, old = self._sets(owned, create=False)
        shrunk = False
        for i, rs in enumerate(old):
            if _replicas(rs) > 0:
                old[i] = self._scale_set(rs, 0)
                shrunk = True
        if shrunk or self._old_pods_remain(old):
            self._write_status(new, owned if new is None else [new, *old])
            return
        if new is None:
            new, old = self._sets(owned, create=True)
        assert new is not None
        new = self._scale_set(new, self.replicas)
        if self._complete(new, [new, *old]):
            self._cleanup(old)
        self._write_status(new, [new, *old])

    def _old_pods_remain(self, old: list[JSON]) -> bool:
        pods = self.tracker.registry.stored_one(*_PODS)
        if pods is None:
            return False
        uids = {rs["metadata"]["uid"] for rs in old}
        for pod in self.tracker.list(pods, self.namespace, copy=False)["items"]:
            ref = controller_of(pod)
            if (
                ref is not None
                and ref.get("uid") in uids
                and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            ):
                return True
        return False

    def _scaling(self, owned: list[JSON]) -> bool:
        for rs in owned:
            if _replicas(rs) > 0 or rs is self._new_of(owned):
                wanted = (rs["metadata"].get("annotations") or {}).get(DESIRED)
                if wanted is not None and wanted != str(self.replicas):
                    return True
        return False

    def _scale(self, new: JSON | None, old: list[JSON]) -> None:
        """Spread ``replicas`` over the active ReplicaSets (kube's proportional scaling)."""
        active = [rs for rs in [new, *old] if rs is not None and _replicas(rs) > 0]
        if not active and new is not None:
            active = [new]
        if len(active) == 1:
            self._scale_set(active[0], self.replicas)
            return
        if new is not None and _replicas(new) == self.replicas:
            for rs in old:
                self._scale_set(rs, 0)
            return
        if not active:
            return
        total = sum(_replicas(rs) for rs in active)
        allowed = self.replicas + self.surge
        change = allowed - total
        if change == 0:
            return
        order = sorted(
            active,
            key=lambda r: (_replicas(r), r["metadata"].get("creationTimestamp", "")),
            reverse=True,
        )
        shares = [_replicas(rs) * abs(change) // total for rs in order]
        shares[0] += abs(change) - sum(shares)
        shares = [share if change > 0 else -share for share in shares]
        for rs, share in zip(order, shares, strict=True):
            self._scale_set(rs, max(0, _replicas(rs) + share))

    def _cleanup(self, old: list[JSON]) -> None:
        limit = self.spec.get("revisionHistoryLimit")
        if limit is None:
            return
        idle = [
            rs
            for rs in old
            if _replicas(rs) == 0
            and _status(rs, "replicas") == 0
            and not rs["metadata"].get("deletionTimestamp")
        ]
        idle.sort(key=_revision)
        for rs in idle[: max(0, len(idle) - int(limit))]:
            uid = rs["metadata"]["uid"]
            options = WriteOptions(
                field_manager=MANAGER, body_options={"preconditions": {"uid": uid}}
            )
            try:
                self.tracker.delete(self.sets, self.namespace, rs["metadata"]["name"], options)
            except APIError as err:
                if err.code not in (404, 409):
                    raise

    # --- status -------------------------------------------------------------------------------

    def _conditions(self) -> list[JSON]:
        return list((self.d.get("status") or {}).get("conditions") or [])

    def _counts(self, new: JSON | None, sets: list[JSON]) -> JSON:
        available = sum(_status(rs, "availableReplicas") for rs in sets)
        total = sum(_replicas(rs) for rs in sets)
        return {
            "observedGeneration": self.d["metadata"].get("generation", 1),
            "replicas": sum(_status(rs, "replicas") for rs in sets),
            "updatedReplicas": _status(new, "replicas"),
            "readyReplicas": sum(_status(rs, "readyReplicas") for rs in sets),
            "availableReplicas": available,
            "unavailableReplicas": max(0, total - available),
        }

    def _complete(self, new: JSON | None, sets: list[JSON]) -> bool:
        counts = self._counts(new, sets)
        return bool(
            counts["updatedReplicas"] == self.replicas
            and counts["replicas"] == self.replicas
            and counts["availableReplicas"] == self.replicas
            and counts["observedGeneration"] >= self.d["metadata"].get("generation", 1)
        )

    def _paused_condition(self) -> None:
        progressing = next((c for c in self._conditions() if c["type"] == "Progressing"), None)
        paused = bool(self.spec.get("paused"))
        if paused and (progressing is None or progressing.get("reason") != "DeploymentPaused"):
            self.condition_note = ("DeploymentPaused", "")
        elif not paused and progressing and progressing.get("reason") == "DeploymentPaused":
            self.condition_note = ("DeploymentResumed", "")

    def _write_status(self, new: JSON | None, sets: list[JSON]) -> None:
        old_status = self.d.get("status") or {}
        status: JSON = {**self._counts(new, sets)}
        if "collisionCount" in old_status:
            status["collisionCount"] = old_status["collisionCount"]
        conditions = {c["type"]: c for c in self._conditions()}
        now = self.tracker.now()

        def put(kind: str, value: str, reason: str, message: str, touch: bool = False) -> None:
            before = conditions.get(kind)
            same = before and (before["status"], before.get("reason")) == (value, reason)
            if same and not touch:
                return
            moved = before is None or before["status"] != value
            kept = now if before is None or moved else before.get("lastTransitionTime", now)
            conditions[kind] = {
                "type": kind,
                "status": value,
                "lastUpdateTime": now,
                "lastTransitionTime": kept,
                "reason": reason,
                "message": message,
            }

        if status["availableReplicas"] >= self.replicas - self.unavailable:
            put(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        else:
            put(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        note = self.condition_note
        if note is not None and note[0] == "DeploymentPaused":
            put("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        elif note is not None and note[0] == "DeploymentResumed":
            put("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed")
        elif self.spec.get("paused"):
            pass
        elif note is not None:
            message = f'{"Created new" if note[0] == "NewReplicaSetCreated" else "Found new"} replica set "{note[1]}"'
            put("Progressing", "True", note[0], message)
        deadline = self.spec.get("progressDeadlineSeconds")
        if (
            new is not None
            and not self.spec.get("paused")
            and not self.d["metadata"].get("deletionTimestamp")
        ):
            name = new["metadata"]["name"]
            if self._complete(new, sets):
                put(
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{name}" has successfully progressed.',
                )
            elif _progressed(old_status, status):
                put(
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{name}" is progressing.',
                    touch=True,
                )
            elif isinstance(deadline, int) and deadline < _NO_DEADLINE:
                self._time_out(conditions, name, deadline, put)
        order = [c["type"] for c in self._conditions()]
        order += [k for k in ("Available", "Progressing") if k not in order]
        status["conditions"] = [conditions[k] for k in order if k in conditions]
        if status == old_status:
            return
        self.d["status"] = status
        self.d = self._update(self.deployments, self.d, subresource="status")

    def _time_out(
        self, conditions: dict[str, JSON], name: str, deadline: int, put: Callable[..., None]
    ) -> None:
        """kube's DeploymentTimedOut: no progress for ``deadline`` seconds since the Progressing
        condition was last updated is ``ProgressDeadlineExceeded``; until then, ask to be synced
        again when the deadline passes (kube's requeueStuckDeployment)."""
        progressing = conditions.get("Progressing")
        if progressing is None or progressing.get("reason") == "ProgressDeadlineExceeded":
            return
        since = parse_time(str(progressing.get("lastUpdateTime") or self.tracker.now()))
        left = (since - parse_time(self.tracker.now())).total_seconds() + deadline
        if left >= 0:
            self.resync = left + 0.01
            return
        message = f'ReplicaSet "{name}" has timed out progressing.'
        put("Progressing", "False", "ProgressDeadlineExceeded", message)

    def _update(self, info: ResourceInfo, obj: JSON, subresource: str = "") -> JSON:
        """Store ``obj`` (keeping its resourceVersion: a conflict raises and the key is
        retried)."""
        return self.tracker.update(info, self.namespace, obj, _options(), subresource=subresource)


def _progressed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return any(
        new.get(k, 0) > old.get(k, 0)
        for k in ("updatedReplicas", "readyReplicas", "availableReplicas")
    ) or new.get("replicas", 0) - new.get("updatedReplicas", 0) < old.get("replicas", 0) - old.get(
        "updatedReplicas", 0
    )


def _options() -> WriteOptions:
    return WriteOptions(field_manager=MANAGER)
