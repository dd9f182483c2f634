"""What a shared informer is, whichever way it runs: the cache, the handlers and their resync
periods, and how a key's deltas become cache writes and notifications.

:class:`InformerCore` holds the indexer, the :class:`~kgen.cache._processor.SharedProcessor`
and the configuration (transform, watch error handler, indexers), registers handlers (raising
resync periods as client-go does, handing a late handler the cached objects first) and applies
deltas (:meth:`InformerCore._handle_batch`: a batch of keys popped under one FIFO lock
acquisition, each written to the indexer under the key the FIFO computed, then every
notification of the batch buffered at once). The thread :class:`~kgen.cache.SharedIndexInformer` and the asyncio
:class:`~kgen.cache.aio.AsyncSharedIndexInformer` add how the reflector, the processing loop and
the listeners run, and how they stop.

Thread-safety: configuration and registration take the state lock; deltas are applied with the
``_block_deltas`` lock held, which registration takes too, so a late handler's catch-up and the
live notifications never interleave.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from kgen.cache._delta_fifo import DeltaType, KeyedDeltas
from kgen.cache._handlers import AsyncResourceEventHandler, ResourceEventHandler
from kgen.cache._index import Indexers
from kgen.cache._indexer import Indexer, TransformFunc
from kgen.cache._keys import deletion_handling_meta_namespace_key, resource_version_of
from kgen.cache._processor import (
    AddNotification,
    DeleteNotification,
    Notification,
    ProcessorListener,
    SharedProcessor,
    UpdateNotification,
    determine_resync_period,
)
from kgen.clock import Clock
from kgen.retry import Backoff

__all__ = [
    "MINIMUM_RESYNC_PERIOD",
    "InformerCore",
    "InformerStateError",
    "ResourceEventHandlerRegistration",
]

log = logging.getLogger("kgen.cache")

T = TypeVar("T")

_DELETED = DeltaType.DELETED  # a module global: cheaper to read per delta than the enum's

MINIMUM_RESYNC_PERIOD = 1.0
"""Handler resync periods below this (but above 0) are raised to it."""

AnyWatchErrorHandler = Callable[[Any, BaseException], None]
"""A watch error handler of either reflector (see ``WatchErrorHandler``)."""

NewListener = Callable[
    [ResourceEventHandler | AsyncResourceEventHandler, float, float, float, Callable[[], bool]],
    ProcessorListener,
]


class InformerStateError(RuntimeError):
    """The call is not allowed in the informer's current state (started or stopped)."""


class ResourceEventHandlerRegistration:
    """The handle ``add_event_handler`` returns."""

    def __init__(self, listener: ProcessorListener) -> None:
        self._listener = listener

    @property
    def handler(self) -> ResourceEventHandler | AsyncResourceEventHandler:
        return self._listener.handler

    @property
    def resync_period(self) -> float:
        """The resync period this handler actually gets (0: none)."""
        return self._listener.resync_period

    def has_synced(self) -> bool:
        """True once the informer has synced and this handler has processed every add of the
        initial list (or of the catch-up it received when added late)."""
        return self._listener.has_synced()


class _SyncSource(Protocol):
    def has_synced(self) -> bool: ...


class _VersionSource(Protocol):
    def last_sync_resource_version(self) -> str: ...


