"""The ``scale`` subresource: an ``autoscaling/v1`` ``Scale`` view of a workload's replicas.

``spec.replicas`` and ``status.replicas`` are read from the object; the selector is the
object's ``spec.selector`` (a label selector, printed) or, for custom resources,
``status.selector`` (already a string). Pure functions over caller-owned dicts.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kgen.labels import SelectorError, from_label_selector
from kgen.testing._errors import APIError

__all__ = ["scale_of", "set_replicas"]

JSON = dict[str, Any]


def scale_of(obj: JSON) -> JSON:
    """The ``Scale`` of ``obj``."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    scale_status: JSON = {"replicas": int(status.get("replicas") or 0)}
    selector = spec.get("selector")
    if isinstance(selector, dict):
        with contextlib.suppress(SelectorError):
            scale_status["selector"] = str(from_label_selector(selector))
    elif isinstance(status.get("selector"), str):
        scale_status["selector"] = status["selector"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": int(spec.get("replicas") or 0)},
        "status": scale_status,
    }


def set_replicas(obj: JSON, scale: Any) -> JSON:
    """``obj`` with ``spec.replicas`` taken from the ``Scale`` body ``scale`` (400 when bad)."""
    if not isinstance(scale, dict) or scale.get("kind", "Scale") != "Scale":
        raise APIError.bad_request("the body of a scale request must be an autoscaling/v1 Scale")
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise APIError.invalid(
            "Scale",
            "autoscaling",
            str((scale.get("metadata") or {}).get("name", "")),
            [
                (
                    "spec.replicas",
                    "FieldValueInvalid",
                    f"Invalid value: {replicas!r}: must be a non-negative integer",
                )
            ],
        )
    obj.setdefault("spec", {})["replicas"] = replicas
    rv = (scale.get("metadata") or {}).get("resourceVersion")
    if rv:
        obj["metadata"]["resourceVersion"] = rv
    return obj
