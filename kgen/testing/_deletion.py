"""What a DELETE of one object answers, kind by kind, as kube-apiserver's registry answers it.

kube-apiserver's generic store answers a delete in one of two ways: kinds whose store keeps the
deleted object (:data:`RETURNS_DELETED_OBJECT`) send the object back as it was stored when it
went; every other kind sends a success ``Status`` naming the object (:func:`deleted_status`).
Three kinds first mark the object and send it back marked (:func:`mark`): a pod gets a
``deletionTimestamp`` of now plus its grace period, as its graceful deletion sets it; a
namespace becomes ``Terminating``; a CustomResourceDefinition gets its cleanup finalizer and a
``Terminating`` condition. An object held by finalizers is marked as deleting (:func:`mark_held`)
and sent back. The code is 200, and 202 only when the client asked ``orphanDependents: false``
while the object stays (:func:`response_code`).

kgen.testing has no kubelet or CRD finalizer, and the bare store (no controllers) no namespace
controller: a marked object is removed at once, in one DELETED event that carries the marks
(kube-apiserver first writes the marked object, a MODIFIED event), and the answer is the marked
object. With controllers running, a namespace stays marked until the namespace controller
finalizes it, and :func:`gc_finalizers` gives the garbage collector's finalizers of a delete. Everything here is pure: the
functions copy what they change and never touch the store.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from kgen.testing._errors import APIError
from kgen.testing._registry import ResourceInfo
from kgen.testing._store import JSON, copy_json

__all__ = [
    "FOREGROUND",
    "ORPHAN",
    "RETURNS_DELETED_OBJECT",
    "answer",
    "deleted_status",
    "gc_finalizers",
    "grace_period",
    "mark",
    "mark_deleting",
    "mark_held",
    "response_code",
]

RETURNS_DELETED_OBJECT: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "namespaces"),
        ("", "persistentvolumeclaims"),
        ("", "persistentvolumes"),
        ("", "pods"),
        ("", "podtemplates"),
        ("", "resourcequotas"),
        ("", "serviceaccounts"),
        ("", "services"),
        ("resource.k8s.io", "deviceclasses"),
        ("resource.k8s.io", "devicetaintrules"),
        ("resource.k8s.io", "resourceclaims"),
        ("resource.k8s.io", "resourceclaimtemplates"),
        ("resource.k8s.io", "resourceslices"),
        ("storage.k8s.io", "csidrivers"),
        ("storage.k8s.io", "csinodes"),
        ("storage.k8s.io", "storageclasses"),
        ("storage.k8s.io", "volumeattachments"),
        ("storage.k8s.io", "volumeattributesclasses"),
    }
)
"""``(group, plural)`` of the built-in kinds whose DELETE answers with the deleted object.