class InformerCore(Generic[T]):
    """See the module docstring. Subclasses set ``_fifo`` and ``_reflector`` when they start
    and pass their listener class to :meth:`_register`."""

    def __init__(
        self,
        object_type: type[T] | None,
        resync_period: float,
        indexers: Indexers | None,
        *,
        name: str,
        clock: Clock,
        backoff: Backoff | None,
    ) -> None:
        self.name = name
        self._object_type = object_type
        self._default_resync = resync_period
        self._resync_check_period = resync_period
        self._indexer: Indexer[T] = Indexer(deletion_handling_meta_namespace_key, indexers)
        self._clock = clock
        self._backoff = backoff
        self._processor = SharedProcessor()
        self._transform: TransformFunc | None = None
        self._watch_error_handler: AnyWatchErrorHandler | None = None
        self._state_lock = threading.Lock()
        self._block_deltas = threading.RLock()
        self._started = False
        self._stopped = False
        self._fifo: _SyncSource | None = None
        self._reflector: _VersionSource | None = None

    # -- configuration ------------------------------------------------------------------------

    def set_transform(self, transform: TransformFunc) -> None:
        """Rewrite every object before it is cached and handed to handlers (for example to drop
        ``managedFields``). Must be idempotent. Only before ``start``."""
        with self._state_lock:
            if self._started:
                raise InformerStateError("informer has already started")
            self._transform = transform

    def add_indexers(self, indexers: Indexers) -> None:
        """Add indices to the cache, before or after start (not after stop)."""
        with self._state_lock:
            if self._stopped:
                raise InformerStateError("indexer was not added because it has stopped already")
            with self._block_deltas:
                self._indexer.add_indexers(indexers)

    def _set_watch_error_handler(self, handler: AnyWatchErrorHandler) -> None:
        with self._state_lock:
            if self._started:
                raise InformerStateError("informer has already started")
            self._watch_error_handler = handler

    # -- handlers -----------------------------------------------------------------------------

    def _register(
        self,
        handler: ResourceEventHandler | AsyncResourceEventHandler,
        resync_period: float | None,
        new_listener: NewListener,
    ) -> ResourceEventHandlerRegistration:
        """Register ``handler`` with its own resync period (default: the informer's). A handler
        added after start first receives an add (``is_in_initial_list=True``) for every cached
        object, then live notifications. Raises :class:`InformerStateError` once stopped."""
        resync = self._default_resync if resync_period is None else resync_period
        with self._state_lock:
            if self._stopped:
                raise InformerStateError(
                    f"handler {handler!r} was not added to shared informer because it has "
                    "stopped already"
                )
            if resync > 0:
                if resync < MINIMUM_RESYNC_PERIOD:
                    log.warning("resync period %ss raised to %ss", resync, MINIMUM_RESYNC_PERIOD)
                    resync = MINIMUM_RESYNC_PERIOD
                if resync < self._resync_check_period:
                    if self._started:
                        log.warning(
                            "resync period %ss is below the running informer's %ss: raised",
                            resync,
                            self._resync_check_period,
                        )
                        resync = self._resync_check_period
                    else:
                        self._resync_check_period = resync
                        self._processor.resync_check_period_changed(resync)
            listener = new_listener(
                handler,
                resync,
                determine_resync_period(resync, self._resync_check_period),
                self._clock.now(),
                self.has_synced,
            )
            if not self._started:
                self._processor.add_listener(listener)
                return ResourceEventHandlerRegistration(listener)
            with self._block_deltas:
                self._processor.add_listener(listener)
                for obj in self._indexer.list():
                    listener.add(AddNotification(obj, True))
            return ResourceEventHandlerRegistration(listener)

    # -- state --------------------------------------------------------------------------------

    @property
    def is_started(self) -> bool:
        with self._state_lock:
            return self._started

    @property
    def is_stopped(self) -> bool:
        with self._state_lock:
            return self._stopped

    @property
    def resync_check_period(self) -> float:
        """How often the reflector asks whether a handler is due for a resync (0: never)."""
        with self._state_lock:
            return self._resync_check_period

    def has_synced(self) -> bool:
        """True once every object of the first list is in the cache (handlers may still be
        catching up: use a registration's ``has_synced`` for that)."""
        fifo = self._fifo
        return fifo is not None and fifo.has_synced()

    def last_sync_resource_version(self) -> str:
        """The resourceVersion the cache was last brought up to (``""`` before start)."""
        reflector = self._reflector
        return reflector.last_sync_resource_version() if reflector is not None else ""

    def get_indexer(self) -> Indexer[T]:
        """The cache. Read-only for everyone but the informer; its objects are shared."""
        return self._indexer

    get_store = get_indexer

    # -- processing (FIFO lock held) ----------------------------------------------------------

    def _should_resync(self) -> bool:
        return self._processor.should_resync(self._clock.now())

    def _log_process_error(self, exc: BaseException) -> None:
        log.error("%s: failed to process deltas", self.name, exc_info=exc)

    def _handle_batch(self, batch: Sequence[KeyedDeltas], initial: int) -> None:
        """Apply the deltas of every popped key (the first ``initial`` keys are of the initial
        list) to the indexer, under the keys the queue computed, then hand the notifications
        to the processor in one go: every cache write of the batch is made before any of its
        notifications is buffered. A key whose write fails (an index function raising) is
        logged; its later deltas are skipped and the next key is applied."""
        indexer = self._indexer
        notifications: list[Notification] = []
        resyncs: list[int] = []
        initial_adds = 0
        with self._block_deltas:
            try:
                for position, (key, deltas) in enumerate(batch):
                    try:
                        for kind, obj in deltas:
                            if kind is _DELETED:
                                indexer.delete_by_key(key)
                                notifications.append(DeleteNotification(obj))
                                continue
                            old = indexer.update_by_key(key, obj)
                            if old is None:
                                in_initial_list = position < initial
                                initial_adds += in_initial_list
                                notifications.append(AddNotification(obj, in_initial_list))
                                continue
                            if resource_version_of(old) == resource_version_of(obj):
                                resyncs.append(len(notifications))
                            notifications.append(UpdateNotification(old, obj))
                    except Exception as exc:
                        self._log_process_error(exc)
            finally:
                if notifications:
                    self._processor.distribute_batch(notifications, resyncs, initial_adds)
