"""Field ownership (``metadata.managedFields``) and server-side apply, by kube-apiserver's rules.

Every write names a manager. ``managedFields`` holds one entry per manager, operation
(``Apply`` or ``Update``) and subresource (and, for ``Update``, API version), each with the set
of fields it owns in the ``FieldsV1`` encoding (see :mod:`kgen.meta._fieldsv1`).

* An **update** (create, update, any non-apply patch) gives its manager every field it added or
  changed and takes those fields from everyone else; fields it removed leave every owner. When
  nothing changed, the entry and its time stay as they were.
* An **apply** of configuration C by manager M merges C into the live object (granular objects
  field by field, keyed lists by key, sets by value, atomic values whole), then removes what M
  applied last time, no longer applies, and nobody else owns (a node with all below it). M then
  owns exactly the fields C sets. A field whose value the apply changes and that another manager
  owns is a conflict (409, one cause per field) unless ``force`` is set, in which case the field
  moves to M. The entry's time moves only when the object changed.
* Applying to an object that has no ``managedFields`` first gives its fields to an ``Update``
  manager called ``before-first-apply``.
* Past ten ``Update`` entries, the oldest are merged into one ``ancient-changes`` entry per
  API version.

Never owned: ``apiVersion``, ``kind``, ``metadata`` itself and its server-kept fields (name,
namespace, uid, resourceVersion, generation, creationTimestamp, selfLink, managedFields). On a
resource with a ``status`` subresource, writes to the main resource own nothing under
``status`` and writes to ``status`` own nothing else. Entries left with no fields disappear.

Functions never mutate their arguments except ``new`` in :meth:`FieldManager.record_update`;
thread-safety is the caller's (the tracker holds the store lock).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kgen.meta._fieldsv1 import FieldsError, Path, from_fields_v1, path_text, to_fields_v1
from kgen.testing._errors import APIError
from kgen.testing._schema import SchemaView
from kgen.testing._typed import Comparison, ShapeError, Shapes

__all__ = ["FieldManager", "check_write_options"]

JSON = dict[str, Any]

BEFORE_FIRST_APPLY = "before-first-apply"
ANCIENT_CHANGES = "ancient-changes"
MAX_UPDATE_MANAGERS = 10
"""More ``Update`` entries than this are merged, oldest first, into ``ancient-changes``."""

_NEVER_OWNED = frozenset(
    {("f:apiVersion",), ("f:kind",), ("f:metadata",)}
    | {
        ("f:metadata", f"f:{name}")
        for name in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        )
    }
)


@dataclass
class _Entry:
    """One ``managedFields`` entry, its fields decoded."""

    manager: str
    operation: str
    api_version: str
    subresource: str = ""
    time: str | None = None
    fields: set[Path] = field(default_factory=set)

    def identity(self) -> str:
        """What makes two entries the same manager, as kube-apiserver builds it."""
        key: JSON = {"manager": self.manager, "operation": self.operation}
        if self.operation == "Update":
            key["apiVersion"] = self.api_version
        if self.subresource:
            key["subresource"] = self.subresource
        return json.dumps(key, separators=(",", ":"))

    def encode(self) -> JSON:
        out: JSON = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = to_fields_v1(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def describe(self) -> str:
        """How a conflict message names this manager."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f' with subresource "{self.subresource}"'
        if self.operation == "Update":
            text += f" using {self.api_version}"
            if self.time:
                text += f" at {self.time}"
        return text


