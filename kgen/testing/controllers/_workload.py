"""What the StatefulSet, DaemonSet and Job controllers share: pods made from a template, the
pods an owner controls, and the ControllerRevisions holding an owner's template history.

:func:`pod_from_template` is kube's ``GetPodFromTemplate``: the template's labels, annotations
and spec, a controller reference to the owner. :class:`Revisions` keeps an owner's
ControllerRevisions as the StatefulSet and DaemonSet controllers do (``<owner>-<hash>``, the
template stored as a ``$patch: replace`` under ``spec.template``, ``revision`` one more than the
newest; a template seen before gets the next revision back, as a rollback does), and cleans up
those beyond ``revisionHistoryLimit``. The hash is :func:`deployment.pod_template_hash` (the
module docstring there says how it differs from kube's).

Called only from a controller's sync thread; every write goes through the tracker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._registry import ResourceInfo
from kgen.testing._store import JSON, copy_json
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers.deployment import pod_template_hash
from kgen.testing.controllers.replicaset import MANAGER, controller_of, owner_reference

__all__ = [
    "REVISION_HASH",
    "Revisions",
    "delete_pod",
    "owned_pods",
    "pod_from_template",
    "terminal",
    "write_status",
]

REVISION_HASH = "controller-revision-hash"
_PODS = ("", "pods")
_REVISIONS = ("apps", "controllerrevisions")


def pod_from_template(
    owner: Mapping[str, Any],
    template: Mapping[str, Any],
    *,
    name: str = "",
    generate_name: str = "",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> JSON:
    """A pod for ``owner`` from ``template`` (not stored), named ``name`` or ``generate_name``,
    with ``labels`` and ``annotations`` added to the template's."""
    copy = copy_json(dict(template))
    meta = copy.get("metadata") or {}
    metadata: JSON = {
        "labels": {**(meta.get("labels") or {}), **(labels or {})},
        "ownerReferences": [owner_reference(owner)],
    }
    if meta.get("annotations") or annotations:
        metadata["annotations"] = {**(meta.get("annotations") or {}), **(annotations or {})}
    if name:
        metadata["name"] = name
    else:
        metadata["generateName"] = generate_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": copy.get("spec") or {}}


def terminal(pod: Mapping[str, Any]) -> bool:
    """Whether ``pod`` has finished (Succeeded or Failed)."""
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def owned_pods(tracker: ObjectTracker, owner: Mapping[str, Any]) -> list[JSON]:
    """The pods whose controller reference names ``owner``'s uid, in name order."""
    pods = tracker.registry.stored_one(*_PODS)
    if pods is None:
        return []
    uid = owner["metadata"]["uid"]
    found = [
        p
        for p in tracker.list(pods, owner["metadata"]["namespace"])["items"]
        if (controller_of(p) or {}).get("uid") == uid
    ]
    return sorted(found, key=lambda p: p["metadata"]["name"])


def delete_pod(tracker: ObjectTracker, pod: Mapping[str, Any]) -> bool:
    """Delete ``pod`` with a uid precondition; ``False`` when it was gone or replaced."""
    pods = tracker.registry.stored_one(*_PODS)
    if pods is None:
        return False
    meta = pod["metadata"]
    options = WriteOptions(
        field_manager=MANAGER, body_options={"preconditions": {"uid": meta["uid"]}}
    )
    try:
        tracker.delete(pods, meta["namespace"], meta["name"], options)
    except APIError as err:
        if err.code in (404, 409):
            return False
        raise
    return True


def write_status(tracker: ObjectTracker, info: ResourceInfo, obj: JSON, status: JSON) -> JSON:
    """Store ``status`` as ``obj``'s status unless it is already so; the stored object."""
    if (obj.get("status") or {}) == status:
        return obj
    obj["status"] = status
    return tracker.update(
        info,
        obj["metadata"]["namespace"],
        obj,
        WriteOptions(field_manager=MANAGER),
        subresource="status",
    )


def _template_of(revision: Mapping[str, Any]) -> JSON:
    template = copy_json(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


class Revisions:
    """The ControllerRevisions of one owner (see the module docstring)."""

    def __init__(self, tracker: ObjectTracker, owner: JSON) -> None:
        self.tracker = tracker
        self.owner = owner
        self.info = tracker.registry.stored_one(*_REVISIONS)
        uid = owner["metadata"]["uid"]
        self.items: list[JSON] = []
        if self.info is not None:
            self.items = [
                r
                for r in tracker.list(self.info, owner["metadata"]["namespace"])["items"]
                if (controller_of(r) or {}).get("uid") == uid
            ]
        self.items.sort(key=lambda r: int(r.get("revision") or 0))

    def named(self, name: str) -> JSON | None:
        return next((r for r in self.items if r["metadata"]["name"] == name), None)

    def template(self, name: str) -> JSON | None:
        """The pod template the revision ``name`` holds."""
        found = self.named(name)
        return None if found is None else _template_of(found)

    def ensure(self, template: Mapping[str, Any]) -> tuple[str, str]:
        """``(name, hash)`` of the revision holding ``template``, created or renumbered to be
        the newest."""
        digest = pod_template_hash(template)
        name = f"{self.owner['metadata']['name']}-{digest}"
        newest = int(self.items[-1].get("revision") or 0) if self.items else 0
        found = self.named(name)
        if found is not None:
            if found is not self.items[-1] and self.info is not None:
                found["revision"] = newest + 1
                found = self.tracker.update(
                    self.info,
                    found["metadata"]["namespace"],
                    found,
                    WriteOptions(field_manager=MANAGER),
                )
                self.items = [r for r in self.items if r["metadata"]["name"] != name] + [found]
            return name, digest
        if self.info is None:
            return name, digest
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[REVISION_HASH] = digest
        revision: JSON = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": name,
                "namespace": self.owner["metadata"]["namespace"],
                "labels": labels,
                "ownerReferences": [owner_reference(self.owner)],
            },
            "data": {"spec": {"template": {**copy_json(dict(template)), "$patch": "replace"}}},
            "revision": newest + 1,
        }
        try:
            created = self.tracker.create(
                self.info,
                revision["metadata"]["namespace"],
                revision,
                WriteOptions(field_manager=MANAGER),
            )
        except APIError as err:
            if err.code != 409:
                raise
            created = self.tracker.get(self.info, revision["metadata"]["namespace"], name)
        self.items.append(created)
        return name, digest

    def clean(self, keep: set[str]) -> None:
        """Delete the oldest revisions not in ``keep`` beyond the owner's
        ``revisionHistoryLimit`` (10 by default)."""
        if self.info is None:
            return
        limit = int((self.owner.get("spec") or {}).get("revisionHistoryLimit", 10))
        idle = [r for r in self.items if r["metadata"]["name"] not in keep]
        for revision in idle[: max(0, len(idle) - limit)]:
            meta = revision["metadata"]
            try:
                self.tracker.delete(
                    self.info, meta["namespace"], meta["name"], WriteOptions(field_manager=MANAGER)
                )
            except APIError as err:
                if err.code != 404:
                    raise
            self.items.remove(revision)
