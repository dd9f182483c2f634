"""SharedIndexInformer: one list-watch of a collection, one cache, any number of handlers.

Threads. :meth:`SharedIndexInformer.start` starts a reflector thread (list and watch into a
:class:`~kgen.cache.DeltaFIFO`), a processing thread (pop deltas, apply them to the indexer,
then notify) and one delivery thread per handler. Handlers never run on the watch or
processing thread, so a slow handler delays only its own notifications. :meth:`stop` ends and
joins every one of those threads.

Guarantees, per handler: notifications arrive in the order the informer applied them; the
indexer is updated before a notification is queued, so a handler reading the cache sees a state
at least as new as the notification. Objects are the cache's shared objects: never mutate them
(``kgen.meta.deep_copy`` first). An update whose old and new resourceVersion are equal is a
resync and goes only to handlers whose own resync period is due.

Thread-safety: every public method may be called from any thread, including from handlers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kgen.cache._delta_fifo import DeltaFIFO, Deltas, DeltaType, FIFOClosedError
from kgen.cache._handlers import ResourceEventHandler
from kgen.cache._index import Indexers
from kgen.cache._indexer import Indexer, TransformFunc
from kgen.cache._keys import deletion_handling_meta_namespace_key, meta_namespace_key
from kgen.cache._listwatch import ListerWatcher
from kgen.cache._processor import (
    AddNotification,
    DeleteNotification,
    ProcessorListener,
    SharedProcessor,
    UpdateNotification,
    determine_resync_period,
)
from kgen.cache._reflector import Reflector, WatchErrorHandler, default_watch_error_handler
from kgen.clock import REAL_CLOCK, Clock
from kgen.meta import ObjectMeta, meta_resource_version
from kgen.retry import Backoff

__all__ = [
    "MINIMUM_RESYNC_PERIOD",
    "InformerStateError",
    "ResourceEventHandlerRegistration",
    "SharedIndexInformer",
    "wait_for_cache_sync",
]

log = logging.getLogger("kgen.cache")

T = TypeVar("T")

MINIMUM_RESYNC_PERIOD = 1.0
"""Handler resync periods below this (but above 0) are raised to it."""
SYNCED_POLL_PERIOD = 0.1
"""How often :func:`wait_for_cache_sync` checks."""


class InformerStateError(RuntimeError):
    """The call is not allowed in the informer's current state (started or stopped)."""


class ResourceEventHandlerRegistration:
    """The handle :meth:`SharedIndexInformer.add_event_handler` returns."""

    def __init__(self, listener: ProcessorListener) -> None:
        self._listener = listener

    @property
    def handler(self) -> ResourceEventHandler:
        return self._listener.handler

    @property
    def resync_period(self) -> float:
        """The resync period this handler actually gets (0: none)."""
        return self._listener.resync_period

    def has_synced(self) -> bool:
        """True once the informer has synced and this handler has processed every add of the
        initial list (or of the catch-up it received when added late)."""
        return self._listener.has_synced()


