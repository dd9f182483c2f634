"""An informer transform that shares repeated strings between cached objects.

A cache of pods holds the same values many times over (namespaces, label values, images,
``"True"``, ``"v1"``, condition types, managers): each decoded object has its own copies.
:func:`intern_strings` replaces every string of a decoded kgen model by the one
:func:`sys.intern` keeps, so equal strings are stored once. What identifies the object itself
(its ``metadata``'s ``name``, ``uid``, ``resourceVersion``, ``selfLink`` and
``creationTimestamp``, a pod's IP and its containers' IDs) is left alone; the same names
elsewhere are shared values and are interned: a container's ``name``, an owner reference's
``name`` and ``uid`` (one per owner, repeated by each of its pods), ``generateName`` (one per
owner too).

It is opt-in, not part of decoding: msgspec has no hook for strings, so the walk runs in Python
and costs more than the decode itself (see ``bench/RESULTS.md``); it suits large, slowly
changing caches where memory matters more than event throughput.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec

from kgen.meta import UNSET, ObjectMeta

__all__ = ["intern_strings"]

_UNIQUE = frozenset({"pod_ip", "container_id"})
"""Attributes unique per object wherever they appear: interning them would only grow the
intern table."""
_UNIQUE_IN_META = _UNIQUE | {
    "name",
    "uid",
    "resource_version",
    "self_link",
    "creation_timestamp",
}
"""In an object's own ``ObjectMeta``, also what identifies (or dates) that one object."""

_fields: dict[type, tuple[str, ...]] = {}


def intern_strings(obj: object) -> object:
    """``obj`` with its strings interned, in place, and returned (idempotent).

    Mutates the freshly decoded ``obj`` it is given, which is safe as an informer transform
    (the object is not shared yet) and changes no value: only which equal string object is
    referenced. Objects other than kgen models (mappings, for example) are returned unchanged.
    Not for objects already cached: those are shared between threads and must not be mutated.
    """
    if isinstance(obj, msgspec.Struct):
        _walk(obj)
    return obj


def _walk(obj: Any) -> None:
    cls = type(obj)
    names = _fields.get(cls)
    if names is None:
        unique = _UNIQUE_IN_META if issubclass(cls, ObjectMeta) else _UNIQUE
        names = _fields[cls] = tuple(f for f in cls.__struct_fields__ if f not in unique)
    intern = sys.intern
    for name in names:
        value = getattr(obj, name)
        if value is UNSET or value is None:
            continue
        kind = type(value)
        if kind is str:
            setattr(obj, name, intern(value))
        elif kind is tuple:
            if not value:
                continue
            if type(value[0]) is str:
                setattr(obj, name, tuple(intern(v) if type(v) is str else v for v in value))
            else:
                for item in value:
                    if isinstance(item, msgspec.Struct):
                        _walk(item)
        elif kind is dict:
            setattr(obj, name, {intern(k): _interned(v) for k, v in value.items()})
        elif isinstance(value, msgspec.Struct):
            _walk(value)


def _interned(value: object) -> object:
    return sys.intern(value) if type(value) is str else value
