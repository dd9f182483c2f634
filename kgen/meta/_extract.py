"""Reading back the apply configuration a field manager owns, as client-go's ``Extract<Kind>``.

:func:`extract` takes a live object (a model or its JSON as a dict), finds the
``metadata.managedFields`` entry of ``field_manager`` with operation ``Apply`` and the given
subresource, and returns an apply configuration holding exactly the fields that entry owns
(plus ``apiVersion``, ``kind``, ``metadata.name`` and ``metadata.namespace``, which client-go's
extract functions always set). Applying the result back unchanged changes nothing, and
applying a changed copy changes only what was changed: the round trip get -> extract ->
change -> apply.

The ``FieldsV1`` tree is walked beside the live value and the configuration's type:

* a struct or a granular map keeps only its owned fields (an owned empty struct stays ``{}``);
* a keyed list keeps the items whose ``k:`` token matches (keys compared as the canonical
  token :func:`kgen.meta._fieldsv1.item_token` writes, absent keys taking their schema
  default), each with its key fields even where the manager does not own them, as client-go's
  ``WithAppendKeyFields``; a set keeps the owned values (``v:``); ``i:`` tokens pick by index;
* everything else (scalars, atomic lists and atomic objects, and values the type says nothing
  about) is copied whole when owned.

Pure and thread-safe: the object is never mutated; shapes of configuration classes are read
once and cached.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from kgen.meta._applyconfig import ApplyConfiguration, KeyedList, ListType
from kgen.meta._fieldsv1 import FieldsError, from_fields_v1, item_token, value_token
from kgen.meta._model import encode

__all__ = ["ExtractError", "extract"]

A = TypeVar("A", bound=ApplyConfiguration)


class ExtractError(ValueError):
    """The object cannot be read back (no metadata, malformed managedFields); says where."""


@dataclass(frozen=True)
class _Shape:
    """What the walk needs of a type: ``fields`` of a struct (wire name -> shape), ``value``
    of a granular map, ``items`` and ``list_type`` of a granular list; leaves have none."""

    kind: str  # "struct", "map", "list" or "leaf"
    fields: Mapping[str, _Shape] | None = None
    value: _Shape | None = None
    items: _Shape | None = None
    list_type: ListType | None = None


_LEAF = _Shape("leaf")
_lock = threading.RLock()
"""Held while a class's shape is read, so no thread sees one half-built."""
_shapes: dict[type, _Shape] = {}


def _shape_for(cls: type[ApplyConfiguration]) -> _Shape:
    with _lock:
        found = _shapes.get(cls)
        if found is not None:
            return found
        info = msgspec.inspect.type_info(cls)
        assert isinstance(info, msgspec.inspect.StructType)
        return _struct_shape(cls, info)


def _shape_of(info: msgspec.inspect.Type, list_type: ListType | None = None) -> _Shape:
    if isinstance(info, msgspec.inspect.UnionType):
        parts = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        return _shape_of(parts[0], list_type) if len(parts) == 1 else _LEAF
    if isinstance(info, msgspec.inspect.StructType) and issubclass(info.cls, ApplyConfiguration):
        return _struct_shape(info.cls, info)
    if isinstance(info, msgspec.inspect.DictType):
        return _Shape("map", value=_shape_of(info.value_type))
    if isinstance(info, msgspec.inspect.VarTupleType | msgspec.inspect.ListType):
        if list_type is None:
            return _LEAF
        return _Shape("list", items=_shape_of(info.item_type), list_type=list_type)
    return _LEAF


def _struct_shape(cls: type[ApplyConfiguration], info: msgspec.inspect.StructType) -> _Shape:
    with _lock:
        found = _shapes.get(cls)
        if found is not None:
            return found
        if cls._atomic:
            _shapes[cls] = _LEAF
            return _LEAF
        fields: dict[str, _Shape] = {}
        # entered before its fields, so recursive types (JSONSchemaProps) find themselves
        shape = _shapes[cls] = _Shape("struct", fields=fields)
        lists = cls._lists
        for f in info.fields:
            fields[f.encode_name] = _shape_of(f.type, lists.get(f.encode_name))
        return shape