def _decode(entries: Any) -> list[_Entry]:
    """The entries of a ``managedFields`` list; :class:`FieldsError` when one is malformed."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise FieldsError("managedFields must be a list")
    decoded: list[_Entry] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise FieldsError(f"managed fields entry {index} is not an object")
        if entry.get("operation") not in ("Apply", "Update"):
            raise FieldsError("operation must be `Apply` or `Update`")
        if not entry.get("apiVersion"):
            raise FieldsError("apiVersion must not be empty")
        if entry.get("fieldsType") != "FieldsV1":
            raise FieldsError(f"invalid fieldsType in managed fields entry {index}")
        time = entry.get("time")
        decoded.append(
            _Entry(
                str(entry.get("manager", "")),
                str(entry["operation"]),
                str(entry["apiVersion"]),
                str(entry.get("subresource") or ""),
                str(time) if time else None,
                from_fields_v1(entry.get("fieldsV1") or {}),
            )
        )
    return decoded


def _encode(entries: list[_Entry]) -> list[JSON]:
    kept = [e for e in entries if e.fields]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource))
    return [e.encode() for e in kept]


def _store(obj: JSON, entries: list[_Entry]) -> None:
    encoded = _encode(entries)
    if encoded:
        obj.setdefault("metadata", {})["managedFields"] = encoded
    else:
        obj.get("metadata", {}).pop("managedFields", None)


def _without_managed(obj: Mapping[str, Any]) -> JSON:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping) or "managedFields" not in metadata:
        return dict(obj)
    return {**obj, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}


def _is_reset(sent: Any) -> bool:
    return bool(sent == [] or sent == [{}])


Ignored = Callable[[Path], bool]


def _ignored(subresource: str | None, status_split: bool) -> Ignored:
    """The fields a write may not own: those its strategy resets."""
    if subresource == "status":
        return lambda path: path[:1] != ("f:status",)
    if status_split:
        return lambda path: path[:1] == ("f:status",)
    return lambda path: False


def _owned(paths: set[Path], ignored: Ignored) -> set[Path]:
    return {p for p in paths if p not in _NEVER_OWNED and not ignored(p)}


def _filtered(comparison: Comparison, ignored: Ignored) -> Comparison:
    return Comparison(
        {p for p in comparison.added if not ignored(p)},
        {p for p in comparison.modified if not ignored(p)},
        {p for p in comparison.removed if not ignored(p)},
    )


FIELD_MANAGER_MAX_BYTES = 128


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_GO_ESCAPES |= {"\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\"}


def _go_quote(text: str) -> str:
    """``text`` quoted as Go's ``%q`` quotes it (how validation messages show values)."""
    out = []
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def check_write_options(kind: str, manager: str, applying: bool, force: bool) -> None:
    """422 Invalid, as kube-apiserver validates ``kind`` (``CreateOptions``,
    ``UpdateOptions``, ``PatchOptions``): an apply needs a field manager, only an apply may
    force, and a field manager is at most 128 bytes of printable characters."""
    problems: list[tuple[str, str, str]] = []
    if force and not applying:
        problems.append(
            ("force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch")
        )
    if applying and not manager:
        problems.append(
            ("fieldManager", "FieldValueRequired", "Required value: is required for apply patch")
        )
    if len(manager.encode()) > FIELD_MANAGER_MAX_BYTES:
        problems.append(
            (
                "fieldManager",
                "FieldValueTooLong",
                f"Too long: may not be more than {FIELD_MANAGER_MAX_BYTES} bytes",
            )
        )
    for index, char in enumerate(manager):
        if not char.isprintable():
            problems.append(
                (
                    "fieldManager",
                    "FieldValueInvalid",
                    f"Invalid value: {_go_quote(manager)}: invalid character "
                    f"U+{ord(char):04X} (at position {index})",
                )
            )
    if problems:
        raise APIError.invalid(kind, "meta.k8s.io", "", problems)


class FieldManager:
    """Keeps ``managedFields`` and carries out applies against one set of schemas."""

    def __init__(self, schemas: SchemaView) -> None:
        self._view = schemas

    def _zero(self, schema: Mapping[str, Any] | None, builtin: bool) -> JSON:
        """What an object is before it exists, as the update rules compare against: a built-in
        kind's empty top-level structs are present; a custom resource is empty."""
        if not builtin or schema is None:
            return {}
        declared = schema.get("properties") or {}
        return {key: {} for key in ("metadata", "spec", "status") if key in declared}

    # --- updates ------------------------------------------------------------------------------

    def record_update(
        self,
        old: JSON | None,
        new: JSON,
        manager: str,
        api_version: str,
        subresource: str | None,
        now: str,
        schema: Mapping[str, Any] | None,
        *,
        sent: Any = None,
        status_split: bool = False,
        builtin: bool = True,
    ) -> None:
        """Set ``new``'s ``managedFields`` after an update by ``manager`` from ``old`` (``None``
        for a create) to ``new``.

        ``sent`` is the ``managedFields`` of the request body (``None`` when absent): ``[]`` or
        ``[{}]`` reset them, a valid non-empty list replaces the stored entries (not on a
        subresource), anything else keeps them. When ``old`` or ``new`` cannot be read
        through the schema, the stored entries are kept as they were.
        """
        stored = old.get("metadata", {}).get("managedFields") if old is not None else None
        base = stored
        if not subresource and sent is not None:
            if _is_reset(sent):
                base = []
            else:
                try:
                    if _decode(sent):
                        base = sent
                except FieldsError:
                    pass
        try:
            entries = _decode(base)
        except FieldsError:
            entries = []
        before = _without_managed(old) if old is not None else self._zero(schema, builtin)
        ignored = _ignored(subresource, status_split)
        try:
            changes = _filtered(
                Shapes(self._view).compare(before, _without_managed(new), schema), ignored
            )
        except ShapeError:
            _store(new, _decode_quietly(stored))
            return
        taken = changes.added | changes.modified
        for entry in entries:
            entry.fields -= taken | changes.removed
        gained = _owned(taken, ignored)
        if gained:
            operation = _Entry(manager, "Update", api_version, subresource or "")
            mine = next((e for e in entries if e.identity() == operation.identity()), None)
            if mine is None:
                entries.append(operation)
                mine = operation
            mine.fields |= gained
            mine.time = now
        _store(new, _capped([e for e in entries if e.fields]))

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
        *,
        creating: bool = False,
        status_split: bool = False,
        builtin: bool = True,
    ) -> JSON:
        """Apply ``applied`` for ``manager`` to ``live``; returns the merged object with its
        ``managedFields``. ``creating`` says ``live`` is the object the apply creates.
        Raises 409 Conflict listing each contested field, 400 on configurations that cannot
        be owned (a keyed list item without its key, ``managedFields`` set)."""
        if applied.get("metadata", {}).get("managedFields") is not None:
            raise APIError.bad_request("metadata.managedFields must be nil")
        try:
            entries = _decode(live.get("metadata", {}).get("managedFields"))
        except FieldsError as err:
            raise APIError(
                500, "InternalError", f"failed to decode managed fields: {err}"
            ) from None
        ignored = _ignored(subresource, status_split)
        current = _without_managed(live)
        shapes = Shapes(self._view)
        try:
            if not entries and not creating:
                zero = self._zero(schema, builtin)
                changes = _filtered(shapes.compare(zero, current, schema), ignored)
                found = _owned(changes.added | changes.modified, ignored)
                if found:
                    where = subresource or ""
                    entries = [_Entry(BEFORE_FIRST_APPLY, "Update", api_version, where, now, found)]
            identity = _Entry(manager, "Apply", api_version, subresource or "").identity()
            mine = next((e for e in entries if e.identity() == identity), None)
            others = [e for e in entries if e is not mine]
            applies = {p for p in shapes.field_set(applied, schema) if not ignored(p)}
            wanted = _owned(applies, ignored)
            merged = shapes.merge(current, applied, schema)
            # the name and the rest of metadata count as applied while pruning
            owned = applies.union(*(e.fields for e in others))
            result = _prune(shapes, merged, mine.fields if mine else set(), owned, schema)
            changes = _filtered(shapes.compare(current, result, schema), ignored)
        except ShapeError as err:
            raise APIError.bad_request(f"failed to create typed patch object: {err}") from None
        taken = changes.added | changes.modified
        conflicts = [(e, p) for e in others for p in sorted(e.fields & taken)]
        if conflicts and not force:
            raise _conflict_error(conflicts)
        for entry in others:
            entry.fields -= taken | changes.removed
        changed = creating or result != current
        if wanted:
            time = now if changed else (mine.time if mine else None)
            others.append(_Entry(manager, "Apply", api_version, subresource or "", time, wanted))
        _store(result, others)
        return result


