"""The three patch formats of the Kubernetes API, applied to JSON values.

* :func:`json_patch`: RFC 6902 operations (``add``, ``remove``, ``replace``, ``move``, ``copy``,
  ``test``) with RFC 6901 pointers.
* :func:`merge_patch`: RFC 7386 (objects merge, ``null`` deletes, everything else replaces).
* :func:`strategic_merge_patch`: Kubernetes' strategic merge patch, where lists merge by the
  schema's ``x-kubernetes-patch-strategy``/``x-kubernetes-patch-merge-key`` and the directives
  ``$patch``, ``$retainKeys``, ``$setElementOrder/<field>`` and ``$deleteFromPrimitiveList/<field>``
  are honoured.

Functions return a new value and never mutate their inputs. A patch that cannot be applied
raises :class:`PatchError` with a message naming the operation or path at fault.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kgen.testing._schema import SchemaView

__all__ = ["PatchError", "json_patch", "merge_patch", "strategic_merge_patch"]

_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"


class PatchError(ValueError):
    """A patch is malformed or does not apply to the object."""


# --- RFC 6902 ---------------------------------------------------------------------------------


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer {path!r}: must be empty or start with '/'")
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, path: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r} in {path!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not allow_end):
        raise PatchError(f"array index {index} out of range in {path!r}")
    return index


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    current = doc
    for token in tokens[:-1]:
        if isinstance(current, dict):
            if token not in current:
                raise PatchError(f"path {path!r} does not exist (missing {token!r})")
            current = current[token]
        elif isinstance(current, list):
            current = current[_index(current, token, path, False)]
        else:
            raise PatchError(f"path {path!r} goes through a value that is not a container")
    return current


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path {path!r} does not exist")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, path, False)]
    raise PatchError(f"path {path!r} does not exist")


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, tokens[-1], path, True), value)
    else:
        raise PatchError(f"cannot add at {path!r}: parent is not an object or array")
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    tokens = _pointer(path)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, tokens, path)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise PatchError(f"cannot remove {path!r}: it does not exist")
        return doc, parent.pop(tokens[-1])
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, tokens[-1], path, False))
    raise PatchError(f"cannot remove {path!r}: parent is not an object or array")


def json_patch(document: Any, operations: Any) -> Any:
    """Apply RFC 6902 ``operations`` (a list of operation objects) to a copy of ``document``."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a JSON array of operations")
    doc = copy.deepcopy(document)
    for number, op in enumerate(operations):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"operation {number} must be an object with 'op' and 'path'")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"operation {number} ({kind} {path}) is missing 'value'")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc, _ = _remove(doc, path)
        elif kind == "replace":
            doc, _ = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            if "from" not in op:
                raise PatchError(f"operation {number} ({kind} {path}) is missing 'from'")
            if kind == "move":
                doc, value = _remove(doc, op["from"])
            else:
                value = copy.deepcopy(_get(doc, op["from"]))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError(f"test operation {number} failed: value at {path!r} differs")
        else:
            raise PatchError(f"operation {number} has unknown op {kind!r}")
    return doc


# --- RFC 7386 ---------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch; returns a new value."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- strategic merge patch --------------------------------------------------------------------


def strategic_merge_patch(
    target: Any, patch: Any, schema: Mapping[str, Any] | None, schemas: SchemaView
) -> Any:
    """Apply a strategic merge patch to ``target`` whose schema is ``schema``."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    return _merge_map(target if isinstance(target, dict) else {}, patch, schema, schemas)


def _merge_map(
    target: dict[str, Any],
    patch: dict[str, Any],
    schema: Mapping[str, Any] | None,
    view: SchemaView,
) -> Any:
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip({k: v for k, v in patch.items() if k != "$patch"})
    if directive == "delete":
        return None
    if directive is not None:
        raise PatchError(f"unknown $patch directive {directive!r} in a map")
    result = copy.deepcopy(target)
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith(_SET_ORDER):
            continue
        if key.startswith(_DELETE_PRIMITIVES):
            field = key[len(_DELETE_PRIMITIVES) :]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        child = view.child(schema, key) if schema is not None else None
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            merged = _merge_map(result[key], value, child, view)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, child, view)
            order = patch.get(_SET_ORDER + key)
            if isinstance(order, list):
                result[key] = _reorder(result[key], order, view.list_merge(child, False).keys)
        else:
            result[key] = _strip(value)
    if isinstance(retain, list):
        for key in list(result):
            if key not in retain:
                del result[key]
    return result


def _merge_list(
    target: list[Any], patch: list[Any], schema: Mapping[str, Any] | None, view: SchemaView
) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    merge = view.list_merge(schema, for_apply=False) if schema is not None else None
    if merge is None or merge.kind == "atomic":
        return [_strip(i) for i in patch]
    if merge.kind == "set" or not merge.keys:
        result = list(target)
        for item in patch:
            if item not in result:
                result.append(_strip(item))
        return result
    key = merge.keys[0]
    items = view.items(schema)
    result = copy.deepcopy(target)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PatchError(f"list item {item!r} has no merge key {key!r}")
        position = next(
            (
                i
                for i, have in enumerate(result)
                if isinstance(have, dict) and have.get(key) == item[key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if position is not None:
                result.pop(position)
            continue
        if position is None:
            result.append(_strip(item))
        else:
            result[position] = _merge_map(result[position], item, items, view)
    return result


def _reorder(items: list[Any], order: list[Any], keys: tuple[str, ...]) -> list[Any]:
    if not keys:
        ranked = {repr(v): n for n, v in enumerate(order)}
        return sorted(items, key=lambda v: ranked.get(repr(v), len(ranked)))
    key = keys[0]
    ranked = {repr(o.get(key)): n for n, o in enumerate(order) if isinstance(o, dict)}
    return sorted(
        items,
        key=lambda v: ranked.get(repr(v.get(key)) if isinstance(v, dict) else "", len(ranked)),
    )


def _strip(value: Any) -> Any:
    """A copy of a patch value with every ``$`` directive removed."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