Source: kubernetes 1.35, ``pkg/registry/<group>/<resource>/storage/storage.go``: the stores
built with ``ReturnDeletedObject: true``. Every other store of that tree (configmaps, secrets,
the apps, batch, rbac, networking, policy, admissionregistration, flowcontrol, coordination,
certificates kinds ...) and custom resources answer with a Status.
"""

ORPHAN = "orphan"
"""The finalizer that holds an owner while the garbage collector orphans its dependents."""
FOREGROUND = "foregroundDeletion"
"""The finalizer that holds an owner until its blocking dependents are gone."""

_CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")
_CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"


def deleted_status(info: ResourceInfo, obj: JSON) -> JSON:
    """The success ``Status`` of a deleted object of a kind that does not send the object back;
    ``details.kind`` is the resource (plural), as kube-apiserver fills it."""
    meta = obj.get("metadata") or {}
    details: JSON = {"name": meta.get("name", "")}
    if info.group:
        details["group"] = info.group
    details["kind"] = info.plural
    details["uid"] = meta.get("uid", "")
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def answer(info: ResourceInfo, obj: JSON) -> JSON:
    """What the DELETE of ``obj`` (as last stored, or as marked) sends back: ``obj`` itself for
    the kinds of :data:`RETURNS_DELETED_OBJECT` and for CRDs, otherwise its Status."""
    if info.key in RETURNS_DELETED_OBJECT or info.key == _CRDS:
        return info.present(obj)
    return deleted_status(info, obj)


def response_code(delete_options: Mapping[str, Any], removed: bool) -> int:
    """200, or 202 when the object is not removed yet and the client set
    ``orphanDependents: false`` (kube-apiserver's only use of 202 for a delete)."""
    if not removed and delete_options.get("orphanDependents") is False:
        return 202
    return 200


def gc_finalizers(finalizers: list[str], delete_options: Mapping[str, Any]) -> list[str]:
    """The finalizers an object gets from a delete when a garbage collector runs, as
    kube-apiserver's generic store sets them: an explicit ``orphanDependents`` or
    ``propagationPolicy`` replaces :data:`ORPHAN`/:data:`FOREGROUND` by the one it asks for (none
    for Background); without either, the object keeps the ones it has. Others are kept in
    order; the list is returned unchanged when the set is the same."""
    orphan_flag = delete_options.get("orphanDependents")
    policy = delete_options.get("propagationPolicy")
    if orphan_flag is not None:
        orphan, foreground = orphan_flag is True, False
    elif policy is not None:
        orphan, foreground = policy == "Orphan", policy == "Foreground"
    else:
        orphan, foreground = ORPHAN in finalizers, FOREGROUND in finalizers
    kept = [f for f in finalizers if f not in (ORPHAN, FOREGROUND)]
    wanted = kept + [ORPHAN] * orphan + [FOREGROUND] * foreground
    return finalizers if set(wanted) == set(finalizers) else wanted


def grace_period(pod: JSON, delete_options: Mapping[str, Any]) -> int:
    """A pod's grace period for this delete: the client's ``gracePeriodSeconds``, else the pod's
    ``spec.terminationGracePeriodSeconds``, else 0; 0 for a pod not bound to a node or already
    finished; a negative value counts as 1 (kube-apiserver's pod strategy)."""
    requested = delete_options.get("gracePeriodSeconds")
    spec = pod.get("spec") or {}
    if requested is not None:
        period = _seconds(requested)
    else:
        period = _seconds(spec.get("terminationGracePeriodSeconds") or 0)
    if not spec.get("nodeName"):
        period = 0
    if (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
        period = 0
    return 1 if period < 0 else period


def mark(info: ResourceInfo, obj: JSON, now: str, delete_options: Mapping[str, Any]) -> JSON | None:
    """``obj`` as its first DELETE marks it (a copy), or None for kinds it does not mark: pods get
    ``deletionTimestamp`` = now + grace period and ``deletionGracePeriodSeconds``; namespaces
    ``deletionTimestamp`` and phase ``Terminating``; CRDs ``deletionTimestamp``, the cleanup
    finalizer and a ``Terminating`` condition."""
    if obj["metadata"].get("deletionTimestamp"):
        return None
    if info.key == ("", "pods"):
        period = grace_period(obj, delete_options)
        marked = copy_json(obj)
        meta = marked["metadata"]
        meta["deletionTimestamp"] = _later(now, period)
        meta["deletionGracePeriodSeconds"] = period
        if isinstance(meta.get("generation"), int) and meta["generation"] > 0:
            meta["generation"] += 1
        return marked
    if info.key == ("", "namespaces"):
        marked = copy_json(obj)
        marked["metadata"]["deletionTimestamp"] = now
        marked.setdefault("status", {})["phase"] = "Terminating"
        return marked
    if info.key == _CRDS:
        marked = copy_json(obj)
        meta = marked["metadata"]
        meta["deletionTimestamp"] = now
        finalizers = list(meta.get("finalizers") or [])
        if _CRD_CLEANUP not in finalizers:
            meta["finalizers"] = [*finalizers, _CRD_CLEANUP]
        status = marked.setdefault("status", {})
        conditions = [
            c
            for c in status.get("conditions") or []
            if not (isinstance(c, dict) and c.get("type") == "Terminating")
        ]
        conditions.append(
            {
                "type": "Terminating",
                "status": "True",
                "lastTransitionTime": now,
                "reason": "InstanceDeletionPending",
                "message": "CustomResourceDefinition marked for deletion; "
                "CustomResource deletion will begin soon",
            }
        )
        status["conditions"] = conditions
        return marked
    return None


def mark_held(info: ResourceInfo, obj: JSON, now: str, delete_options: Mapping[str, Any]) -> JSON:
    """A copy of ``obj`` as a delete leaves it while finalizers hold it: a pod marked with its
    grace period (:func:`mark`), any other object by :func:`mark_deleting`."""
    if info.key == ("", "pods"):
        marked = mark(info, obj, now, delete_options)
        if marked is not None:
            return marked
    return mark_deleting(obj, now)


def mark_deleting(obj: JSON, now: str) -> JSON:
    """A copy of ``obj`` as a delete leaves it while finalizers hold it: ``deletionTimestamp``
    now, ``deletionGracePeriodSeconds`` 0 and ``generation`` bumped."""
    marked = copy_json(obj)
    meta = marked["metadata"]
    if isinstance(meta.get("generation"), int) and meta["generation"] > 0:
        meta["generation"] += 1
    meta["deletionTimestamp"] = now
    meta["deletionGracePeriodSeconds"] = 0
    return marked


def _seconds(value: Any) -> int:
    if isinstance(value, bool):
        raise APIError.bad_request(f"gracePeriodSeconds must be an integer, not {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise APIError.bad_request(
            f"gracePeriodSeconds must be an integer, not {value!r}"
        ) from None


def _later(stamp: str, seconds: int) -> str:
    """``stamp`` (RFC 3339, seconds, ``Z``) plus ``seconds``; a stamp in another form is kept."""
    try:
        moment = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return stamp
    return (moment + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
