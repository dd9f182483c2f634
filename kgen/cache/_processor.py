"""Fan-out of informer notifications to handlers, each on its own delivery thread.

Every handler gets a :class:`ProcessorListener`: an unbounded buffer and one thread that
delivers the buffered notifications to the handler one by one, in order. The informer only
appends to buffers, so a slow handler delays nobody but itself. A handler that raises is logged
and the next notification is delivered.

:class:`SharedProcessor` holds the listeners of one informer, decides which of them are due
for a resync, and distributes each notification to all listeners (or, for resync updates, to
those due). All methods are thread-safe.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kgen.cache._cpu_pin import NO_PIN, CPUPin
from kgen.cache._handlers import AsyncResourceEventHandler, ResourceEventHandler

__all__ = [
    "AddNotification",
    "DeleteNotification",
    "Notification",
    "ProcessorListener",
    "SharedProcessor",
    "UpdateNotification",
    "determine_resync_period",
]

log = logging.getLogger("kgen.cache")


# Not frozen: a frozen dataclass sets its fields through object.__setattr__, which costs a
# measurable share of an event's time; the informer makes them and nobody changes them.
@dataclass(slots=True)
class AddNotification:
    obj: Any
    is_in_initial_list: bool


@dataclass(slots=True)
class UpdateNotification:
    old: Any
    new: Any


@dataclass(slots=True)
class DeleteNotification:
    obj: Any


Notification = AddNotification | UpdateNotification | DeleteNotification


def determine_resync_period(requested: float, check_period: float) -> float:
    """The resync period a handler actually gets: 0 when it asks for none or the informer
    does not resync, else at least the informer's check period."""
    if requested == 0 or check_period == 0:
        return 0.0
    return max(requested, check_period)


