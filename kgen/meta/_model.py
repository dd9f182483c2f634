"""The base class of every kgen API type, hand-written or generated.

Conventions that hold for every subclass (the generator emits the same shape):

* Attributes are snake_case; the wire's camelCase name is kept with ``msgspec.field(name=...)``.
* An optional field is typed ``T | None | UnsetType`` and defaults to ``UNSET``. ``UNSET`` means
  "absent on the wire" and is never encoded; ``None`` is an explicit JSON ``null`` and is encoded
  as one. Decoding then encoding therefore gives back the same JSON: no null is invented or lost.
* Arrays are tuples and objects are dicts. Instances are not tracked by the cyclic garbage
  collector (``gc=False``); tuples of untracked values are untracked by CPython after their first
  collection and dicts of strings are never tracked. A cache of 100,000 decoded objects therefore
  adds almost nothing to a full collection. Tuples also make accidental in-place mutation of a
  shared, cached object harder.
* Times (``Time``, ``MicroTime``) and quantities stay the strings the server sent, so ``Z`` stays
  ``Z`` and ``100m`` stays ``100m``. :mod:`kgen.meta` has helpers to parse them.

Instances are plain values: not thread-safe to mutate, safe to share read-only between threads.
Objects handed out by an informer's cache are shared and must not be mutated; call
:func:`deep_copy` first.
"""

from __future__ import annotations

from typing import TypeAlias, TypeVar

import msgspec

from kgen.meta import _unknown

__all__ = [
    "UNSET",
    "FieldsV1",
    "IntOrString",
    "MicroTime",
    "Model",
    "Quantity",
    "Time",
    "UnsetType",
    "decode",
    "deep_copy",
    "encode",
]

UNSET = msgspec.UNSET
UnsetType = msgspec.UnsetType

Time: TypeAlias = str
"""RFC 3339 time with second precision, kept as the server wrote it."""
MicroTime: TypeAlias = str
"""RFC 3339 time with microsecond precision, kept as the server wrote it."""
Quantity: TypeAlias = str | int | float
"""A resource quantity (``"100m"``, ``"1Gi"``, ``2``): the wire allows a string or a number."""
IntOrString: TypeAlias = int | str
FieldsV1: TypeAlias = msgspec.Raw
"""The set of fields a manager owns, kept as the raw JSON the server sent.

Almost no client reads it, and decoded into dicts it is most of the collector's work in a cache
(dozens of nested dicts per object). As raw bytes it is untracked, smaller, and encodes back
byte for byte. ``msgspec.json.decode(entry.fields_v1)`` gives the tree when it is needed.
"""


class Model(
    msgspec.Struct, kw_only=True, gc=False, repr_omit_defaults=True, forbid_unknown_fields=True
):
    """Base of all API types. See the module docstring for the field conventions.

    ``gc``, ``repr_omit_defaults`` and ``forbid_unknown_fields`` are inherited; ``kw_only``
    applies only to the fields a class declares itself, so every subclass repeats
    ``kw_only=True``. Unknown fields are forbidden so that msgspec tells :func:`decode` when
    there are some, which then keeps them (:mod:`kgen.meta._unknown`); a class that means to
    drop them (a view such as ``PartialObjectMetadata``) says ``forbid_unknown_fields=False``.
    """


M = TypeVar("M")

_encoder = msgspec.json.Encoder()


def encode(obj: object) -> bytes:
    """Encode a model (or any msgspec-encodable value) to compact JSON bytes."""
    return _encoder.encode(obj)


def decode(data: bytes | str, type: type[M]) -> M:
    """Decode JSON bytes straight into ``type``; raises ``msgspec.ValidationError`` with a path.

    Fields the models do not know are kept and encoded back (:mod:`kgen.meta._unknown`).
    """
    try:
        return msgspec.json.decode(data, type=type)
    except msgspec.ValidationError as err:
        if not _unknown.is_unknown_field(err):
            raise
    result: M = _unknown.recover(data, type)
    return result


def deep_copy(obj: M) -> M:
    """Return an independent copy of a model (an encode/decode round trip: fast and exact,
    unknown fields included)."""
    return decode(_encoder.encode(obj), type(obj))