class SharedIndexInformer(Generic[T]):
    """See the module docstring.

    ``object_type``: watch events carrying anything else are skipped (``None``: accept all).
    ``resync_period``: the default handler resync period (0: no resync). ``indexers`` are
    added to the cache (generated informers pass the namespace index). ``use_watch_list``
    lets the reflector try a streaming list first. ``clock`` and ``backoff`` are for tests.
    """

    def __init__(
        self,
        lister_watcher: ListerWatcher[T],
        object_type: type[T] | None = None,
        resync_period: float = 0.0,
        indexers: Indexers | None = None,
        *,
        name: str = "informer",
        use_watch_list: bool = False,
        clock: Clock = REAL_CLOCK,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self._lw = lister_watcher
        self._object_type = object_type
        self._default_resync = resync_period
        self._resync_check_period = resync_period
        self._indexer: Indexer[T] = Indexer(deletion_handling_meta_namespace_key, indexers)
        self._use_watch_list = use_watch_list
        self._clock = clock
        self._backoff = backoff
        self._processor = SharedProcessor()
        self._transform: TransformFunc | None = None
        self._watch_error_handler: WatchErrorHandler = default_watch_error_handler
        self._state_lock = threading.Lock()
        self._block_deltas = threading.RLock()
        self._started = False
        self._stopped = False
        self._fifo: DeltaFIFO | None = None
        self._reflector: Reflector | None = None
        self._threads: list[threading.Thread] = []

    # -- configuration ------------------------------------------------------------------------

    def set_transform(self, transform: TransformFunc) -> None:
        """Rewrite every object before it is cached and handed to handlers (for example to drop
        ``managedFields``). Must be idempotent. Only before :meth:`start`."""
        with self._state_lock:
            if self._started:
                raise InformerStateError("informer has already started")
            self._transform = transform

    def set_watch_error_handler(self, handler: WatchErrorHandler) -> None:
        """Called with every list/watch error before the backoff. Only before :meth:`start`."""
        with self._state_lock:
            if self._started:
                raise InformerStateError("informer has already started")
            self._watch_error_handler = handler

    def add_indexers(self, indexers: Indexers) -> None:
        """Add indices to the cache, before or after start (not after stop)."""
        with self._state_lock:
            if self._stopped:
                raise InformerStateError("indexer was not added because it has stopped already")
            with self._block_deltas:
                self._indexer.add_indexers(indexers)

    # -- handlers -----------------------------------------------------------------------------

    def add_event_handler(
        self, handler: ResourceEventHandler, resync_period: float | None = None
    ) -> ResourceEventHandlerRegistration:
        """Register ``handler`` with its own resync period (default: the informer's).

        A handler added after start first receives an add (``is_in_initial_list=True``) for
        every cached object, then live notifications. Raises :class:`InformerStateError` once
        the informer is stopped.
        """
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
            listener = ProcessorListener(
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

    def remove_event_handler(
        self, registration: ResourceEventHandlerRegistration, wait: bool = False
    ) -> None:
        """Stop notifying the handler; already buffered notifications are dropped. Removing
        twice is harmless. ``wait``: also wait for its delivery thread to finish."""
        self._processor.remove_listener(registration._listener)
        if wait:
            registration._listener.join()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start listing, watching and delivering, on threads of its own. Runs at most once;
        later calls (and calls after :meth:`stop`) do nothing."""
        with self._state_lock:
            if self._started or self._stopped:
                log.warning("%s: start called again; ignored", self.name)
                return
            fifo = DeltaFIFO(
                key_func=meta_namespace_key,
                known_objects=self._indexer,
                emit_delta_type_replaced=True,
                transform=self._transform,
            )
            self._fifo = fifo
            self._reflector = Reflector(
                self._lw,
                fifo,
                name=self.name,
                expected_type=self._object_type,
                resync_period=self._resync_check_period,
                should_resync=lambda: self._processor.should_resync(self._clock.now()),
                clock=self._clock,
                backoff=self._backoff,
                use_watch_list=self._use_watch_list,
                watch_error_handler=self._watch_error_handler,
            )
            self._processor.start()
            self._threads = [
                threading.Thread(target=self._reflector.run, name=f"{self.name}-reflector"),
                threading.Thread(target=self._process_loop, name=f"{self.name}-process"),
            ]
            for thread in self._threads:
                thread.daemon = True
                thread.start()
            self._started = True

    def stop(self) -> None:
        """Stop everything and wait for every thread the informer started. Idempotent."""
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
            reflector, fifo, threads = self._reflector, self._fifo, self._threads
        if reflector is not None:
            reflector.stop()
        if fifo is not None:
            fifo.close()
        for thread in threads:
            thread.join()
        self._processor.stop()

    def __enter__(self) -> SharedIndexInformer[T]:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

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

    # -- state --------------------------------------------------------------------------------

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

    # -- processing (processing thread, FIFO lock held) ---------------------------------------

    def _process_loop(self) -> None:
        fifo = self._fifo
        assert fifo is not None
        while True:
            try:
                fifo.drain(self._handle_deltas, self._log_process_error)
            except FIFOClosedError:
                return

    def _log_process_error(self, exc: BaseException) -> None:
        log.error("%s: failed to process deltas", self.name, exc_info=exc)

    def _handle_deltas(self, deltas: Deltas, is_in_initial_list: bool) -> None:
        with self._block_deltas:
            for delta in deltas:
                obj: Any = delta.object
                if delta.type is DeltaType.DELETED:
                    self._indexer.delete(obj)
                    self._processor.distribute(DeleteNotification(obj), sync=False)
                    continue
                old = self._indexer.update(obj)
                if old is not None:
                    sync = _resource_version(old) == _resource_version(obj)
                    self._processor.distribute(UpdateNotification(old, obj), sync=sync)
                else:
                    self._processor.distribute(AddNotification(obj, is_in_initial_list), sync=False)


def _resource_version(obj: object) -> str:
    metadata = getattr(obj, "metadata", None)
    if type(metadata) is ObjectMeta:  # the common case, made fast: a kgen model
        version = metadata.resource_version
        return version if isinstance(version, str) else ""
    return meta_resource_version(obj)


def wait_for_cache_sync(
    *synced: Callable[[], bool],
    timeout: float | None = None,
    stop: threading.Event | None = None,
) -> bool:
    """Block until every ``synced()`` is true (``True``), or until ``timeout`` seconds pass or
    ``stop`` is set (``False``). Polls every 100 ms."""
    deadline = None if timeout is None else time.monotonic() + timeout
    stop = stop or threading.Event()
    while True:
        if all(check() for check in synced):
            return True
        wait = SYNCED_POLL_PERIOD
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait = min(wait, remaining)
        if stop.wait(wait):
            return False