class ProcessorListener:
    """One handler's buffer and delivery thread.

    ``has_synced`` is true once ``upstream_synced()`` is and every initial-list add queued to
    this listener has been handled. The resync fields are guarded by the owning processor.
    """

    def __init__(
        self,
        handler: ResourceEventHandler | AsyncResourceEventHandler,
        requested_resync_period: float,
        resync_period: float,
        now: float,
        upstream_synced: Callable[[], bool],
    ) -> None:
        self.handler = handler
        self.requested_resync_period = requested_resync_period
        self.resync_period = resync_period
        self._next_resync = now + resync_period
        self._upstream_synced = upstream_synced
        self._lock = threading.Lock()  # entered directly: cheaper than the condition's wrapper
        self._cond = threading.Condition(self._lock)
        self._buffer: deque[Notification] = deque()
        self._idle = False  # the delivery thread waits for a notification: only then notify
        self._pending_initial = 0
        self._stopped = False
        self._thread: threading.Thread | None = None

    def add(self, notification: Notification) -> None:
        """Buffer a notification (never blocks, never drops while running)."""
        with self._lock:
            if self._stopped:
                return
            if isinstance(notification, AddNotification) and notification.is_in_initial_list:
                self._pending_initial += 1
            self._buffer.append(notification)
            self._notify_locked()

    def add_batch(self, notifications: list[Notification], initial_adds: int) -> None:
        """Buffer ``notifications`` in order, of which ``initial_adds`` are adds of the initial
        list, with one lock acquisition and at most one wake-up (never blocks, never drops while
        running). ``notifications`` is not kept."""
        with self._lock:
            if self._stopped:
                return
            self._pending_initial += initial_adds
            self._buffer.extend(notifications)
            self._notify_locked()

    def _notify_locked(self) -> None:
        """A notification was buffered (lock held): wake the delivery thread if it waits.
        :class:`kgen.cache.aio.AsyncProcessorListener` signals its task instead."""
        if self._idle:
            self._idle = False  # notified once: more adds before it runs need no notify
            self._cond.notify()

    def has_synced(self) -> bool:
        """See the class docstring."""
        with self._lock:
            if self._pending_initial:
                return False
        return self._upstream_synced()

    def start(self, pin: CPUPin = NO_PIN) -> None:
        """Start the delivery thread (once), kept on ``pin``'s CPU."""
        with self._lock:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(
                target=pin.run,
                args=(self._run,),
                name=f"kgen-handler-{id(self.handler):x}",
                daemon=True,
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop delivering; notifications still buffered are dropped. Does not wait."""
        with self._lock:
            self._stopped = True
            self._buffer.clear()
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the delivery thread to end (after :meth:`stop`)."""
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def should_resync(self, now: float) -> bool:
        """Whether this listener's resync is due at ``now`` (processor lock held)."""
        return self.resync_period > 0 and now >= self._next_resync

    def determine_next_resync(self, now: float) -> None:
        """Schedule the next resync one period after ``now`` (processor lock held)."""
        self._next_resync = now + self.resync_period

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._buffer and not self._stopped:
                    self._idle = True
                    self._cond.wait()
                self._idle = False
                batch = self._take_batch_locked()
            if batch is None:
                return
            for notification in batch:
                if self._stopped:
                    return
                try:
                    self._dispatch(notification)
                except Exception:
                    log.exception("event handler %r failed", self.handler)
                finally:
                    self._delivered(notification)

    # -- delivery, shared with the asyncio listener ---------------------------------------

    def _take_batch_locked(self) -> deque[Notification] | None:
        """Everything buffered (possibly nothing), or ``None`` once stopped (lock held)."""
        if self._stopped:
            return None
        batch = self._buffer
        self._buffer = deque()
        return batch

    def _dispatch(self, notification: Notification) -> Any:
        """Call the handler's method for ``notification``; return what it returned (an
        awaitable, for a coroutine handler the asyncio listener awaits)."""
        if isinstance(notification, AddNotification):
            return self.handler.on_add(notification.obj, notification.is_in_initial_list)
        if isinstance(notification, UpdateNotification):
            return self.handler.on_update(notification.old, notification.new)
        return self.handler.on_delete(notification.obj)

    def _delivered(self, notification: Notification) -> None:
        """``notification`` was handled (or failed): count an initial add as done."""
        if isinstance(notification, AddNotification) and notification.is_in_initial_list:
            with self._lock:
                self._pending_initial -= 1


class SharedProcessor:
    """The listeners of one informer. See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[ProcessorListener] = []
        self._syncing: list[ProcessorListener] = []
        self._started = False
        self._pin = NO_PIN

    def add_listener(self, listener: ProcessorListener) -> None:
        """Register a listener (due for resync at first); started at once if running."""
        with self._lock:
            self._listeners.append(listener)
            self._syncing.append(listener)
            if self._started:
                listener.start(self._pin)

    def remove_listener(self, listener: ProcessorListener) -> bool:
        """Unregister and stop ``listener``; ``False`` when it was not registered."""
        with self._lock:
            if listener not in self._listeners:
                return False
            self._listeners.remove(listener)
            if listener in self._syncing:
                self._syncing.remove(listener)
        listener.stop()
        return True

    def listeners(self) -> list[ProcessorListener]:
        """A snapshot of the registered listeners."""
        with self._lock:
            return list(self._listeners)

    def distribute(self, notification: Notification, sync: bool) -> None:
        """Buffer ``notification`` for every listener, or only those due when ``sync``."""
        with self._lock:
            targets = self._syncing if sync else self._listeners
            for listener in targets:
                listener.add(notification)

    def distribute_batch(
        self, notifications: list[Notification], resyncs: list[int], initial_adds: int
    ) -> None:
        """:meth:`distribute` for many notifications at once, in order: those at the positions
        ``resyncs`` (ascending) are resync updates, for the listeners due only;
        ``initial_adds`` is how many are adds of the initial list (never resyncs). One lock
        acquisition and at most one wake-up per listener."""
        with self._lock:
            if not resyncs:
                for listener in self._listeners:
                    listener.add_batch(notifications, initial_adds)
                return
            skipped = set(resyncs)
            live = [n for i, n in enumerate(notifications) if i not in skipped]
            syncing = self._syncing
            for listener in self._listeners:
                due = listener in syncing
                listener.add_batch(notifications if due else live, initial_adds)

    def should_resync(self, now: float) -> bool:
        """Recompute which listeners are due for a resync at ``now``; whether any is."""
        with self._lock:
            self._syncing = [ln for ln in self._listeners if ln.should_resync(now)]
            for listener in self._syncing:
                listener.determine_next_resync(now)
            return bool(self._syncing)

    def resync_check_period_changed(self, check_period: float) -> None:
        """Recompute every listener's effective period for a new informer check period."""
        with self._lock:
            for listener in self._listeners:
                listener.resync_period = determine_resync_period(
                    listener.requested_resync_period, check_period
                )

    def start(self, pin: CPUPin = NO_PIN) -> None:
        """Start every listener's delivery thread (and those of listeners added later), each
        kept on ``pin``'s CPU."""
        with self._lock:
            self._started = True
            self._pin = pin
            listeners = list(self._listeners)
        for listener in listeners:
            listener.start(pin)

    def stop(self) -> None:
        """Stop every listener and wait for their threads to end."""
        with self._lock:
            self._started = False
            listeners = list(self._listeners)
        for listener in listeners:
            listener.stop()
        for listener in listeners:
            listener.join()
