"""JSON values read through their schema, the way server-side apply reads them.

A schema makes each node of a value one of four shapes:

* a leaf: a scalar, an atomic object (``x-kubernetes-map-type: atomic``) or an atomic list
  (``x-kubernetes-list-type: atomic``, or a list with neither a list type nor a merge strategy),
  owned and replaced as one value;
* a granular object: a struct (declared ``properties``) or a map (``additionalProperties``), or
  any object where the schema says nothing (``x-kubernetes-preserve-unknown-fields``), whose
  fields are owned and merged one by one;
* a keyed list (``x-kubernetes-list-type: map`` with ``x-kubernetes-list-map-keys``, or a
  ``merge`` patch strategy with a ``x-kubernetes-patch-merge-key``), merged item by item by key;
* a set (``x-kubernetes-list-type: set``, or ``merge`` with no merge key), merged by value.

:class:`Shapes` offers the five walks server-side apply is made of: the field set of a value,
the named-field closure of a field set, the comparison of two values, the merge of an applied
configuration into a live value, and the removal of a field set from a value. Walks return new
values and never mutate their inputs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kgen.meta._fieldsv1 import Path, item_token, path_text, value_token
from kgen.testing._schema import ListMerge, SchemaView

__all__ = ["Comparison", "ShapeError", "Shapes"]

JSON = dict[str, Any]
_LEAF, _OBJECT, _SET, _KEYED = "leaf", "object", "set", "keyed"
_ABSENT: Any = object()
"""Marks a side of a comparison or merge where the field is not there at all."""


class ShapeError(ValueError):
    """A value does not fit its schema well enough to be owned (a keyed list item without
    its key, ...); the message names the path."""


@dataclass
class Comparison:
    """What changed from one value to another, as field sets: a path appears in at most one."""

    added: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)


class Shapes:
    """The walks of server-side apply over values of the schemas of ``view``.

    A ``Shapes`` remembers what it has read of the schemas: make one per operation (schemas
    may change between operations when CRDs are installed). Not thread-safe.
    """

    def __init__(self, view: SchemaView) -> None:
        self._view = view
        self._resolved: dict[int, tuple[Mapping[str, Any], JSON]] = {}
        self._merges: dict[int, ListMerge] = {}

    # --- schema reading -----------------------------------------------------------------------

    def _resolve(self, schema: Mapping[str, Any]) -> JSON:
        found = self._resolved.get(id(schema))
        if found is None:  # keep the schema alive with its entry, so its id is not reused
            found = self._resolved[id(schema)] = (schema, self._view.resolve(schema))
        return found[1]

    def _list_merge(self, schema: Mapping[str, Any]) -> ListMerge:
        merge = self._merges.get(id(schema))
        if merge is None:
            merge = self._merges[id(schema)] = self._view.list_merge(
                self._resolve(schema), for_apply=True
            )
        return merge

    def _shape(self, schema: Mapping[str, Any] | None, value: Any) -> str:
        if schema is None:  # nothing declared: objects are granular, lists atomic
            return _OBJECT if isinstance(value, dict) else _LEAF
        resolved = self._resolve(schema)
        if resolved.get("x-kubernetes-int-or-string"):
            return _LEAF
        kind = resolved.get("type")
        if kind == "array" or "items" in resolved:
            return {"set": _SET, "map": _KEYED}.get(self._list_merge(schema).kind, _LEAF)
        if kind == "object" or "properties" in resolved or "additionalProperties" in resolved:
            return _LEAF if resolved.get("x-kubernetes-map-type") == "atomic" else _OBJECT
        return _OBJECT if isinstance(value, dict) and kind is None else _LEAF

    def _field(self, schema: Mapping[str, Any] | None, key: str) -> tuple[Any, bool]:
        """The schema of field ``key`` and whether it is a declared struct field."""
        if schema is None:
            return None, False
        resolved = self._resolve(schema)
        properties = resolved.get("properties") or {}
        if key in properties:
            return properties[key], True
        extra = resolved.get("additionalProperties")
        return (extra if isinstance(extra, Mapping) else None), False

    def _items(self, schema: Mapping[str, Any] | None) -> Any:
        if schema is None:
            return None
        items = self._resolve(schema).get("items")
        return items if isinstance(items, Mapping) else None

    def _token(
        self, item: Any, shape: str, schema: Mapping[str, Any] | None, where: Path, index: int
    ) -> str:
        if shape == _SET or schema is None:
            return value_token(item)
        keys = self._list_merge(schema).keys
        if not isinstance(item, dict):
            raise ShapeError(f"{path_text(where)}: element {index}: expected an object")
        item_schema = self._items(schema)
        properties = self._resolve(item_schema).get("properties") or {} if item_schema else {}
        values: dict[str, Any] = {}
        for key in keys:
            if item.get(key) is not None:
                values[key] = item[key]
            elif isinstance(properties.get(key), Mapping) and "default" in properties[key]:
                values[key] = properties[key]["default"]
        if not values:
            raise ShapeError(
                f"{path_text(where)}: element {index}: associative list with keys has an "
                f"element that omits all key fields {json.dumps(list(keys))}"
            )
        return item_token(values)

    def _indexed(
        self, value: Any, shape: str, schema: Mapping[str, Any] | None, where: Path
    ) -> dict[str, Any]:
        """The items of a keyed or set list by token (the first of duplicates wins)."""
        out: dict[str, Any] = {}
        for index, item in enumerate(value if isinstance(value, list) else ()):
            out.setdefault(self._token(item, shape, schema, where, index), item)
        return out

    # --- field sets ---------------------------------------------------------------------------

    def field_set(self, value: Any, schema: Mapping[str, Any] | None) -> set[Path]:
        """The paths ``value`` sets: leaves, list items, and map entries (not struct fields
        that only hold other fields, nor empty or null granular objects and lists)."""
        out: set[Path] = set()
        self._field_set(value, schema, (), out)
        return out

    def _field_set(
        self, value: Any, schema: Mapping[str, Any] | None, path: Path, out: set[Path]
    ) -> None:
        shape = self._shape(schema, value)
        if shape == _OBJECT and isinstance(value, dict):
            for key, child in value.items():
                sub, declared = self._field(schema, key)
                child_path = (*path, f"f:{key}")
                self._field_set(child, sub, child_path, out)
                if not declared:
                    out.add(child_path)
        elif shape in (_SET, _KEYED) and isinstance(value, list):
            items = self._items(schema)
            for index, item in enumerate(value):
                item_path = (*path, self._token(item, shape, schema, path, index))
                self._field_set(item, items, item_path, out)
                out.add(item_path)
        elif shape != _LEAF and value is None:
            return
        elif path:
            out.add(path)

    def with_named_fields(
        self, paths: Iterable[Path], schema: Mapping[str, Any] | None
    ) -> set[Path]:
        """``paths`` plus every declared struct field above one of them (the closure removal
        works on: a struct field holding owned fields counts as present)."""
        out = set(paths)
        schemas: dict[Path, Any] = {(): schema}
        for path in list(out):
            for size in range(1, len(path)):
                above = path[:size]
                if above in out or not above[-1].startswith("f:"):
                    continue
                parent = self._schema_at(above[:-1], schemas)
                if self._field(parent, above[-1][2:])[1]:
                    out.add(above)
        return out

    def _schema_at(self, path: Path, cache: dict[Path, Any]) -> Any:
        if path in cache:
            return cache[path]
        parent = self._schema_at(path[:-1], cache)
        token = path[-1]
        found = self._field(parent, token[2:])[0] if token.startswith("f:") else self._items(parent)
        cache[path] = found
        return found

    def nodes(self, value: Any, schema: Mapping[str, Any] | None) -> set[Path]:
        """Every path of ``value`` that removal can address."""
        return self.with_named_fields(self.field_set(value, schema), schema)

    # --- comparison ---------------------------------------------------------------------------

    def compare(self, old: Any, new: Any, schema: Mapping[str, Any] | None) -> Comparison:
        """Leaves added, modified and removed from ``old`` to ``new``; an object or list item
        that appears or disappears is itself added or removed too."""
        result = Comparison()
        self._compare(old, new, schema, (), result)
        return result

    def _pair_shape(self, schema: Mapping[str, Any] | None, old: Any, new: Any) -> str:
        shapes = {self._shape(schema, v) for v in (old, new) if v is not _ABSENT}
        return shapes.pop() if len(shapes) == 1 else _LEAF

    def _compare(
        self, old: Any, new: Any, schema: Mapping[str, Any] | None, path: Path, out: Comparison
    ) -> None:
        shape = self._pair_shape(schema, old, new)
        container = dict if shape == _OBJECT else list
        sides = [v for v in (old, new) if v is not _ABSENT and v is not None]
        granular = (
            shape != _LEAF
            and all(isinstance(v, container) for v in sides)
            and any(len(v) for v in sides)
        )
        if not granular:
            if old is _ABSENT and new is not _ABSENT:
                out.added.add(path)
            elif new is _ABSENT and old is not _ABSENT:
                out.removed.add(path)
            elif old is not _ABSENT and old != new:
                out.modified.add(path)
            return
        if shape == _OBJECT:
            left = old if isinstance(old, dict) else {}
            right = new if isinstance(new, dict) else {}
            for key in {**left, **right}:
                self._compare(
                    left.get(key, _ABSENT),
                    right.get(key, _ABSENT),
                    self._field(schema, key)[0],
                    (*path, f"f:{key}"),
                    out,
                )
        else:
            left = self._indexed(old, shape, schema, path)
            right = self._indexed(new, shape, schema, path)
            items = self._items(schema)
            for token in {**left, **right}:
                self._compare(
                    left.get(token, _ABSENT), right.get(token, _ABSENT), items, (*path, token), out
                )
        if old is _ABSENT:
            out.added.add(path)
        elif new is _ABSENT:
            out.removed.add(path)

    # --- merge --------------------------------------------------------------------------------

    def merge(self, live: Any, applied: Any, schema: Mapping[str, Any] | None) -> Any:
        """``applied`` merged into ``live`` (a new value): granular objects field by field,
        keyed lists by key and sets by value (applied order first, live-only items kept where
        they were), everything else replaced. Fields applied as ``null`` are left out."""
        return self._merge(live, applied, schema, ())

    def _merge(self, live: Any, applied: Any, schema: Mapping[str, Any] | None, path: Path) -> Any:
        shape = self._pair_shape(schema, live, applied)
        container = dict if shape == _OBJECT else list
        sides = [v for v in (live, applied) if v is not _ABSENT and v is not None]
        granular = (
            shape != _LEAF
            and all(isinstance(v, container) for v in sides)
            and any(len(v) for v in sides)
        )
        if not granular:
            return copy.deepcopy(applied)
        if shape == _OBJECT:
            left = live if isinstance(live, dict) else {}
            right = applied if isinstance(applied, dict) else {}
            merged: dict[str, Any] = {}
            for key in {**left, **right}:
                if key not in right:
                    merged[key] = copy.deepcopy(left[key])
                    continue
                value = self._merge(
                    left.get(key, _ABSENT),
                    right[key],
                    self._field(schema, key)[0],
                    (*path, f"f:{key}"),
                )
                if value is not None:
                    merged[key] = value
            return merged
        left_items = self._indexed(live, shape, schema, path)
        right_items = self._indexed(applied, shape, schema, path)
        items = self._items(schema)
        out: list[Any] = []
        for token in _merge_order(list(left_items), list(right_items)):
            if token not in right_items:
                out.append(copy.deepcopy(left_items[token]))
            else:
                out.append(
                    self._merge(
                        left_items.get(token, _ABSENT), right_items[token], items, (*path, token)
                    )
                )
        return out

    # --- removal ------------------------------------------------------------------------------

    def remove(self, value: Any, paths: set[Path], schema: Mapping[str, Any] | None) -> Any:
        """``value`` without the nodes at ``paths`` (and all below them); objects and lists
        left empty by the removal are dropped too."""
        if not paths:
            return copy.deepcopy(value)
        above = {path[:size] for path in paths for size in range(len(path))}
        result = self._remove(value, schema, (), paths, above)
        return {} if result is None else result

    def _remove(
        self,
        value: Any,
        schema: Mapping[str, Any] | None,
        path: Path,
        paths: set[Path],
        above: set[Path],
    ) -> Any:
        shape = self._shape(schema, value)
        if shape == _OBJECT and isinstance(value, dict):
            kept: dict[str, Any] = {}
            for key, child in value.items():
                child_path = (*path, f"f:{key}")
                if child_path in paths:
                    continue
                if child_path in above:
                    child = self._remove(
                        child, self._field(schema, key)[0], child_path, paths, above
                    )
                    if child is None:
                        continue
                    kept[key] = child
                else:
                    kept[key] = copy.deepcopy(child)
            return kept or None
        if shape in (_SET, _KEYED) and isinstance(value, list):
            items = self._items(schema)
            survivors: list[Any] = []
            for index, item in enumerate(value):
                item_path = (*path, self._token(item, shape, schema, path, index))
                if item_path in paths:
                    continue
                if item_path in above:
                    item = self._remove(item, items, item_path, paths, above)
                    if item is None:
                        continue
                    survivors.append(item)
                else:
                    survivors.append(copy.deepcopy(item))
            return survivors or None
        return copy.deepcopy(value)


def _merge_order(live: list[str], applied: list[str]) -> list[str]:
    """The item order of a merged list: applied items in applied order, live-only items kept
    after the live items they followed."""
    applied_set, live_set = set(applied), set(live)
    shared = [token for token in applied if token in live_set]
    next_shared = 0
    out: list[str] = []
    done: set[str] = set()
    li = ri = 0
    while li < len(live) or ri < len(applied):
        if li < len(live) and ri < len(applied):
            token = live[li]
            if token == applied[ri]:
                out.append(token)
                done.add(token)
                li, ri, next_shared = li + 1, ri + 1, next_shared + 1
                continue
            waiting = shared[next_shared] if next_shared < len(shared) else None
            if token in applied_set and waiting is not None and waiting != token:
                li += 1
                continue
        if li < len(live):
            token = live[li]
            if token not in applied_set:
                out.append(token)
                li += 1
                continue
            if token in done:
                li += 1
                continue
        if ri < len(applied):
            token = applied[ri]
            out.append(token)
            done.add(token)
            ri += 1
            if next_shared < len(shared) and shared[next_shared] == token:
                next_shared += 1
    return out
