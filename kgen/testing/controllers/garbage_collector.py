"""Garbage collection by ownerReferences: kube-controller-manager's garbage collector, over the
tracker.

:class:`GarbageCollector` keeps an index of who owns what (owner uid to dependents, fed by
every store event) and reconciles one object at a time, keyed ``(group, plural, namespace,
name)``:

* an object all of whose owners are gone, or dangling (no object of that kind and name, or one
  with another uid), is deleted (Background, or as its own ``orphan``/``foregroundDeletion``
  finalizer asks); when some owners remain, only the references to the dead ones are removed;
* an owner deleted in the foreground (``foregroundDeletion`` finalizer, set by the tracker for
  ``propagationPolicy: Foreground``) has its dependents deleted, those that have dependents of
  their own in the foreground too, and loses the finalizer (so goes) once no dependent with
  ``blockOwnerDeletion: true`` remains; a dependent owned by another live object only loses its
  reference;
* an owner deleted with ``Orphan`` (``orphan`` finalizer) has its references removed from every
  dependent, then loses the finalizer.

An owner reference whose kind is not served is left alone (kube's collector retries it until
discovery knows the kind). Writes go through the tracker's public operations with optimistic
concurrency (a conflict retries the key) under the field manager ``kube-controller-manager``.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable
from typing import Any

from kgen.testing._deletion import FOREGROUND, ORPHAN
from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._registry import ResourceInfo
from kgen.testing._store import JSON, Event, copy_json
from kgen.testing._tracker import ObjectTracker

__all__ = ["GarbageCollector"]

Ref = tuple[str, str, str, str]
"""``(group, plural, namespace, name)`` of one object."""
_MANAGER = "kube-controller-manager"


def _owner_uids(obj: JSON | None) -> set[str]:
    if obj is None:
        return set()
    refs = obj["metadata"].get("ownerReferences") or []
    return {str(r["uid"]) for r in refs if isinstance(r, dict) and r.get("uid")}


def _deleting_with(obj: JSON) -> bool:
    meta = obj["metadata"]
    finalizers = meta.get("finalizers") or []
    return bool(meta.get("deletionTimestamp")) and (
        ORPHAN in finalizers or FOREGROUND in finalizers
    )


class GarbageCollector:
    """See the module docstring. Thread-safe: :meth:`observe` runs on writers' threads,
    :meth:`sync` on the runner's."""

    name = "garbage-collector"

    def __init__(self, tracker: ObjectTracker) -> None:
        self._tracker = tracker
        self._lock = threading.Lock()
        self._dependents: dict[str, set[Ref]] = {}
        """Owner uid to the objects whose ownerReferences name it."""
        self._where: dict[str, Ref] = {}
        """Uid of every object to where it is."""

    # --- the owner index ----------------------------------------------------------------------

    def _index(self, ref: Ref, before: set[str], after: set[str], uid: str | None) -> None:
        with self._lock:
            for owner in before - after:
                dependents = self._dependents.get(owner)
                if dependents is not None:
                    dependents.discard(ref)
                    if not dependents:
                        del self._dependents[owner]
            for owner in after:
                self._dependents.setdefault(owner, set()).add(ref)
            if uid:
                self._where[uid] = ref

    def _dependents_of(self, uid: str) -> list[Ref]:
        with self._lock:
            return sorted(self._dependents.get(uid, ()))

    # --- runner protocol ----------------------------------------------------------------------

    def observe(self, event: Event) -> Iterable[Hashable]:
        ref: Ref = (*event.resource, *event.key)
        uid = event.object["metadata"].get("uid")
        before = _owner_uids(event.previous)
        if event.type == "DELETED":
            owner_uids = before | _owner_uids(event.object)
            self._index(ref, owner_uids, set(), None)
            with self._lock:
                if uid:
                    self._where.pop(uid, None)
                owners = [self._where[o] for o in owner_uids if o in self._where]
                return [*self._dependents.get(str(uid), ()), *owners]
        after = _owner_uids(event.object)
        self._index(ref, before, after, uid)
        interesting = _deleting_with(event.object) or (
            after
            and (
                event.type == "ADDED"
                or after != before
                or event.object["metadata"].get("deletionTimestamp")
                != (event.previous or {}).get("metadata", {}).get("deletionTimestamp")
            )
        )
        return [ref] if interesting else []

    def initial(self) -> Iterable[Hashable]:
        keys: list[Ref] = []
        for info in self._tracker.registry.stored():
            for obj in self._tracker.list(info, "", copy=False)["items"]:
                meta = obj["metadata"]
                ref: Ref = (*info.key, meta.get("namespace", ""), meta["name"])
                owners = _owner_uids(obj)
                self._index(ref, set(), owners, meta.get("uid"))
                if owners or _deleting_with(obj):
                    keys.append(ref)
        return keys

    def sync(self, key: Hashable) -> float | None:
        if not isinstance(key, tuple) or len(key) != 4:
            return None
        group, plural, namespace, name = key
        info = self._tracker.registry.stored_one(group, plural)
        if info is None:
            return None
        obj = self._get(info, namespace, name)
        if obj is None:
            return None
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            finalizers = meta.get("finalizers") or []
            if ORPHAN in finalizers:
                self._orphan_dependents(info, obj)
            elif FOREGROUND in finalizers:
                self._delete_dependents(info, obj)
            return None
        self._collect(info, obj)
        return None

    # --- lookups ------------------------------------------------------------------------------

    def _get(self, info: ResourceInfo, namespace: str, name: str) -> JSON | None:
        try:
            return self._tracker.get(info, namespace, name)
        except APIError as err:
            if err.code == 404:
                return None
            raise

    def _owner_resource(self, ref: dict[str, Any]) -> ResourceInfo | None:
        """The resource serving the reference's kind in its group (its version preferred)."""
        group, _, version = str(ref.get("apiVersion", "")).rpartition("/")
        found = [
            i
            for i in self._tracker.registry.resources()
            if (i.group, i.kind) == (group, ref.get("kind"))
        ]
        return next((i for i in found if i.version == version), found[0] if found else None)

    def _owner_state(self, ref: dict[str, Any], namespace: str) -> str:
        """``solid``, ``dangling``, ``waiting`` (deleting its dependents) or ``unknown``."""
        info = self._owner_resource(ref)
        if info is None:
            return "unknown"
        if info.namespaced and not namespace:
            return "dangling"  # a cluster-scoped object cannot be owned by a namespaced one
        owner = self._get(info, namespace if info.namespaced else "", str(ref.get("name", "")))
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return "dangling"
        meta = owner["metadata"]
        if meta.get("deletionTimestamp") and FOREGROUND in (meta.get("finalizers") or []):
            return "waiting"
        return "solid"

    def _live_dependents(self, uid: str) -> list[tuple[ResourceInfo, JSON, dict[str, Any]]]:
        """Each object still naming ``uid`` as an owner, with that reference."""
        found = []
        for group, plural, namespace, name in self._dependents_of(uid):
            info = self._tracker.registry.stored_one(group, plural)
            obj = self._get(info, namespace, name) if info is not None else None
            if info is None or obj is None:
                continue
            for ref in obj["metadata"].get("ownerReferences") or []:
                if isinstance(ref, dict) and ref.get("uid") == uid:
                    found.append((info, obj, ref))
                    break
        return found

    # --- actions ------------------------------------------------------------------------------

    def _collect(self, info: ResourceInfo, obj: JSON) -> None:
        """Delete ``obj`` when no owner of it is alive, or drop its references to dead ones."""
        meta = obj["metadata"]
        refs = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
        if not refs:
            return
        states = {str(r.get("uid")): self._owner_state(r, meta.get("namespace", "")) for r in refs}
        if any(s in ("solid", "unknown") for s in states.values()):
            dead = {uid for uid, s in states.items() if s in ("dangling", "waiting")}
            if dead:
                self._drop_references(info, obj, dead)
            return
        finalizers = meta.get("finalizers") or []
        if "waiting" in states.values() and self._dependents_of(str(meta.get("uid"))):
            policy = "Foreground"
        elif ORPHAN in finalizers:
            policy = "Orphan"
        elif FOREGROUND in finalizers:
            policy = "Foreground"
        else:
            policy = "Background"
        self._delete(info, obj, policy)

    def _delete_dependents(self, info: ResourceInfo, owner: JSON) -> None:
        uid = str(owner["metadata"].get("uid"))
        for dep_info, dep, _ref in self._live_dependents(uid):
            if not dep["metadata"].get("deletionTimestamp"):
                self._collect(dep_info, dep)
        blocking = [d for d in self._live_dependents(uid) if d[2].get("blockOwnerDeletion")]
        if not blocking:
            self._drop_finalizer(info, owner, FOREGROUND)

    def _orphan_dependents(self, info: ResourceInfo, owner: JSON) -> None:
        uid = str(owner["metadata"].get("uid"))
        for dep_info, dep, _ref in self._live_dependents(uid):
            self._drop_references(dep_info, dep, {uid})
        self._drop_finalizer(info, owner, ORPHAN)

    def _delete(self, info: ResourceInfo, obj: JSON, policy: str) -> None:
        meta = obj["metadata"]
        options = WriteOptions(
            field_manager=_MANAGER,
            body_options={"propagationPolicy": policy, "preconditions": {"uid": meta.get("uid")}},
        )
        try:
            self._tracker.delete(info, meta.get("namespace", ""), meta["name"], options)
        except APIError as err:
            if err.code not in (404, 409):
                raise

    def _write(self, info: ResourceInfo, obj: JSON) -> None:
        """Store ``obj`` (a changed copy of the live object, whose resourceVersion it keeps: a
        conflict raises, and the runner retries the key); a vanished object is fine."""
        try:
            self._tracker.update(
                info,
                obj["metadata"].get("namespace", ""),
                obj,
                WriteOptions(field_manager=_MANAGER),
            )
        except APIError as err:
            if err.code != 404:
                raise

    def _drop_references(self, info: ResourceInfo, obj: JSON, uids: set[str]) -> None:
        new = copy_json(obj)
        meta = new["metadata"]
        kept = [
            r
            for r in meta.get("ownerReferences") or []
            if not isinstance(r, dict) or r.get("uid") not in uids
        ]
        if kept:
            meta["ownerReferences"] = kept
        else:
            meta.pop("ownerReferences", None)
        self._write(info, new)

    def _drop_finalizer(self, info: ResourceInfo, obj: JSON, finalizer: str) -> None:
        new = copy_json(obj)
        meta = new["metadata"]
        meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != finalizer]
        if not meta["finalizers"]:
            del meta["finalizers"]
        self._write(info, new)