def _walk(node: Mapping[str, Any], value: Any, shape: _Shape | None) -> Any:
    """The part of ``value`` the ``FieldsV1`` ``node`` owns."""
    kind = "leaf" if shape is None else shape.kind
    members = [t for t in node if t != "."]
    if kind == "leaf" and not members:
        return value
    if isinstance(value, dict) and kind in ("struct", "map", "leaf"):
        out: dict[str, Any] = {}
        for token in members:
            if not token.startswith("f:") or token[2:] not in value:
                continue
            key = token[2:]
            child = value[key]
            if child is None:
                continue
            sub: _Shape | None = None
            if shape is not None and shape.fields is not None:
                sub = shape.fields.get(key)
            elif shape is not None:
                sub = shape.value
            out[key] = _walk(node[token], child, sub)
        return out
    if isinstance(value, list):
        return _walk_list(node, members, value, shape)
    return value


def _walk_list(
    node: Mapping[str, Any], members: list[str], value: list[Any], shape: _Shape | None
) -> list[Any]:
    items = None if shape is None else shape.items
    keyed = None if shape is None or not isinstance(shape.list_type, tuple) else shape.list_type
    out: list[Any] = []
    wanted = set(members)
    for index, item in enumerate(value):
        token = _token_of(item, index, wanted, keyed)
        if token is None:
            continue
        wanted.discard(token)
        part = _walk(node[token], item, items)
        if token.startswith("k:") and isinstance(item, dict) and isinstance(part, dict):
            for key in json.loads(token[2:]):
                if key in item:
                    part.setdefault(key, item[key])
        out.append(part)
    return out


def _token_of(item: Any, index: int, wanted: set[str], keyed: KeyedList | None) -> str | None:
    """The member token naming ``item``, if the manager owns it."""
    if f"i:{index}" in wanted:
        return f"i:{index}"
    if value_token(item) in wanted:
        return value_token(item)
    if not isinstance(item, dict):
        return None
    key_sets = {tuple(json.loads(t[2:])) for t in wanted if t.startswith("k:")}
    defaults: Mapping[str, object] = keyed[1] if keyed is not None else {}
    if keyed is not None:
        key_sets.add(keyed[0])
    for keys in key_sets:
        values = {k: item.get(k, defaults.get(k)) for k in keys}
        token = item_token({k: v for k, v in values.items() if v is not None})
        if token in wanted:
            return token
    return None


def _managed_fields(live: Mapping[str, Any], manager: str, subresource: str) -> Any:
    metadata = live.get("metadata")
    if not isinstance(metadata, Mapping):
        raise ExtractError("extract: the object has no metadata")
    entries = metadata.get("managedFields") or []
    if not isinstance(entries, list):
        raise ExtractError("extract: metadata.managedFields is not a list")
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ExtractError(f"extract: metadata.managedFields[{index}] is not an object")
        if (
            entry.get("manager") == manager
            and entry.get("operation") == "Apply"
            and (entry.get("subresource") or "") == subresource
        ):
            if entry.get("fieldsType", "FieldsV1") != "FieldsV1":
                raise ExtractError(
                    f"extract: metadata.managedFields[{index}] has fieldsType "
                    f"{entry.get('fieldsType')!r}, not 'FieldsV1'"
                )
            tree = entry.get("fieldsV1") or {}
            try:
                from_fields_v1(tree)
            except FieldsError as exc:
                raise ExtractError(f"extract: metadata.managedFields[{index}]: {exc}") from None
            return tree
    return {}


def extract(obj: object, field_manager: str, into: type[A], subresource: str = "") -> A:
    """The apply configuration of type ``into`` that ``field_manager`` owns in ``obj``.

    ``obj`` is a model or its JSON as a mapping (only read). ``subresource`` is ``""`` for
    the main resource and ``"status"`` for what ``apply_status`` wrote. A manager that owns
    nothing gives a configuration with only the identity fields. Raises :class:`ExtractError`
    for an object without metadata or with malformed managedFields, and ``msgspec``'s
    ``ValidationError`` (naming the path) when owned values do not fit ``into``.
    """
    if not field_manager:
        raise ExtractError("extract: field_manager must not be empty")
    live = dict(obj) if isinstance(obj, Mapping) else msgspec.json.decode(encode(obj))
    if not isinstance(live, dict):
        raise ExtractError(f"extract: expected an object, got {type(obj).__name__}")
    tree = _managed_fields(live, field_manager, subresource)
    shape = _shape_for(into)
    owned = _walk(tree, live, shape)
    if not isinstance(owned, dict):
        owned = {}
    metadata = owned.setdefault("metadata", {})
    for key in ("name", "namespace"):
        if live["metadata"].get(key):
            metadata[key] = live["metadata"][key]
    for key in ("apiVersion", "kind"):
        if live.get(key):
            owned[key] = live[key]
    return msgspec.convert(owned, into)
