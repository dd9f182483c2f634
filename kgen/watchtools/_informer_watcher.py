"""An informer seen as a watch: its notifications, in order, as watch events.

:func:`new_indexer_informer_watcher` starts a :class:`kgen.cache.SharedIndexInformer` whose
one handler turns each notification into a :class:`kgen.rest.WatchEvent` (add: ``ADDED``,
update: ``MODIFIED`` with the new state, delete: ``DELETED`` with the last known state, a
tombstone unwrapped). The informer lists, watches and relists as it always does, so the
events never miss a change between the list and the watch and survive expired resource
versions; after a relist they may skip intermediate states but always end in the server's
state.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from kgen.cache import (
    DeletedFinalStateUnknown,
    Indexer,
    ListerWatcher,
    SharedIndexInformer,
)
from kgen.rest import WatchEvent

__all__ = ["InformerWatch", "new_indexer_informer_watcher"]

T = TypeVar("T")

_END = object()


class _Forwarder:
    """The informer's handler: queues one event per notification (on the delivery thread)."""

    def __init__(self, events: queue.SimpleQueue[object]) -> None:
        self._events = events

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self._events.put(WatchEvent("ADDED", obj))

    def on_update(self, old: Any, new: Any) -> None:
        self._events.put(WatchEvent("MODIFIED", new))

    def on_delete(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            obj = obj.obj
        self._events.put(WatchEvent("DELETED", obj))


class InformerWatch(Generic[T]):
    """The events of an informer (see the module docstring); a watch interface.

    Iterate from one thread: iteration blocks until the next notification and ends after
    :meth:`stop`. ``stop()`` may be called from any thread except the informer's own: it
    stops the informer and joins its threads. Queued events are unbounded: a consumer that
    stops reading should stop the watch.
    """

    def __init__(self, informer: SharedIndexInformer[T], events: queue.SimpleQueue[object]) -> None:
        self._informer = informer
        self._events = events
        self._stopped = threading.Event()

    def __iter__(self) -> Iterator[WatchEvent[T]]:
        while not self._stopped.is_set():
            event = self._events.get()
            if event is _END or self._stopped.is_set():
                return
            yield cast(WatchEvent[T], event)

    def stop(self) -> None:
        """Stop the informer (joining its threads) and end the iteration. Idempotent."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._events.put(_END)
        self._informer.stop()

    def __enter__(self) -> InformerWatch[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def new_indexer_informer_watcher(
    lister_watcher: ListerWatcher[T], object_type: type[T] | None = None
) -> tuple[Indexer[T], SharedIndexInformer[T], InformerWatch[T]]:
    """Start an informer over ``lister_watcher`` and return its cache, the informer and the
    watch of its events. Stopping the watch stops the informer."""
    informer: SharedIndexInformer[T] = SharedIndexInformer(
        lister_watcher, object_type, name="informer-watcher"
    )
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    informer.add_event_handler(_Forwarder(events))
    informer.start()
    return informer.get_indexer(), informer, InformerWatch(informer, events)
