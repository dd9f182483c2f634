"""Serialized forms of stored objects, computed once per object and reused by every reader.

kube-apiserver's watch cache wraps each object in a ``cachingObject``
(``k8s.io/apiserver/pkg/storage/cacher/caching_object.go``): the first encoder to serialize it
keeps the bytes, and every later watcher and LIST served from the cache writes those bytes
instead of encoding the object again. :class:`EncodedObjects` is the same idea over
:class:`~kgen.testing._store.Store`: a LIST of 10,000 unchanged pods joins 10,000 cached
bodies instead of encoding 65 MB of JSON, and a GET or a watch event of an unchanged object
writes its cached body. The same holds for protobuf: an object's ``encode_object`` bytes (GET,
watch frames) and a list item's message (LIST), each cached in its own format.

Exactness. The bytes are those :class:`msgspec.json.Encoder` makes of the object, and a body
assembled from them is the one encoding the whole answer would make (``msgspec.Raw`` splices
them verbatim; the envelope keeps its keys and their order). An entry is kept only for the
object the store currently holds under its key, and it is used only for that very object
(identity, ``is``): stored objects are never mutated (the store's contract), so a write, which
stores a new object, makes the entry unusable at once, and the store's listener drops the
entry of the object every committed event replaces or deletes (write, delete, status,
finalizer removal, controllers' writes alike). Objects that are not the stored ones (a CRD
object converted to the requested version, an older revision read through a continue token,
a Status, a bookmark) are encoded as before and not kept. Compaction changes no object and so
needs no invalidation. Table and PartialObjectMetadata answers are made per request, as
before (they are new objects, built from the stored ones).

Checking: with ``check=True`` (or the environment variable ``KGEN_TESTING_CHECK_ENCODED`` set
to ``1``, as kgen's own test suite sets it) every cached body is encoded again when it is
served and compared; a difference, which only an object mutated after it was stored can make,
raises :class:`StaleBodyError` (the request then fails with a 500) instead of serving it.

Memory: one body per stored object that has been read (the entries of deleted objects go with
their DELETED event). Thread-safety: entries are single dict operations (atomic under the GIL)
made of immutable tuples; an entry made while its object is being replaced is checked again
after it is kept, and dropped, so no entry outlives its object in the store.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import msgspec

from kgen.testing._protoencode import encode_message, encode_object, encode_watch_event
from kgen.testing._store import Event, ResourceKey, Store

__all__ = ["EncodedObjects", "StaleBodyError"]

JSON = dict[str, Any]
Encode = Callable[[JSON], bytes]

_json = msgspec.json.Encoder().encode


class StaleBodyError(AssertionError):
    """A cached body no longer matches its object: the object was mutated after it was stored
    (a bug of whoever mutated it; the store's objects are read-only)."""


class EncodedObjects:
    """Cached bodies of the objects of ``store``, by format (see the module docstring).

    Registers a listener on ``store`` for the invalidation; one instance per store. ``check``
    (default: from ``KGEN_TESTING_CHECK_ENCODED``) re-encodes every cached body it serves.
    """

    FORMATS = ("json", "protobuf", "protobuf-item")
    """JSON; protobuf (:func:`~kgen.testing._protoencode.encode_object`: the ``k8s\\x00``
    envelope, for GET and watch); a list item's bare protobuf message (for LIST)."""

    def __init__(self, store: Store, *, check: bool | None = None) -> None:
        self._store = store
        self.check = os.environ.get("KGEN_TESTING_CHECK_ENCODED") == "1" if check is None else check
        self._entries: dict[str, dict[int, tuple[JSON, bytes]]] = {n: {} for n in self.FORMATS}
        """Per format, ``id(obj)`` to ``(obj, body)``: the entry holds ``obj``, so its id is
        not reused while the entry lives."""
        store.add_listener(self._forget)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._entries.values())

    def _forget(self, event: Event) -> None:
        if event.previous is not None:  # the object the event replaced or deleted
            for entries in self._entries.values():
                entries.pop(id(event.previous), None)

    def body(self, name: str, resource: ResourceKey, obj: JSON, encode: Encode) -> bytes:
        """``encode(obj)``, from the cache when ``obj`` is the stored object it was made of.

        ``name`` names the format ``encode`` makes (one of :data:`FORMATS`); ``encode`` must
        be a pure function of the object. Raises what ``encode`` raises (nothing is kept then).
        """
        entries = self._entries[name]
        entry = entries.get(id(obj))
        if entry is not None and entry[0] is obj:
            if self.check and encode(obj) != entry[1]:
                raise StaleBodyError(
                    f"stored object {resource} {obj['metadata'].get('namespace', '')}/"
                    f"{obj['metadata']['name']} was mutated after its body was cached"
                )
            return entry[1]
        data = encode(obj)
        meta = obj.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
            key = (str(meta.get("namespace") or ""), meta["name"])
            if self._store.get(resource, key) is obj:
                entries[id(obj)] = (obj, data)
                if self._store.get(resource, key) is not obj:  # replaced meanwhile: the
                    entries.pop(id(obj), None)  # listener may have run before the insert
        return data

    def json(self, resource: ResourceKey, obj: JSON) -> bytes:
        """The JSON body of ``obj`` (an object of ``resource``)."""
        return self.body("json", resource, obj, _json)

    def json_answer(self, resource: ResourceKey, list_kind: str, answer: JSON) -> bytes:
        """The JSON body of ``answer``: an object of ``resource``, or its ``list_kind`` list
        (whose items come from the cache, the envelope encoded around them), or anything
        else (encoded as it is)."""
        items = answer.get("items")
        if answer.get("kind") == list_kind and isinstance(items, list):
            entries, raw, spliced = self._entries["json"], msgspec.Raw, []
            for item in items:  # the hits inline: this loop is most of a cached LIST
                entry = entries.get(id(item))
                if entry is not None and entry[0] is item and not self.check:
                    spliced.append(raw(entry[1]))
                else:
                    spliced.append(raw(self.json(resource, item)))
            return _json({**answer, "items": spliced})
        return self.json(resource, answer)

    def json_event(self, resource: ResourceKey, event: JSON) -> bytes:
        """One watch event ``{"type", "object"}`` as a JSON line (its object from the cache)."""
        obj = event.get("object")
        if event.get("type") in ("ADDED", "MODIFIED", "DELETED") and isinstance(obj, dict):
            return _json({**event, "object": msgspec.Raw(self.json(resource, obj))}) + b"\n"
        return _json(event) + b"\n"

    def protobuf_answer(self, resource: ResourceKey, list_kind: str, answer: JSON) -> bytes:
        """:func:`~kgen.testing._protoencode.encode_object` of ``answer`` (the caller checks
        it is encodable), with cached items for a ``list_kind`` list, cached whole for an
        object of ``resource``."""
        if answer.get("kind") != list_kind:
            return self.body("protobuf", resource, answer, encode_object)

        def item(message: str, one: JSON, where: str) -> bytes:
            return self.body(
                "protobuf-item", resource, one, lambda o: encode_message(message, o, where)
            )

        return encode_object(answer, item)

    def protobuf_event(self, resource: ResourceKey, event: JSON) -> bytes:
        """One watch event as a protobuf frame (its object from the cache)."""
        obj = event.get("object")
        if event.get("type") in ("ADDED", "MODIFIED", "DELETED") and isinstance(obj, dict):
            return encode_watch_event(event, self.body("protobuf", resource, obj, encode_object))
        return encode_watch_event(event)
