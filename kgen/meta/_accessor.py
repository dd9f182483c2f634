"""Read an object's identity the same way whether it is a typed model or an unstructured dict.

The cache, the workqueue helpers and the dynamic client handle both kinds of object; these
functions are the one place that knows how to find ``metadata.name`` and friends in each (and,
for lists, ``items``, ``metadata.resourceVersion`` and ``metadata.continue``).
They never mutate the object and are safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kgen.meta._model import UNSET

__all__ = [
    "list_continue",
    "list_items",
    "list_resource_version",
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


def _list_meta_field(lst: object, attr: str, wire: str) -> str:
    if isinstance(lst, Mapping):
        meta = lst.get("metadata")
        value = meta.get(wire) if isinstance(meta, Mapping) else None
    else:
        meta = getattr(lst, "metadata", None)
        value = getattr(meta, attr, None) if meta not in (None, UNSET) else None
    return value if isinstance(value, str) else ""


def list_items(lst: object) -> Sequence[Any]:
    """The ``items`` of a typed or unstructured list (``()`` when absent or null)."""
    items = lst.get("items") if isinstance(lst, Mapping) else getattr(lst, "items", None)
    return items if isinstance(items, Sequence) and not isinstance(items, str) else ()


def list_resource_version(lst: object) -> str:
    """``metadata.resourceVersion`` of a list, ``""`` when absent."""
    return _list_meta_field(lst, "resource_version", "resourceVersion")


def list_continue(lst: object) -> str:
    """``metadata.continue`` of a list, ``""`` when absent."""
    return _list_meta_field(lst, "continue_", "continue")
