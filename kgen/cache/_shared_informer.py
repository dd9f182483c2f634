"""SharedIndexInformer: one list-watch of a collection, one cache, any number of handlers.

Threads. :meth:`SharedIndexInformer.start` starts a reflector thread (list and watch into a
:class:`~kgen.cache.DeltaFIFO`), a processing thread (pop deltas, apply them to the indexer,
then notify) and one delivery thread per handler, all kept on the CPU the starting thread runs
on (``pin_threads``; :mod:`kgen.cache._cpu_pin` says why and when). Handlers never run on the
watch or processing thread, so a slow handler delays only its own notifications. :meth:`stop`
ends and joins every one of those threads.

Guarantees, per handler: notifications arrive in the order the informer applied them; the
indexer is updated before a notification is queued, so a handler reading the cache sees a state
at least as new as the notification. Objects are the cache's shared objects: never mutate them
(``kgen.meta.deep_copy`` first). An update whose old and new resourceVersion are equal is a
resync and goes only to handlers whose own resync period is due.

Thread-safety: every public method may be called from any thread, including from handlers.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from kgen.cache._cpu_pin import NO_PIN, CPUPin
from kgen.cache._delta_fifo import DeltaFIFO, FIFOClosedError
from kgen.cache._handlers import ResourceEventHandler
from kgen.cache._index import Indexers
from kgen.cache._informer_core import (
    MINIMUM_RESYNC_PERIOD,
    InformerCore,
    InformerStateError,
    ResourceEventHandlerRegistration,
)
from kgen.cache._keys import meta_namespace_key
from kgen.cache._listwatch import ListerWatcher
from kgen.cache._processor import ProcessorListener
from kgen.cache._reflector import Reflector, WatchErrorHandler, default_watch_error_handler
from kgen.clock import REAL_CLOCK, Clock
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

HANDOFF_AT = 32
"""The reflector waits for the woken processing thread once this many keys are queued (see
:class:`~kgen.cache.DeltaFIFO`'s hand-off): batches of about this size keep the objects in
flight few enough to stay in the processor's caches."""

SYNCED_POLL_PERIOD = 0.1
"""How often :func:`wait_for_cache_sync` checks."""


class SharedIndexInformer(InformerCore[T]):
    """See the module docstring.

    ``object_type``: watch events carrying anything else are skipped (``None``: accept all).
    ``resync_period``: the default handler resync period (0: no resync). ``indexers`` are
    added to the cache (generated informers pass the namespace index). ``use_watch_list``
    lets the reflector try a streaming list first. ``pin_threads=False`` lets the informer's
    threads run on any CPU. ``clock`` and ``backoff`` are for tests.
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
        pin_threads: bool = True,
        clock: Clock = REAL_CLOCK,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(
            object_type, resync_period, indexers, name=name, clock=clock, backoff=backoff
        )
        self._lw = lister_watcher
        self._use_watch_list = use_watch_list
        self._pin_threads = pin_threads
        self._threads: list[threading.Thread] = []

    def set_watch_error_handler(self, handler: WatchErrorHandler) -> None:
        """Called with every list/watch error before the backoff. Only before :meth:`start`."""
        self._set_watch_error_handler(handler)

    def add_event_handler(
        self, handler: ResourceEventHandler, resync_period: float | None = None
    ) -> ResourceEventHandlerRegistration:
        """Register ``handler`` with its own resync period (default: the informer's).

        A handler added after start first receives an add (``is_in_initial_list=True``) for
        every cached object, then live notifications. Raises :class:`InformerStateError` once
        the informer is stopped.
        """
        return self._register(handler, resync_period, ProcessorListener)

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
                handoff_at=HANDOFF_AT,
            )
            self._fifo = fifo
            reflector = Reflector(
                self._lw,
                fifo,
                name=self.name,
                expected_type=self._object_type,
                resync_period=self._resync_check_period,
                should_resync=self._should_resync,
                clock=self._clock,
                backoff=self._backoff,
                use_watch_list=self._use_watch_list,
                watch_error_handler=self._watch_error_handler or default_watch_error_handler,
            )
            self._reflector = reflector
            pin = CPUPin.here() if self._pin_threads else NO_PIN
            self._processor.start(pin)
            self._threads = [
                threading.Thread(
                    target=pin.run, args=(reflector.run,), name=f"{self.name}-reflector"
                ),
                threading.Thread(
                    target=pin.run,
                    args=(functools.partial(self._process_loop, fifo),),
                    name=f"{self.name}-process",
                ),
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
        if isinstance(reflector, Reflector):
            reflector.stop()
        if isinstance(fifo, DeltaFIFO):
            fifo.close()
        for thread in threads:
            thread.join()
        self._processor.stop()

    def __enter__(self) -> SharedIndexInformer[T]:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- processing (processing thread, FIFO lock held) ---------------------------------------

    def _process_loop(self, fifo: DeltaFIFO) -> None:
        while True:
            try:
                fifo.drain_batch(self._handle_batch)
            except FIFOClosedError:
                return


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
