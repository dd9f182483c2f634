"""The ``scale`` subresource: an ``autoscaling/v1`` ``Scale`` view of a workload's replicas.

``spec.replicas`` and ``status.replicas`` are read from the object; the selector is the
object's ``spec.selector`` (a label selector, or a ReplicationController's map of labels,
printed) or, for custom resources, ``status.selector`` (already a string). Pure functions over
caller-owned dicts.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kgen.labels import Selector, SelectorError, from_label_selector
from kgen.testing._crds import ScalePaths
from kgen.testing._errors import APIError
from kgen.testing._jsonpath import evaluate

__all__ = ["scale_of", "set_replicas"]

JSON = dict[str, Any]


def _first(obj: JSON, path: str) -> Any:
    found = evaluate(obj, path)
    return found[0] if found else None


def scale_of(obj: JSON, paths: ScalePaths | None = None) -> JSON:
    """The ``Scale`` of ``obj`` (``paths`` are a CRD's; built-ins use the defaults)."""
    meta = obj.get("metadata") or {}
    where = paths or ScalePaths()
    spec_replicas = _first(obj, where.spec_replicas)
    status_replicas = _first(obj, where.status_replicas)
    scale_status: JSON = {"replicas": status_replicas if isinstance(status_replicas, int) else 0}
    if where.label_selector:
        selector = _first(obj, where.label_selector)
        if isinstance(selector, str):
            scale_status["selector"] = selector
    elif isinstance(selector := (obj.get("spec") or {}).get("selector"), dict):
        with contextlib.suppress(SelectorError):
            if obj.get("kind") == "ReplicationController":  # a plain map of labels
                scale_status["selector"] = str(Selector.from_set(selector))
            else:
                scale_status["selector"] = str(from_label_selector(selector))
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": spec_replicas if isinstance(spec_replicas, int) else 0},
        "status": scale_status,
    }


def set_replicas(obj: JSON, scale: Any, paths: ScalePaths | None = None) -> JSON:
    """``obj`` with its replicas (``spec.replicas``, or a CRD's specReplicasPath) taken from
    the ``Scale`` body ``scale`` (400 when bad)."""
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
    keys = (paths or ScalePaths()).spec_replicas.lstrip(".").split(".")
    target = obj
    for key in keys[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = target[key] = {}
        target = child
    target[keys[-1]] = replicas
    rv = (scale.get("metadata") or {}).get("resourceVersion")
    if rv:
        obj["metadata"]["resourceVersion"] = rv
    return obj
