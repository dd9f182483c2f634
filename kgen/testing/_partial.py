"""Objects and lists reduced to their metadata, as kube-apiserver sends them to a client that
asks for ``PartialObjectMetadata`` or ``PartialObjectMetadataList`` (``meta.k8s.io``).

Pure functions. The results share the ``metadata`` of their input (they are built only to be
serialized): never mutate either.
"""

from __future__ import annotations

from typing import Any

__all__ = ["META_GROUP", "as_partial", "as_partial_list"]

JSON = dict[str, Any]
META_GROUP = "meta.k8s.io"

_LIST_META = ("resourceVersion", "continue", "remainingItemCount")


def as_partial(obj: JSON, version: str = "v1") -> JSON:
    """``obj`` as a ``meta.k8s.io/<version>`` ``PartialObjectMetadata``: its whole metadata."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"{META_GROUP}/{version}",
        "metadata": obj.get("metadata") or {},
    }


def as_partial_list(lst: JSON, version: str = "v1") -> JSON:
    """The list ``lst`` as a ``PartialObjectMetadataList``: each item as :func:`as_partial`,
    and the list's ``resourceVersion``, ``continue`` and ``remainingItemCount``."""
    metadata = lst.get("metadata") or {}
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": f"{META_GROUP}/{version}",
        "metadata": {key: metadata[key] for key in _LIST_META if key in metadata},
        "items": [as_partial(item, version) for item in lst.get("items") or ()],
    }
