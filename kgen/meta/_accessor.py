"""Read an object's identity the same way whether it is a typed model or an unstructured dict.

The cache, the workqueue helpers and the dynamic client handle both kinds of object; these
functions are the one place that knows how to find ``metadata.name`` and friends in each.
They never mutate the object and are safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kgen.meta._model import UNSET

__all__ = [
    "meta_field",
    "meta_name",
    "meta_namespace",
    "meta_resource_version",
    "meta_uid",
]

_WIRE_TO_ATTR = {
    "name": "name",
    "namespace": "namespace",
    "resourceVersion": "resource_version",
    "uid": "uid",
    "labels": "labels",
    "annotations": "annotations",
    "deletionTimestamp": "deletion_timestamp",
    "generation": "generation",
    "finalizers": "finalizers",
    "ownerReferences": "owner_references",
}


def meta_field(obj: object, wire_name: str) -> Any:
    """``obj.metadata.<field>`` by its wire name, or ``None`` when absent, unset or null.

    Works for kgen models (attribute access) and for JSON-like mappings (``obj["metadata"]``).
    """
    if isinstance(obj, Mapping):
        metadata = obj.get("metadata")
        if not isinstance(metadata, Mapping):
            return None
        return metadata.get(wire_name)
    metadata = getattr(obj, "metadata", None)
    if not metadata:  # None or UNSET (UNSET is falsy)
        return None
    value = getattr(metadata, _WIRE_TO_ATTR.get(wire_name, wire_name), None)
    return None if value is UNSET else value


def _str_field(obj: object, wire_name: str) -> str:
    value = meta_field(obj, wire_name)
    return value if isinstance(value, str) else ""


def meta_name(obj: object) -> str:
    """``metadata.name``, or ``""`` when absent."""
    return _str_field(obj, "name")


def meta_namespace(obj: object) -> str:
    """``metadata.namespace``, or ``""`` for a cluster-scoped object."""
    return _str_field(obj, "namespace")


def meta_resource_version(obj: object) -> str:
    """``metadata.resourceVersion``, or ``""`` when absent."""
    return _str_field(obj, "resourceVersion")


def meta_uid(obj: object) -> str:
    """``metadata.uid``, or ``""`` when absent."""
    return _str_field(obj, "uid")
