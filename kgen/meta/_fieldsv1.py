"""Field paths and their two wire forms: ``FieldsV1`` trees and the dotted text of conflicts.

Shared by kgen.testing's server-side apply and by :mod:`kgen.meta._extract` (reading the fields
a manager owns back out of ``metadata.managedFields``).

A path is a tuple of tokens, one per step from the object's root:

* ``f:<name>`` a field of an object (a struct field or a map key);
* ``k:<json>`` the item of a keyed list (``x-kubernetes-list-type: map``) whose key fields have
  these values, e.g. ``k:{"name":"web"}`` (key fields sorted by name, compact JSON);
* ``v:<json>`` the item of a set list (``x-kubernetes-list-type: set``) with this value.

A field set is a Python ``set`` of paths. A ``FieldsV1`` tree nests one JSON object per token;
``{}`` marks a member that has no members below it, and ``"."`` marks a member that has (the
encoding kube-apiserver stores in ``metadata.managedFields``). Functions here are pure and
never mutate their arguments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "FieldsError",
    "Path",
    "from_fields_v1",
    "item_token",
    "path_text",
    "to_fields_v1",
    "value_token",
]

Path = tuple[str, ...]


class FieldsError(ValueError):
    """A ``FieldsV1`` tree is malformed (the message says where)."""


def item_token(keys: Mapping[str, Any]) -> str:
    """The ``k:`` token of a keyed-list item whose key fields have the values ``keys``."""
    return "k:" + json.dumps(dict(sorted(keys.items())), separators=(",", ":"))


def value_token(value: Any) -> str:
    """The ``v:`` token of a set-list item."""
    return "v:" + json.dumps(value, separators=(",", ":"))


def _token_order(token: str) -> tuple[int, str]:
    # fields, then keyed items, then set items; "." (the node itself) first of all
    return ({".": 0, "f": 1, "k": 2, "v": 3}.get(token[0], 4), token)


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """The ``FieldsV1`` tree of a field set, children in kube-apiserver's order."""
    root: dict[str, Any] = {}
    members: list[Path] = []
    for path in paths:
        node = root
        for token in path:
            node = node.setdefault(token, {})
        members.append(path)
    for path in members:
        node = root
        for token in path:
            node = node[token]
        if node and "." not in node:
            node["."] = {}
    return _sorted(root)


def _sorted(node: dict[str, Any]) -> dict[str, Any]:
    return {key: _sorted(node[key]) for key in sorted(node, key=_token_order)}


def from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    """The field set a ``FieldsV1`` tree encodes; :class:`FieldsError` when it is malformed."""
    if not isinstance(tree, Mapping):
        raise FieldsError(f"expected an object at {path_text(prefix) or 'the root'}")
    paths: set[Path] = set()
    for token, child in tree.items():
        if token == ".":
            if prefix:
                paths.add(prefix)
            continue
        if not isinstance(token, str) or token[:2] not in ("f:", "k:", "v:", "i:"):
            raise FieldsError(f"unexpected key {token!r} at {path_text(prefix) or 'the root'}")
        if token[:2] in ("k:", "v:"):
            try:
                json.loads(token[2:])
            except ValueError:
                raise FieldsError(f"invalid JSON in {token!r}") from None
        path = (*prefix, token)
        if isinstance(child, Mapping) and child:
            paths |= from_fields_v1(child, path)
        elif isinstance(child, Mapping):
            paths.add(path)
        else:
            raise FieldsError(f"expected an object at {path_text(path)}")
    return paths


def path_text(path: Path) -> str:
    """A path as conflict messages print it: ``.spec.containers[name="web"].image``."""
    parts: list[str] = []
    for token in path:
        kind, rest = token[:2], token[2:]
        if kind == "f:":
            parts.append("." + rest)
        elif kind == "k:":
            keys = json.loads(rest)
            parts.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]")
        elif kind == "v:":
            parts.append(f"[={json.dumps(json.loads(rest))}]")
        else:
            parts.append(f"[{rest}]")
    return "".join(parts)
