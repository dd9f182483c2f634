"""Watch helpers: client-go's ``tools/watch``.

:class:`RetryWatcher` keeps one stream of events going across watches the server or the
network end; :func:`until`, :func:`until_with_sync` and :func:`until_without_retry` wait on a
watch until conditions hold; :func:`new_indexer_informer_watcher` turns an informer into a
watch.
"""

from kgen.watchtools._informer_watcher import InformerWatch, new_indexer_informer_watcher
from kgen.watchtools._retry_watcher import (
    DEFAULT_MIN_RESTART_DELAY,
    RetryWatcher,
    RetryWatcherError,
    Watcher,
)
from kgen.watchtools._until import (
    ConditionFunc,
    PreconditionFunc,
    WaitTimeoutError,
    WatchClosedError,
    until,
    until_with_sync,
    until_without_retry,
)

__all__ = [
    "DEFAULT_MIN_RESTART_DELAY",
    "ConditionFunc",
    "InformerWatch",
    "PreconditionFunc",
    "RetryWatcher",
    "RetryWatcherError",
    "WaitTimeoutError",
    "WatchClosedError",
    "Watcher",
    "new_indexer_informer_watcher",
    "until",
    "until_with_sync",
    "until_without_retry",
]
