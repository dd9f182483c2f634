"""kgen's client-side cache: stores, indices, the delta queue, reflectors and informers.

Objects handed out by any store here are shared with every other reader and must not be
mutated; take a :func:`kgen.meta.deep_copy` first.
"""

from kgen.cache._delta_fifo import (
    Delta,
    DeltaFIFO,
    DeltaPair,
    Deltas,
    DeltaType,
    FIFOClosedError,
    KeyedDeltas,
    PopBatchFunc,
    PopProcessFunc,
    RequeueError,
)
from kgen.cache._factory import (
    GenericInformer,
    NewInformerFunc,
    SharedInformerFactory,
    TypedInformer,
    new_filtered_informer,
)
from kgen.cache._handlers import (
    AsyncResourceEventHandler,
    FilteringResourceEventHandler,
    ResourceEventHandler,
    ResourceEventHandlerDetailedFuncs,
    ResourceEventHandlerFuncs,
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
from kgen.cache._intern import intern_strings
from kgen.cache._keys import (
    DeletedFinalStateUnknown,
    ExplicitKey,
    KeyFunc,
    ObjectKeyError,
    deletion_handling_meta_namespace_key,
    meta_namespace_key,
    split_meta_namespace_key,
)
from kgen.cache._lister import Lister, NamespaceLister, SelectorLike, not_found_error
from kgen.cache._listwatch import (
    ListerWatcher,
    ListWatch,
    ListWatchClient,
    ObjectList,
    TweakListOptionsFunc,
    WatchInterface,
)
from kgen.cache._reflector import (
    DEFAULT_PAGE_SIZE,
    INITIAL_EVENTS_END_ANNOTATION,
    Reflector,
    WatchErrorHandler,
    default_watch_error_handler,
)
from kgen.cache._shared_informer import (
    MINIMUM_RESYNC_PERIOD,
    InformerStateError,
    ResourceEventHandlerRegistration,
    SharedIndexInformer,
    wait_for_cache_sync,
)
from kgen.cache._thread_safe_store import ThreadSafeStore
from kgen.cache._transforms import drop_managed_fields
from kgen.cache._watch_errors import (
    ListFailedError,
    VeryShortWatchError,
    is_connection_refused,
    is_expired_error,
)
from kgen.retry import Backoff

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "INITIAL_EVENTS_END_ANNOTATION",
    "MINIMUM_RESYNC_PERIOD",
    "NAMESPACE_INDEX",
    "AsyncResourceEventHandler",
    "Backoff",
    "DeletedFinalStateUnknown",
    "Delta",
    "DeltaFIFO",
    "DeltaPair",
    "DeltaType",
    "Deltas",
    "ExplicitKey",
    "FIFOClosedError",
    "FilteringResourceEventHandler",
    "GenericInformer",
    "IndexConflictError",
    "IndexFunc",
    "Indexer",
    "Indexers",
    "InformerStateError",
    "KeyFunc",
    "KeyListerGetter",
    "KeyedDeltas",
    "ListFailedError",
    "ListWatch",
    "ListWatchClient",
    "Lister",
    "ListerWatcher",
    "NamespaceLister",
    "NewInformerFunc",
    "ObjectKeyError",
    "ObjectList",
    "PopBatchFunc",
    "PopProcessFunc",
    "Reflector",
    "ReflectorStore",
    "RequeueError",
    "ResourceEventHandler",
    "ResourceEventHandlerDetailedFuncs",
    "ResourceEventHandlerFuncs",
    "ResourceEventHandlerRegistration",
    "SelectorLike",
    "SharedIndexInformer",
    "SharedInformerFactory",
    "ThreadSafeStore",
    "TransformFunc",
    "TweakListOptionsFunc",
    "TypedInformer",
    "UnknownIndexError",
    "VeryShortWatchError",
    "WatchErrorHandler",
    "WatchInterface",
    "default_watch_error_handler",
    "deletion_handling_meta_namespace_key",
    "drop_managed_fields",
    "intern_strings",
    "is_connection_refused",
    "is_expired_error",
    "meta_namespace_index_func",
    "meta_namespace_key",
    "new_filtered_informer",
    "not_found_error",
    "split_meta_namespace_key",
    "wait_for_cache_sync",
]
