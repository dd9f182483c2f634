"""Store and Indexer: a :class:`ThreadSafeStore` that computes keys from objects.

:class:`Indexer` is what an informer's cache is, and what listers read. Its writer is the
informer's processing thread; any number of threads may read. Objects handed out are shared,
never copied, and must not be mutated.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

from kgen.cache._index import Indexers, IndexFunc
from kgen.cache._keys import KeyFunc, key_with, meta_namespace_key
from kgen.cache._thread_safe_store import ThreadSafeStore

__all__ = ["Indexer", "KeyListerGetter", "ReflectorStore", "TransformFunc"]

T = TypeVar("T")

TransformFunc = Callable[[object], object]
"""Rewrites an object before it is stored (for example to drop ``managedFields``).

It must be idempotent, and it may return the object it was given, changed in place, only when
nothing else holds a reference to it yet (objects fresh from a list or watch)."""


class ReflectorStore(Protocol):
    """The five writes a :class:`~kgen.cache.Reflector` makes to the store it fills (what
    ``add``/``update``/``delete`` return is ignored)."""

    def add(self, obj: object) -> object: ...

    def update(self, obj: object) -> object: ...

    def delete(self, obj: object) -> object: ...

    def replace(self, items: Iterable[object], resource_version: str) -> None: ...

    def resync(self) -> None: ...


class KeyListerGetter(Protocol):
    """Read access to the keys and objects already known (a DeltaFIFO's ``known_objects``)."""

    def list_keys(self) -> builtins.list[str]: ...

    def get_by_key(self, key: str) -> object | None: ...


class Indexer(Generic[T]):
    """Objects keyed by ``key_func`` (default :func:`meta_namespace_key`) with indices.

    Thread-safe. ``transform``, when given, is applied to every object entering through
    :meth:`add`, :meth:`update` or :meth:`replace`. :meth:`resync` does nothing.
    """

    def __init__(
        self,
        key_func: KeyFunc = meta_namespace_key,
        indexers: Indexers | None = None,
        transform: TransformFunc | None = None,
    ) -> None:
        self._key_func = key_func
        self._store: ThreadSafeStore[T] = ThreadSafeStore(indexers)
        self._transform = transform

    def key_of(self, obj: object) -> str:
        """The key of ``obj``; raises :class:`ObjectKeyError` when it has none."""
        return key_with(self._key_func, obj)

    def _prepared(self, obj: object) -> T:
        return self._transform(obj) if self._transform is not None else obj  # type: ignore[return-value]

    def add(self, obj: object) -> T | None:
        """Insert or replace ``obj`` under its key; return the object replaced, if any."""
        return self.update(obj)

    def update(self, obj: object) -> T | None:
        """Insert or replace ``obj`` under its key; return the object replaced, if any."""
        prepared = self._prepared(obj)
        return self._store.update(self.key_of(prepared), prepared)

    def delete(self, obj: object) -> None:
        """Remove the object with ``obj``'s key, if any."""
        self._store.delete(self.key_of(obj))

    def update_by_key(self, key: str, obj: object) -> T | None:
        """:meth:`update` under a key the caller already has: it must be ``obj``'s key (an
        informer passes the key its queue computed, once, for the event)."""
        return self._store.update(key, self._prepared(obj))

    def delete_by_key(self, key: str) -> None:
        """Remove the object under ``key``, if any."""
        self._store.delete(key)

    def replace(self, items: Iterable[object], resource_version: str = "") -> None:
        """Make ``items`` the whole content. ``resource_version`` is accepted for the protocol."""
        prepared = [self._prepared(obj) for obj in items]
        self._store.replace({self.key_of(obj): obj for obj in prepared})

    def resync(self) -> None:
        """Nothing to do for a plain store (present for :class:`ReflectorStore`)."""

    def get(self, obj: object) -> T | None:
        """The stored object with ``obj``'s key, or ``None``."""
        return self._store.get(self.key_of(obj))

    def get_by_key(self, key: str) -> T | None:
        """The stored object under ``key``, or ``None``."""
        return self._store.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._store

    def __len__(self) -> int:
        return len(self._store)

    def list(self) -> builtins.list[T]:
        """A snapshot of every object (shared: do not mutate)."""
        return self._store.list()

    def list_keys(self) -> builtins.list[str]:
        """A snapshot of every key."""
        return self._store.list_keys()

    def index(self, index_name: str, obj: object) -> builtins.list[T]:
        """See :meth:`ThreadSafeStore.index`."""
        return self._store.index(index_name, obj)

    def index_keys(self, index_name: str, value: str) -> builtins.list[str]:
        """See :meth:`ThreadSafeStore.index_keys`."""
        return self._store.index_keys(index_name, value)

    def by_index(self, index_name: str, value: str) -> builtins.list[T]:
        """See :meth:`ThreadSafeStore.by_index`."""
        return self._store.by_index(index_name, value)

    def list_index_func_values(self, index_name: str) -> builtins.list[str]:
        """See :meth:`ThreadSafeStore.list_index_func_values`."""
        return self._store.list_index_func_values(index_name)

    def get_indexers(self) -> dict[str, IndexFunc]:
        """See :meth:`ThreadSafeStore.get_indexers`."""
        return self._store.get_indexers()

    def add_indexers(self, indexers: Indexers) -> None:
        """See :meth:`ThreadSafeStore.add_indexers`."""
        self._store.add_indexers(indexers)
