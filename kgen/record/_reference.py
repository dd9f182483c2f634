"""Build the ``ObjectReference`` an event points at, from whatever object the caller has."""

from __future__ import annotations

from collections.abc import Mapping

from kgen.meta import UNSET, meta_name, meta_namespace, meta_resource_version, meta_uid
from kgen.record._types import ObjectReference

__all__ = ["get_reference"]


def _type_field(obj: object, wire: str, attr: str) -> str:
    value = obj.get(wire) if isinstance(obj, Mapping) else getattr(obj, attr, None)
    return value if isinstance(value, str) else ""


def get_reference(obj: object) -> ObjectReference:
    """A reference to ``obj``: an :class:`ObjectReference` (returned as is), a kgen model or a
    JSON mapping with ``apiVersion``, ``kind`` and ``metadata``.

    Raises :class:`ValueError` naming the missing field when ``obj`` has no ``kind`` or no
    ``apiVersion`` (a model decoded from a list often lacks them: set them first). Never mutates
    ``obj``.
    """
    if isinstance(obj, ObjectReference):
        return obj
    kind = _type_field(obj, "kind", "kind")
    api_version = _type_field(obj, "apiVersion", "api_version")
    if not kind or not api_version:
        missing = "kind" if not kind else "apiVersion"
        raise ValueError(
            f"cannot make an event reference to {type(obj).__name__} "
            f"{meta_namespace(obj)}/{meta_name(obj)}: it has no {missing}"
        )

    return ObjectReference(
        kind=kind,
        api_version=api_version,
        name=meta_name(obj) or UNSET,
        namespace=meta_namespace(obj) or UNSET,
        uid=meta_uid(obj) or UNSET,
        resource_version=meta_resource_version(obj) or UNSET,
    )
