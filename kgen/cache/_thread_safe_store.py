"""ThreadSafeStore: a keyed map of objects with secondary indices, safe across threads.

Invariants, kept under one lock:

* ``items`` maps a store key to an object.
* ``indices[name][value]`` is the non-empty set of keys whose object the index function
  ``name`` maps to ``value``; a value whose set becomes empty is removed.

Every method is thread-safe; readers see a consistent snapshot of items and indices. The
objects are stored and handed out as they are, never copied: they are shared by every reader
and must not be mutated (use :func:`kgen.meta.deep_copy` first).
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from kgen.cache._index import IndexConflictError, Indexers, IndexFunc, UnknownIndexError

__all__ = ["ThreadSafeStore"]

T = TypeVar("T")


class ThreadSafeStore(Generic[T]):
    """Objects by key, plus indices over them. See the module docstring for the contract."""

    def __init__(self, indexers: Indexers | None = None) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, T] = {}
        self._indexers: dict[str, IndexFunc] = dict(indexers or {})
        self._indices: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}

    # -- writes -------------------------------------------------------------------------------

    def add(self, key: str, obj: T) -> T | None:
        """Store ``obj`` under ``key`` (same as :meth:`update`)."""
        return self.update(key, obj)

    def update(self, key: str, obj: T) -> T | None:
        """Store ``obj`` under ``key``, move its index entries from the old object to it, and
        return the old object (``None`` when the key was new).

        An exception from an index function propagates and leaves the store unchanged.
        """
        with self._lock:
            items = self._items
            old = items.get(key)
            if self._indexers:
                self._reindex(key, old, obj)
            items[key] = obj
            return old

    def delete(self, key: str) -> None:
        """Remove ``key`` and its index entries; a missing key is ignored."""
        with self._lock:
            old = self._items.get(key)
            if old is None:
                return
            if self._indexers:
                self._reindex(key, old, None)
            del self._items[key]

    def replace(self, items: Mapping[str, T]) -> None:
        """Swap the whole content for ``items`` and rebuild every index from scratch."""
        with self._lock:
            new_items = dict(items)
            indices: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}
            for key, obj in new_items.items():
                for name, values in self._index_values(obj).items():
                    for value in values:
                        indices[name].setdefault(value, set()).add(key)
            self._items = new_items
            self._indices = indices

    def add_indexers(self, indexers: Indexers) -> None:
        """Add index functions and index every stored object with them at once.

        Raises :class:`IndexConflictError` when a name already exists (nothing is added then).
        """
        with self._lock:
            clash = [name for name in indexers if name in self._indexers]
            if clash:
                raise IndexConflictError(clash)
            built: dict[str, dict[str, set[str]]] = {}
            for name, func in indexers.items():
                index: dict[str, set[str]] = {}
                for key, obj in self._items.items():
                    for value in func(obj):
                        index.setdefault(value, set()).add(key)
                built[name] = index
            self._indexers.update(indexers)
            self._indices.update(built)

    # -- reads --------------------------------------------------------------------------------

    def get(self, key: str) -> T | None:
        """The object under ``key``, or ``None``."""
        with self._lock:
            return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def list(self) -> builtins.list[T]:
        """A snapshot of every object, in no particular order."""
        with self._lock:
            return list(self._items.values())

    def list_keys(self) -> builtins.list[str]:
        """A snapshot of every key, in no particular order."""
        with self._lock:
            return list(self._items)

    def index(self, index_name: str, obj: object) -> builtins.list[T]:
        """Objects sharing at least one value of index ``index_name`` with ``obj`` (no duplicates)."""
        with self._lock:
            func = self._indexer(index_name)
            index = self._indices[index_name]
            keys: set[str] = set()
            for value in func(obj):
                keys |= index.get(value, set())
            return [self._items[key] for key in keys]

    def index_keys(self, index_name: str, value: str) -> builtins.list[str]:
        """The sorted keys indexed under ``value`` in index ``index_name``."""
        with self._lock:
            self._indexer(index_name)
            return sorted(self._indices[index_name].get(value, ()))

    def by_index(self, index_name: str, value: str) -> builtins.list[T]:
        """The objects indexed under ``value`` in index ``index_name``, in no particular order."""
        with self._lock:
            self._indexer(index_name)
            return [self._items[key] for key in self._indices[index_name].get(value, ())]

    def list_index_func_values(self, index_name: str) -> builtins.list[str]:
        """Every value that at least one object is indexed under; ``[]`` for an unknown index."""
        with self._lock:
            return list(self._indices.get(index_name, ()))

    def get_indexers(self) -> dict[str, IndexFunc]:
        """A copy of the index functions by name."""
        with self._lock:
            return dict(self._indexers)

    # -- internals (lock held) ----------------------------------------------------------------

    def _indexer(self, name: str) -> IndexFunc:
        func = self._indexers.get(name)
        if func is None:
            raise UnknownIndexError(name)
        return func

    def _index_values(self, obj: object) -> dict[str, Sequence[str]]:
        return {name: func(obj) for name, func in self._indexers.items()}

    def _reindex(self, key: str, old: T | None, new: T | None) -> None:
        """Move ``key``'s index entries from ``old``'s values to ``new``'s (either may be
        ``None``: nothing). Every index function runs before any index changes, so one that
        raises leaves the indices as they were. An index whose values are unchanged (the
        usual update: same namespace, same labels) is not touched."""
        moves: list[tuple[dict[str, set[str]], Sequence[str], Sequence[str]]] | None = None
        for name, func in self._indexers.items():
            new_values = func(new) if new is not None else ()
            old_values = func(old) if old is not None else ()
            if old_values != new_values:
                if moves is None:
                    moves = []
                moves.append((self._indices[name], old_values, new_values))
        if moves is None:
            return
        for index, old_values, new_values in moves:
            self._remove_key(index, key, old_values)
            for value in new_values:
                index.setdefault(value, set()).add(key)

    @staticmethod
    def _remove_key(index: dict[str, set[str]], key: str, values: Iterable[str]) -> None:
        for value in values:
            keys = index.get(value)
            if keys is None:
                continue
            keys.discard(key)
            if not keys:
                del index[value]
