"""kgen's client-side cache: stores, indices, the delta queue, reflectors and informers.

Objects handed out by any store here are shared with every other reader and must not be
mutated; take a :func:`kgen.meta.deep_copy` first.
"""

from kgen.cache._delta_fifo import (
    Delta,
    DeltaFIFO,
    Deltas,
    DeltaType,
    FIFOClosedError,
    PopProcessFunc,
    RequeueError,
)
from kgen.cache._index import (
    NAMESPACE_INDEX,
    IndexConflictError,
    Indexers,
    IndexFunc,
    UnknownIndexError,
    meta_namespace_index_func,
)
from kgen.cache._indexer import Indexer, KeyListerGetter, ReflectorStore, TransformFunc
from kgen.cache._keys import (
    DeletedFinalStateUnknown,
    ExplicitKey,
    KeyFunc,
    ObjectKeyError,
    deletion_handling_meta_namespace_key,
    meta_namespace_key,
    split_meta_namespace_key,
)
from kgen.cache._thread_safe_store import ThreadSafeStore

__all__ = [
    "NAMESPACE_INDEX",
    "DeletedFinalStateUnknown",
    "Delta",
    "DeltaFIFO",
    "DeltaType",
    "Deltas",
    "ExplicitKey",
    "FIFOClosedError",
    "IndexConflictError",
    "IndexFunc",
    "Indexer",
    "Indexers",
    "KeyFunc",
    "KeyListerGetter",
    "ObjectKeyError",
    "PopProcessFunc",
    "ReflectorStore",
    "RequeueError",
    "ThreadSafeStore",
    "TransformFunc",
    "UnknownIndexError",
    "deletion_handling_meta_namespace_key",
    "meta_namespace_index_func",
    "meta_namespace_key",
    "split_meta_namespace_key",
]
