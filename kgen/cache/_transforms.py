"""Ready-made informer transforms (see :meth:`SharedIndexInformer.set_transform`)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from kgen.meta import UNSET, ObjectMeta

__all__ = ["drop_managed_fields"]


def drop_managed_fields(obj: object) -> object:
    """``obj`` without ``metadata.managedFields``, usually the largest part of an object that
    controllers never read. Idempotent; never mutates ``obj`` (returns a new object when there
    was something to drop). Works on kgen models and on JSON mappings.
    """
    if isinstance(obj, Mapping):
        metadata = obj.get("metadata")
        if not isinstance(metadata, Mapping) or "managedFields" not in metadata:
            return obj
        trimmed = {k: v for k, v in metadata.items() if k != "managedFields"}
        return {**obj, "metadata": trimmed}
    metadata = getattr(obj, "metadata", None)
    if not isinstance(metadata, ObjectMeta) or metadata.managed_fields is UNSET:
        return obj
    if not isinstance(obj, msgspec.Struct):
        return obj
    return msgspec.structs.replace(
        obj, metadata=msgspec.structs.replace(metadata, managed_fields=UNSET)
    )
