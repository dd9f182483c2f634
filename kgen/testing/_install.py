"""CRDs created at run time: a stored ``CustomResourceDefinition`` makes its resources served.

When a CRD object is created or changed, its manifest is read like a CRD file (through
:func:`kgen.spec.load`) and its resources are added to the registry; its status then says
``NamesAccepted`` and ``Established``, as kube-apiserver's controllers set it, and
``storedVersions`` gains the storage version (it keeps every version ever stored, until a
client writes the status without one). When the CRD is
deleted, its custom objects are deleted and its resources are no longer served.

Called by the tracker under the store lock; not thread-safe on its own.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from kgen.spec import SpecError, load
from kgen.spec.model import APIModel

__all__ = ["CRD_RESOURCE", "crd_model", "crd_status", "same_conditions"]

CRD_RESOURCE = ("apiextensions.k8s.io", "customresourcedefinitions")

JSON = dict[str, Any]


def crd_model(crd: JSON) -> APIModel:
    """The API model of one CRD manifest; raises :class:`SpecError` when it is not valid."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{crd.get('metadata', {}).get('name', 'crd')}.yaml"
        path.write_text(json.dumps(crd))
        return load([path])


def crd_status(crd: JSON, now: str, problem: SpecError | None) -> JSON:
    """The status controllers give ``crd``: established, or not with the reason why."""
    spec = crd.get("spec") or {}
    versions = [v for v in spec.get("versions") or () if isinstance(v, dict)]
    old = (crd.get("status") if isinstance(crd.get("status"), dict) else None) or {}
    stored = [str(v) for v in old.get("storedVersions") or ()]  # every version ever stored
    stored += [
        str(v.get("name")) for v in versions if v.get("storage") and v.get("name") not in stored
    ]
    if problem is None:
        conditions = [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ]
    else:
        conditions = [
            {
                "type": "Established",
                "status": "False",
                "reason": "Invalid",
                "message": str(problem),
            },
        ]
    conditions = [  # kube-apiserver's field order: type, status, lastTransitionTime, ...
        {"type": c["type"], "status": c["status"], "lastTransitionTime": now, **c}
        for c in conditions
    ]
    return {
        "conditions": conditions,
        "acceptedNames": spec.get("names") or {},
        "storedVersions": stored,
    }


def same_conditions(old: Any, new: JSON) -> bool:
    """Whether ``old`` status already says what ``new`` says (times aside)."""
    if not isinstance(old, dict):
        return False

    def essence(status: JSON) -> list[tuple[Any, Any, Any]]:
        return [
            (c.get("type"), c.get("status"), c.get("reason"))
            for c in status.get("conditions") or ()
            if isinstance(c, dict)
        ]

    return (
        essence(old) == essence(new)
        and old.get("acceptedNames") == new.get("acceptedNames")
        and old.get("storedVersions") == new.get("storedVersions")
    )
