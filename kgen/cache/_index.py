"""Index functions: the secondary keys a store can be queried by.

An index function maps an object to the values it is indexed under (none, one or many). An
:data:`Indexers` mapping names those functions; the store keeps, per index name, a map from each
value to the set of store keys whose objects produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from kgen.cache._keys import ObjectKeyError, has_meta
from kgen.meta import ObjectMeta, meta_namespace

__all__ = [
    "NAMESPACE_INDEX",
    "IndexConflictError",
    "IndexFunc",
    "Indexers",
    "UnknownIndexError",
    "meta_namespace_index_func",
]

IndexFunc = Callable[[object], Sequence[str]]
"""The values an object is indexed under. It must be pure; an exception is a programming error."""

Indexers = Mapping[str, IndexFunc]
"""Index name -> index function."""

NAMESPACE_INDEX = "namespace"
"""The name generated informers give to :func:`meta_namespace_index_func`."""


class UnknownIndexError(LookupError):
    """A query named an index that the store does not have."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Index with name {name} does not exist")
        self.name = name


class IndexConflictError(ValueError):
    """:meth:`add_indexers` was given names that already exist."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(f"indexer conflict: {', '.join(sorted(names))}")
        self.names = tuple(sorted(names))


def meta_namespace_index_func(obj: object) -> Sequence[str]:
    """Index by ``metadata.namespace`` (``[""]`` for cluster-scoped objects)."""
    metadata = getattr(obj, "metadata", None)
    if type(metadata) is ObjectMeta:  # the common case, made fast: a kgen model
        namespace = metadata.namespace
        return [namespace if isinstance(namespace, str) else ""]
    if not has_meta(obj):
        raise ObjectKeyError(obj, "object has no meta")
    return [meta_namespace(obj)]