def _prune(
    shapes: Shapes,
    merged: JSON,
    last: set[Path],
    owned: set[Path],
    schema: Mapping[str, Any] | None,
) -> JSON:
    """``merged`` without what was applied last time (``last``), is not applied now and nobody
    else owns (``owned`` holds the fields of every manager, this apply included)."""
    if not last:
        return merged
    previous = shapes.with_named_fields(last, schema)
    everything = shapes.nodes(merged, schema)
    without_previous = shapes.remove(merged, previous, schema)
    orphans = everything - (
        shapes.nodes(without_previous, schema) | shapes.with_named_fields(owned, schema)
    )
    without_orphans = shapes.remove(merged, orphans, schema)
    dropped = (everything - shapes.nodes(without_orphans, schema)) & previous
    pruned: JSON = shapes.remove(merged, dropped, schema) if dropped else merged
    return pruned


def _capped(entries: list[_Entry]) -> list[_Entry]:
    """At most :data:`MAX_UPDATE_MANAGERS` ``Update`` entries: the oldest are merged, per API
    version, into an entry of the manager ``ancient-changes`` (the newest merged time)."""
    updaters = sorted(
        (e for e in entries if e.operation == "Update"), key=lambda e: (e.time or "", e.identity())
    )
    count = len(updaters)
    first_of_version: dict[str, _Entry] = {}
    for entry in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        first = first_of_version.setdefault(entry.api_version, entry)
        if first is entry:
            continue
        bucket_id = _Entry(ANCIENT_CHANGES, "Update", entry.api_version).identity()
        bucket = next((e for e in entries if e.identity() == bucket_id), None)
        if bucket is None:
            bucket = _Entry(ANCIENT_CHANGES, "Update", entry.api_version, "", None, first.fields)
            entries = [e for e in entries if e is not first] + [bucket]
        bucket.fields = bucket.fields | entry.fields
        bucket.time = entry.time
        entries = [e for e in entries if e is not entry]
        count -= 1
    return entries


def _decode_quietly(entries: Any) -> list[_Entry]:
    try:
        return _decode(entries)
    except FieldsError:
        return []


def _conflict_error(conflicts: list[tuple[_Entry, Path]]) -> APIError:
    conflicts = sorted(conflicts, key=lambda c: (c[0].identity(), c[1]))
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {entry.describe()}",
            "field": path_text(path),
        }
        for entry, path in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        text = f"Apply failed with 1 conflict: conflict with {entry.describe()}: {path_text(path)}"
    else:
        lines: list[str] = []
        seen: set[str] = set()
        for entry, path in conflicts:
            if entry.identity() not in seen:
                seen.add(entry.identity())
                lines.append(f"conflicts with {entry.describe()}:")
            lines.append(f"- {path_text(path)}")
        text = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return APIError(409, "Conflict", text, {"causes": causes})
