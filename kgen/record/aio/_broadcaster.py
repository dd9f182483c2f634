"""AsyncEventBroadcaster: the event broadcaster with watcher tasks.

Recorders are the sync ones (:class:`~kgen.record.EventRecorder`): they never block and may be
called from the loop or from any thread (events from other threads are handed to the loop with
``call_soon_threadsafe``). Each ``start_*`` call adds a watcher: a task with a bounded queue
(``queue_size``, 1000) that drops events with a warning when full, so a slow API never slows a
controller. A sink watcher runs the sync broadcaster's program for each event
(``kgen.record._sink_program``: its own correlator, patch or create, retries ``sleep_duration``
apart, the first jittered), awaiting the sink. ``await shutdown()`` (or leaving ``async with``)
delivers what is queued, cuts retry pauses short (their events are given up) and awaits every
watcher task.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from kgen._drive import adrive
from kgen.clock import REAL_CLOCK, Clock
from kgen.record._broadcaster import MAX_TRIES, QUEUE_SIZE, SLEEP_DURATION, log_line
from kgen.record._correlator import CorrelatorOptions, EventCorrelator
from kgen.record._recorder import EventRecorder, Recorder
from kgen.record._sink_program import Create, Patch, SinkOp, record_to_sink
from kgen.record._types import Event, EventSource
from kgen.record.aio._sink import AsyncEventSink

__all__ = ["AsyncEventBroadcaster", "AsyncEventWatcher"]

log = logging.getLogger("kgen.record")

Handler = Callable[[Event], Awaitable[None] | None]


class AsyncEventWatcher:
    """One consumer of a broadcaster's events, on a task of its own. ``await stop()`` delivers
    what is queued, then ends the task."""

    def __init__(self, name: str, handler: Handler, queue_size: int) -> None:
        self.name = name
        self._handler = handler
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=queue_size)
        self._stopping = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=name)

    def offer(self, event: Event) -> None:
        """Queue ``event`` (from the loop), or drop it with a warning when the queue is full."""
        if self._stopping.is_set():
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning(
                "event queue of %s is full, dropping event %s/%s",
                self.name,
                event.metadata.namespace or "",
                event.metadata.name or "",
            )

    async def stop(self) -> None:
        """Deliver what is queued (a sink stops retrying), then end the task. Idempotent."""
        if not self._stopping.is_set():
            self._stopping.set()
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)
        if self._task is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (from the handler); False if :meth:`stop` was called."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0.0)):
                await self._stopping.wait()
        return not self._stopping.is_set()

    async def _run(self) -> None:
        while True:
            if self._stopping.is_set() and self._queue.empty():
                return
            event = await self._queue.get()
            if event is None:
                continue
            try:
                result = self._handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("event handler of %s failed", self.name)


class AsyncEventBroadcaster:
    """Receives events from its recorders and delivers them to its watcher tasks; parameters
    as :class:`~kgen.record.EventBroadcaster`'s. ``start_*`` and ``shutdown`` from the loop
    (the first ``start_*`` call binds the broadcaster to it); recorders from anywhere."""

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
        self._watchers: list[AsyncEventWatcher] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._shut_down = False

    async def __aenter__(self) -> AsyncEventBroadcaster:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    def new_recorder(self, source: EventSource | str) -> EventRecorder:
        """A recorder whose events carry ``source`` (a component name or an EventSource)."""
        if isinstance(source, str):
            source = EventSource(component=source)
        return Recorder(source, self._clock, self._action)

    def start_event_watcher(self, handler: Handler) -> AsyncEventWatcher:
        """Call ``handler`` (a function or coroutine function) with every event, on a task."""
        if self._shut_down:
            raise RuntimeError("AsyncEventBroadcaster is shut down")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        watcher = AsyncEventWatcher(
            f"event-watcher-{len(self._watchers)}", handler, self._queue_size
        )
        self._watchers.append(watcher)
        return watcher

    def start_recording_to_sink(self, sink: AsyncEventSink) -> AsyncEventWatcher:
        """Write every event to ``sink`` through a new correlator (see the module docstring)."""
        correlator = EventCorrelator(self._correlator_options, default_clock=self._clock)
        holder: list[AsyncEventWatcher] = []

        async def perform(op: SinkOp) -> Any:
            if isinstance(op, Patch):
                return await sink.patch(op.event, op.data)
            if isinstance(op, Create):
                return await sink.create(op.event)
            return await holder[0].pause(op.seconds)

        async def record(event: Event) -> None:
            program = record_to_sink(correlator, event, self._max_tries, self._sleep_duration)
            await adrive(program, perform)

        watcher = self.start_event_watcher(record)
        holder.append(watcher)
        return watcher

    def start_logging(self, logf: Callable[[str], None]) -> AsyncEventWatcher:
        """Pass a one-line description of every event to ``logf``."""

        return self.start_event_watcher(lambda event: logf(log_line(event)))

    async def shutdown(self) -> None:
        """Stop every watcher (see the module docstring) and await their tasks. Idempotent."""
        self._shut_down = True
        watchers, self._watchers = self._watchers, []
        await asyncio.gather(*(watcher.stop() for watcher in watchers))

    def _action(self, event: Event) -> None:
        loop = self._loop
        if loop is None or self._shut_down:
            return
        if threading.get_ident() == self._loop_thread:
            self._offer(event)
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self._offer, event)

    def _offer(self, event: Event) -> None:
        for watcher in list(self._watchers):
            watcher.offer(event)
