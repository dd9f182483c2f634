"""AsyncProcessorListener: one handler's buffer, delivered by an asyncio task.

The buffer, the initial-list accounting, the resync schedule and the dispatch to the handler
are the thread listener's (:class:`kgen.cache._processor.ProcessorListener`); this one waits on
an event instead of a condition and awaits what a handler method returns when it is awaitable,
so handlers may be plain functions (run on the loop: they must not block) or coroutine
functions. One task per handler: a slow handler delays only its own notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable

from kgen.cache._cpu_pin import NO_PIN, CPUPin
from kgen.cache._handlers import AsyncResourceEventHandler, ResourceEventHandler
from kgen.cache._processor import ProcessorListener

__all__ = ["AsyncProcessorListener"]

log = logging.getLogger("kgen.cache")


class AsyncProcessorListener(ProcessorListener):
    """See the module docstring. ``add`` is called from the loop (the informer's processing
    task, or a registration); ``has_synced`` from anywhere."""

    def __init__(
        self,
        handler: ResourceEventHandler | AsyncResourceEventHandler,
        requested_resync_period: float,
        resync_period: float,
        now: float,
        upstream_synced: Callable[[], bool],
    ) -> None:
        super().__init__(handler, requested_resync_period, resync_period, now, upstream_synced)
        self._signal = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _notify_locked(self) -> None:
        self._signal.set()

    def start(self, pin: CPUPin = NO_PIN) -> None:
        """Start the delivery task in the running loop (once); ``pin`` is unused (one loop,
        one thread)."""
        with self._lock:
            if self._task is not None or self._stopped:
                return
            self._task = asyncio.get_running_loop().create_task(
                self._deliver_loop(), name=f"kgen-handler-{id(self.handler):x}"
            )

    def stop(self) -> None:
        """Stop delivering (buffered notifications are dropped) and cancel the task, which
        cancels a coroutine handler in progress. Use :meth:`wait_stopped` to await it."""
        super().stop()
        self._signal.set()
        task = self._task
        if task is not None:
            task.cancel()

    def join(self, timeout: float | None = None) -> None:
        """Nothing to join (no thread): await :meth:`wait_stopped`."""

    async def wait_stopped(self) -> None:
        """Await the end of the delivery task (after :meth:`stop`)."""
        task = self._task
        if task is not None and task is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_loop(self) -> None:
        while True:
            with self._lock:
                batch = self._take_batch_locked()
                if batch is not None and not batch:
                    self._signal.clear()
            if batch is None:
                return
            if not batch:
                await self._signal.wait()
                continue
            for notification in batch:
                if self._stopped:
                    return
                try:
                    result = self._dispatch(notification)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("event handler %r failed", self.handler)
                finally:
                    self._delivered(notification)
