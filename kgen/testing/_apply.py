"""Field ownership (``metadata.managedFields``) and server-side apply.

Each write records which manager set which fields, in the ``FieldsV1`` form kube-apiserver
uses (``f:<field>``, ``k:<keys>`` for items of keyed lists, ``v:<value>`` for set items, ``.``
for "this node itself"). An apply by manager M:

* conflicts (409, one cause per field) when it sets a field another manager owns to a
  different value, unless forced, in which case ownership moves to M;
* merges the applied configuration into the live object (keyed lists by their keys, sets by
  value, everything else replaced);
* removes fields M applied before, no longer applies, and nobody else owns.

``metadata`` fields other than labels, annotations, finalizers and ownerReferences are not
owned, nor are ``apiVersion``/``kind``. Functions mutate only the object they are given to
update; callers pass copies. Thread-safety is the caller's (the tracker holds the store lock).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from kgen.testing._errors import APIError
from kgen.testing._schema import SchemaView

__all__ = ["FieldManager"]

JSON = dict[str, Any]
Path = tuple[str, ...]

_OWNED_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")


def _key_token(item: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    present = {k: item[k] for k in sorted(keys) if k in item}
    return "k:" + json.dumps(present, separators=(",", ":"))


def _manager_text(entry: Mapping[str, Any]) -> str:
    """How a conflict message names a manager: Update managers with version and time."""
    text = json.dumps(str(entry.get("manager", "")))
    if entry.get("subresource"):
        text += f' with subresource "{entry["subresource"]}"'
    if entry.get("operation") == "Update":
        text += f" using {entry.get('apiVersion', '')}"
        if entry.get("time"):
            text += f" at {entry['time']}"
    return text


class FieldManager:
    """Computes field sets and carries out applies against one set of schemas."""

    def __init__(self, schemas: SchemaView) -> None:
        self._view = schemas

    # --- field sets ---------------------------------------------------------------------------

    def field_set(self, obj: JSON, schema: Mapping[str, Any] | None) -> dict[Path, Any]:
        """Every owned leaf (and keyed item) path of ``obj`` with its value."""
        out: dict[Path, Any] = {}
        for key, value in obj.items():
            if key in ("apiVersion", "kind"):
                continue
            if key == "metadata" and isinstance(value, dict):
                for meta_key in _OWNED_METADATA:
                    if meta_key in value:
                        child = self._view.child(self._view.child(schema, "metadata"), meta_key)
                        self._walk(value[meta_key], child, ("f:metadata", f"f:{meta_key}"), out)
                continue
            self._walk(value, self._view.child(schema, key), (f"f:{key}",), out)
        return out

    def _walk(
        self, value: Any, schema: Mapping[str, Any] | None, path: Path, out: dict[Path, Any]
    ) -> None:
        if (
            isinstance(value, dict)
            and value
            and not (
                schema is not None
                and self._view.resolve(schema).get("x-kubernetes-map-type") == "atomic"
            )
        ):
            for key, child in value.items():
                self._walk(child, self._view.child(schema, key), (*path, f"f:{key}"), out)
            return
        if isinstance(value, list) and value:
            merge = self._view.list_merge(schema, for_apply=True) if schema is not None else None
            if (
                merge is not None
                and merge.kind == "map"
                and all(isinstance(i, dict) for i in value)
            ):
                item_schema = self._view.items(schema)
                for item in value:
                    item_path = (*path, _key_token(item, merge.keys))
                    out[item_path] = None
                    for key, child in item.items():
                        self._walk(
                            child, self._view.child(item_schema, key), (*item_path, f"f:{key}"), out
                        )
                return
            if merge is not None and merge.kind == "set":
                for item in value:
                    out[(*path, "v:" + json.dumps(item, separators=(",", ":")))] = item
                return
        out[path] = value

    @staticmethod
    def to_fields_v1(paths: set[Path]) -> JSON:
        root: JSON = {}
        for path in sorted(paths):
            node = root
            for part in path:
                node = node.setdefault(part, {})
        for path in paths:
            node = root
            for part in path:
                node = node[part]
            if node:
                node["."] = {}
        return root

    @staticmethod
    def from_fields_v1(tree: Mapping[str, Any], prefix: Path = ()) -> set[Path]:
        paths: set[Path] = set()
        for key, child in tree.items():
            if key == ".":
                paths.add(prefix)
            elif isinstance(child, Mapping) and child:
                paths |= FieldManager.from_fields_v1(child, (*prefix, key))
            else:
                paths.add((*prefix, key))
        return paths

    # --- managedFields bookkeeping ------------------------------------------------------------

    def _entries(self, obj: JSON) -> list[JSON]:
        entries = obj.setdefault("metadata", {}).get("managedFields")
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    def _set_entries(self, obj: JSON, entries: list[JSON]) -> None:
        kept = [e for e in entries if e.get("fieldsV1")]
        if kept:
            obj["metadata"]["managedFields"] = kept
        else:
            obj["metadata"].pop("managedFields", None)

    def record_update(
        self,
        old: JSON | None,
        new: JSON,
        manager: str,
        api_version: str,
        subresource: str | None,
        now: str,
        operation: str,
        schema: Mapping[str, Any] | None = None,
    ) -> None:
        """Give ``manager`` the fields this write changed, taking them from other managers.

        ``managedFields`` sent by the client are kept when they differ from the stored ones
        (a client may reset them), as the real server does.
        """
        sent = new.get("metadata", {}).get("managedFields")
        before = self._entries(old) if old is not None else []
        if sent is not None and old is not None and sent != old["metadata"].get("managedFields"):
            before = [e for e in sent if isinstance(e, dict)]
        new_fields = self.field_set(new, schema)
        old_fields = self.field_set(old, schema) if old is not None else {}
        changed = {
            p for p, v in new_fields.items() if p not in old_fields or old_fields[p] != v
        } | {p for p in old_fields if p not in new_fields}
        entries = [copy.deepcopy(e) for e in before]
        if not changed:
            self._set_entries(new, entries)
            return
        mine = None
        for entry in entries:
            owned = self.from_fields_v1(entry.get("fieldsV1") or {})
            if (
                entry.get("manager") == manager
                and entry.get("operation") == operation
                and entry.get("subresource") == subresource
            ):
                mine = entry
                continue
            remaining = owned - changed
            if remaining != owned:
                entry["fieldsV1"] = self.to_fields_v1(remaining)
        if mine is None:
            mine = {"manager": manager, "operation": operation, "apiVersion": api_version}
            if subresource:
                mine["subresource"] = subresource
            entries.append(mine)
        owned = self.from_fields_v1(mine.get("fieldsV1") or {})
        owned = (owned | {p for p in changed if p in new_fields}) - {
            p for p in changed if p not in new_fields
        }
        mine.update(
            time=now,
            fieldsType="FieldsV1",
            fieldsV1=self.to_fields_v1(owned),
            apiVersion=api_version,
        )
        self._set_entries(new, entries)

    # --- apply --------------------------------------------------------------------------------

    def apply(
        self,
        live: JSON,
        applied: JSON,
        manager: str,
        api_version: str,
        subresource: str | None,
        force: bool,
        schema: Mapping[str, Any] | None,
        now: str,
        initial: bool = False,
    ) -> JSON:
        """Apply ``applied`` for ``manager`` to ``live``; returns the merged object with its
        ``managedFields`` updated. Raises 409 Conflict listing each contested field."""
        applied_fields = self.field_set(applied, schema)
        live_fields = self.field_set(live, schema)
        entries = [copy.deepcopy(e) for e in self._entries(live)]
        previous: set[Path] = set()
        conflicts: list[tuple[JSON, Path]] = []
        others: list[tuple[JSON, set[Path]]] = []
        for entry in entries:
            owned = self.from_fields_v1(entry.get("fieldsV1") or {})
            if entry.get("manager") == manager and entry.get("operation") == "Apply":
                previous = owned
                continue
            others.append((entry, owned))
            for path in owned & set(applied_fields):
                if path in live_fields and live_fields[path] != applied_fields[path]:
                    conflicts.append((entry, path))
        if conflicts and not force and not initial:
            raise _conflict_error(conflicts)
        contested = {path for _, path in conflicts}
        for entry, owned in others:
            if contested & owned:
                entry["fieldsV1"] = self.to_fields_v1(owned - contested)
        result = self._merge(copy.deepcopy(live), applied, schema)
        still_owned = set().union(*(o - contested for _, o in others)) if others else set()
        for path in sorted(previous - set(applied_fields) - still_owned, key=len, reverse=True):
            _remove(result, path)
        fields_v1 = self.to_fields_v1(set(applied_fields))
        position = next(
            (
                i
                for i, e in enumerate(entries)
                if e.get("manager") == manager and e.get("operation") == "Apply"
            ),
            None,
        )
        unchanged = (
            position is not None
            and entries[position].get("fieldsV1") == fields_v1
            and _without_managed(result) == _without_managed(live)
        )
        applied_entry: JSON = {
            "manager": manager,
            "operation": "Apply",
            "apiVersion": api_version,
            "time": (
                entries[position].get("time", now) if unchanged and position is not None else now
            ),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields_v1,
        }
        if subresource:
            applied_entry["subresource"] = subresource
        if position is None:
            entries.insert(0, applied_entry)
        else:
            entries[position] = applied_entry
        self._set_entries(result, entries)
        merged: JSON = result
        return merged

    def _merge(self, live: Any, applied: Any, schema: Mapping[str, Any] | None) -> Any:
        if isinstance(live, dict) and isinstance(applied, dict):
            for key, value in applied.items():
                child = self._view.child(schema, key) if schema is not None else None
                live[key] = (
                    self._merge(live.get(key), value, child)
                    if key in live
                    else copy.deepcopy(value)
                )
            return live
        if isinstance(live, list) and isinstance(applied, list) and schema is not None:
            merge = self._view.list_merge(schema, for_apply=True)
            if merge.kind == "set":
                return live + [v for v in applied if v not in live]
            if merge.kind == "map":
                item_schema = self._view.items(schema)
                result = list(live)
                for item in applied:
                    if not isinstance(item, dict):
                        return copy.deepcopy(applied)
                    token = _key_token(item, merge.keys)
                    index = next(
                        (
                            i
                            for i, have in enumerate(result)
                            if isinstance(have, dict) and _key_token(have, merge.keys) == token
                        ),
                        None,
                    )
                    if index is None:
                        result.append(copy.deepcopy(item))
                    else:
                        result[index] = self._merge(result[index], item, item_schema)
                return result
        return copy.deepcopy(applied)


def _without_managed(obj: JSON) -> JSON:
    return {
        **obj,
        "metadata": {k: v for k, v in obj.get("metadata", {}).items() if k != "managedFields"},
    }


def _conflict_error(conflicts: list[tuple[JSON, Path]]) -> APIError:
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {_manager_text(entry)}",
            "field": _dotted(path),
        }
        for entry, path in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        text = (
            f"Apply failed with 1 conflict: conflict with {_manager_text(entry)}: {_dotted(path)}"
        )
    else:
        by_manager: dict[str, list[str]] = {}
        for entry, path in conflicts:
            by_manager.setdefault(_manager_text(entry), []).append(_dotted(path))
        lines = []
        for manager in sorted(by_manager):
            lines.append(f"conflicts with {manager}:")
            lines.extend(f"- {p}" for p in by_manager[manager])
        text = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return APIError(409, "Conflict", text, {"causes": causes})


def _dotted(path: Path) -> str:
    parts = []
    for part in path:
        if part.startswith("f:"):
            parts.append("." + part[2:])
        elif part.startswith("k:"):
            keys = json.loads(part[2:])
            parts.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]")
        else:
            parts.append(f"[={part[2:]}]")
    return "".join(parts)


def _remove(obj: Any, path: Path) -> None:
    """Delete the node at ``path`` when it exists (missing parents are fine)."""
    node = obj
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        if part.startswith("f:") and isinstance(node, dict):
            if part[2:] not in node:
                return
            if last:
                del node[part[2:]]
                return
            node = node[part[2:]]
        elif part.startswith(("k:", "v:")) and isinstance(node, list):
            wanted = json.loads(part[2:])
            for index, item in enumerate(node):
                hit = (
                    isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items())
                    if part.startswith("k:")
                    else item == wanted
                )
                if hit:
                    if last:
                        node.pop(index)
                        return
                    node = item
                    break
            else:
                return
        else:
            return
