"""The event broadcaster: fans recorded events out to sinks, loggers and handlers.

Each ``start_*`` call adds a *watcher*: a thread of its own with a bounded queue
(``queue_size``, 1000). Recorders hand each event to every watcher without blocking; a watcher
whose queue is full drops the event with a warning, so a slow API never slows a controller.

A sink watcher runs every event through its own :class:`EventCorrelator`, then creates it, or
PATCHes the existing Event when it is a repeat (creating it if the PATCH finds nothing). A
write that fails with an API error (:class:`kgen.rest.StatusError`) is not retried; any other
failure is retried up to ``max_tries`` (12) times in all, ``sleep_duration`` (10 s) apart, the
first pause randomised in ``[0, sleep_duration)`` so that many clients do not retry in step.

:meth:`EventBroadcaster.shutdown` (or leaving the ``with`` block) stops every watcher: events
already queued are still delivered, but pending retry pauses are cut short and their events
given up. All threads are joined before it returns.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from kgen._drive import drive
from kgen.clock import REAL_CLOCK, Clock, wait_until
from kgen.record._correlator import CorrelatorOptions, EventCorrelator
from kgen.record._recorder import EventRecorder, Recorder
from kgen.record._sink import EventSink
from kgen.record._sink_program import Create, Patch, SinkOp, record_to_sink
from kgen.record._types import Event, EventSource

__all__ = ["EventBroadcaster", "EventWatcher"]

QUEUE_SIZE = 1000
MAX_TRIES = 12
SLEEP_DURATION = 10.0

log = logging.getLogger("kgen.record")

_STOP = object()


def log_line(event: Event) -> str:
    """The one-line description ``start_logging`` hands to its function (client-go's)."""
    ref = event.involved_object
    return (
        f"Event({ref.kind or ''} {ref.namespace or ''}/{ref.name or ''}): "
        f"type: '{event.type or ''}' reason: '{event.reason or ''}' {event.message or ''}"
    )


class EventWatcher:
    """One consumer of a broadcaster's events, on its own thread. Stop it with :meth:`stop`
    (idempotent, joins the thread) or stop them all with :meth:`EventBroadcaster.shutdown`."""

    def __init__(
        self,
        name: str,
        handler: Callable[[Event], None],
        queue_size: int,
        on_stop: Callable[[EventWatcher], None],
    ) -> None:
        self._handler = handler
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._on_stop = on_stop
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._stopping = threading.Condition()
        self._stopping_flag = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def offer(self, event: Event) -> None:
        """Queue ``event`` for this watcher, or drop it with a warning when the queue is full."""
        if self._stopping_flag:
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning(
                "event queue of %s is full, dropping event %s/%s",
                self._thread.name,
                event.metadata.namespace or "",
                event.metadata.name or "",
            )

    def stop(self) -> None:
        """Deliver what is queued (a sink stops retrying), then end the thread and join it.

        Blocks while a handler call is in progress: handlers must not block forever."""
        with self._stop_lock:
            first = not self._stopped
            self._stopped = True
            if first:
                with self._stopping:
                    self._stopping_flag = True
                    self._stopping.notify_all()
                self._queue.put(_STOP)
        if self._thread is not threading.current_thread():
            self._thread.join()
        if first:
            self._on_stop(self)

    def pause(self, clock: Clock, seconds: float) -> bool:
        """Wait ``seconds`` on ``clock`` (from the handler); False if :meth:`stop` was called
        before or meanwhile."""
        with self._stopping:
            return not wait_until(clock, self._stopping, lambda: self._stopping_flag, seconds)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Event)
            try:
                self._handler(item)
            except Exception:
                log.exception("event handler of %s failed", self._thread.name)


