"""Cache keys: how an object is named inside a store, a queue or an index.

A key is ``"<namespace>/<name>"`` for a namespaced object and ``"<name>"`` for a cluster-scoped
one. Every function here is pure and safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kgen.meta import UNSET, ObjectMeta, meta_name, meta_namespace, meta_resource_version

__all__ = [
    "DeletedFinalStateUnknown",
    "ExplicitKey",
    "KeyFunc",
    "ObjectKeyError",
    "deletion_handling_meta_namespace_key",
    "key_with",
    "meta_namespace_key",
    "resource_version_of",
    "split_meta_namespace_key",
]

KeyFunc = Callable[[object], str]
"""Computes the store key of an object; raises :class:`ObjectKeyError` when it cannot."""


class ObjectKeyError(Exception):
    """No key could be computed for ``obj``; ``cause`` says why."""

    def __init__(self, obj: object, cause: object) -> None:
        super().__init__(f"couldn't create key for object {obj!r}: {cause}")
        self.obj = obj
        self.cause = cause


class ExplicitKey(str):
    """A string that is already a key: :func:`meta_namespace_key` returns it unchanged."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class DeletedFinalStateUnknown:
    """A tombstone: the object under ``key`` was deleted while no watch was there to see it.

    A relist found the key missing, so the deletion was inferred. ``obj`` is the last state
    the cache knew, which may be stale, or ``None`` when nothing was known.
    """

    key: str
    obj: object


def key_with(key_func: KeyFunc, obj: object) -> str:
    """``key_func(obj)``, with any failure turned into an :class:`ObjectKeyError` naming ``obj``."""
    try:
        return key_func(obj)
    except ObjectKeyError:
        raise
    except Exception as exc:
        raise ObjectKeyError(obj, exc) from exc


def has_meta(obj: object) -> bool:
    """Whether ``obj`` carries ``metadata`` (a model attribute or a mapping entry)."""
    if isinstance(obj, Mapping):
        return isinstance(obj.get("metadata"), Mapping)
    return getattr(obj, "metadata", None) not in (None, UNSET)


def meta_namespace_key(obj: object) -> str:
    """``"<namespace>/<name>"``, or ``"<name>"`` when the namespace is empty.

    An :class:`ExplicitKey` is returned as it is. Raises :class:`ObjectKeyError` when ``obj`` has
    no metadata.
    """
    metadata = getattr(obj, "metadata", None)
    if type(metadata) is ObjectMeta:  # the common case, made fast: a kgen model
        namespace, name = metadata.namespace, metadata.name
        name = name if isinstance(name, str) else ""
        return f"{namespace}/{name}" if isinstance(namespace, str) and namespace else name
    if isinstance(obj, ExplicitKey):
        return str(obj)
    if not has_meta(obj):
        raise ObjectKeyError(obj, "object has no meta")
    namespace = meta_namespace(obj)
    name = meta_name(obj)
    return f"{namespace}/{name}" if namespace else name


def resource_version_of(obj: object) -> str:
    """``metadata.resourceVersion`` (``""`` when absent): :func:`kgen.meta.meta_resource_version`
    with a fast path for kgen models, for the reflector and the informer (once or twice per
    event)."""
    metadata = getattr(obj, "metadata", None)
    if type(metadata) is ObjectMeta:
        version = metadata.resource_version
        return version if isinstance(version, str) else ""
    return meta_resource_version(obj)


def deletion_handling_meta_namespace_key(obj: object) -> str:
    """The key of a :class:`DeletedFinalStateUnknown` is its ``key``; else :func:`meta_namespace_key`.

    Informer stores use this key function, so that tombstones delivered to handlers map back
    to the key of the object they stand for.
    """
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    return meta_namespace_key(obj)


def split_meta_namespace_key(key: str) -> tuple[str, str]:
    """``(namespace, name)`` of a key; the namespace is ``""`` for a cluster-scoped key.

    Raises :class:`ValueError` for a key with more than one ``/``.
    """
    parts = key.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValueError(f'unexpected key format: "{key}"')