class EventBroadcaster:
    """Receives events from its recorders and delivers them to its watchers. Thread-safe.

    ``clock`` drives timestamps, correlation and retry pauses; ``correlator_options`` configure
    the correlator of each sink watcher (which uses ``clock`` unless the options name one).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        correlator_options: CorrelatorOptions | None = None,
        queue_size: int = QUEUE_SIZE,
        max_tries: int = MAX_TRIES,
        sleep_duration: float = SLEEP_DURATION,
    ) -> None:
        self._clock: Clock = clock if clock is not None else REAL_CLOCK
        self._correlator_options = correlator_options or CorrelatorOptions()
        self._queue_size = queue_size
        self._max_tries = max_tries
        self._sleep_duration = sleep_duration
        self._lock = threading.Lock()
        self._watchers: list[EventWatcher] = []
        self._shut_down = False

    def __enter__(self) -> EventBroadcaster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def new_recorder(self, source: EventSource | str) -> EventRecorder:
        """A recorder whose events carry ``source`` (a component name or an EventSource)."""
        if isinstance(source, str):
            source = EventSource(component=source)
        return Recorder(source, self._clock, self._action)

    def start_event_watcher(self, handler: Callable[[Event], None]) -> EventWatcher:
        """Call ``handler`` with every event, on a new watcher thread."""
        with self._lock:
            return self._add_watcher(handler)

    def start_recording_to_sink(self, sink: EventSink) -> EventWatcher:
        """Write every event to ``sink`` through a new correlator (see the module docstring)."""
        correlator = EventCorrelator(self._correlator_options, default_clock=self._clock)
        holder: list[EventWatcher] = []

        def record(event: Event) -> None:
            self._record_to_sink(sink, correlator, event, holder[0])

        with self._lock:  # the watcher cannot deliver before ``holder`` is filled
            watcher = self._add_watcher(record)
            holder.append(watcher)
        return watcher

    def start_logging(self, logf: Callable[[str], None]) -> EventWatcher:
        """Pass a one-line description of every event to ``logf``."""

        return self.start_event_watcher(lambda event: logf(log_line(event)))

    def start_structured_logging(
        self, logger: logging.Logger | None = None, level: int = logging.INFO
    ) -> EventWatcher:
        """Log every event as ``"Event occurred"`` at ``level`` with the event's fields as
        record attributes (``object``, ``field_path``, ``kind``, ``api_version``, ``type``,
        ``reason``, ``event_message``) for structured formatters."""
        target = logger or log

        def emit(event: Event) -> None:
            ref = event.involved_object
            target.log(
                level,
                "Event occurred",
                extra={
                    "object": f"{ref.namespace or ''}/{ref.name or ''}".lstrip("/"),
                    "field_path": ref.field_path or "",
                    "kind": ref.kind or "",
                    "api_version": ref.api_version or "",
                    "type": event.type or "",
                    "reason": event.reason or "",
                    "event_message": event.message or "",
                },
            )

        return self.start_event_watcher(emit)

    def shutdown(self) -> None:
        """Stop every watcher (see the module docstring). Idempotent."""
        with self._lock:
            self._shut_down = True
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher.stop()

    def _add_watcher(self, handler: Callable[[Event], None]) -> EventWatcher:
        """Start a watcher; the caller holds ``self._lock``."""
        if self._shut_down:
            raise RuntimeError("EventBroadcaster is shut down")
        watcher = EventWatcher(
            f"event-watcher-{len(self._watchers)}", handler, self._queue_size, self._forget
        )
        self._watchers.append(watcher)
        return watcher

    def _forget(self, watcher: EventWatcher) -> None:
        with self._lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def _action(self, event: Event) -> None:
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher.offer(event)

    def _record_to_sink(
        self,
        sink: EventSink,
        correlator: EventCorrelator,
        event: Event,
        watcher: EventWatcher,
    ) -> None:
        def perform(op: SinkOp) -> Any:
            if isinstance(op, Patch):
                return sink.patch(op.event, op.data)
            if isinstance(op, Create):
                return sink.create(op.event)
            return watcher.pause(self._clock, op.seconds)

        drive(record_to_sink(correlator, event, self._max_tries, self._sleep_duration), perform)
