"""AsyncLeaderElector: the election program (``kgen.leaderelection._program``) driven on an
asyncio task.

Every decision is the thread elector's; what is asyncio's is how each operation is performed:
lock calls and waits are awaited (waits in loop time, cut short by :meth:`stop`), the leading
function is a coroutine run as a task of its own and *cancelled* when leadership ends (where the
thread elector sets an event and joins), new-leader callbacks run as tasks. Cancelling the task
awaiting :meth:`AsyncLeaderElector.run` acts as :meth:`~AsyncLeaderElector.stop`: the program
winds down (the leading task is cancelled and awaited, the lock released with
``release_on_cancel``, ``"stopped leading"`` recorded, ``on_stopped_leading`` called), then the
cancellation propagates. A lock call in flight when the cancellation arrives counts as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from kgen.clock import REAL_CLOCK, Clock
from kgen.leaderelection._program import (
    Create,
    Election,
    Get,
    NewLeader,
    Op,
    Program,
    RecordEvent,
    StartLeading,
    Update,
    Wait,
    validate_timing,
)
from kgen.leaderelection.aio._lock import AsyncLeaseLock

__all__ = ["AsyncLeaderCallbacks", "AsyncLeaderElectionConfig", "AsyncLeaderElector"]

log = logging.getLogger("kgen.leaderelection")


@dataclass(frozen=True)
class AsyncLeaderCallbacks:
    """What the async elector calls.

    * ``on_started_leading()``: a coroutine function, run as a task once leadership is
      acquired and cancelled when it ends (``run`` awaits its end).
    * ``on_stopped_leading()``: called (awaited if it returns an awaitable) by ``run`` on its
      way out, always, after the leading task has ended.
    * ``on_new_leader(identity)``, optional: run as a task each time the observed leader
      changes, the first observation included.
    """

    on_started_leading: Callable[[], Coroutine[Any, Any, None]]
    on_stopped_leading: Callable[[], Awaitable[None] | None]
    on_new_leader: Callable[[str], Awaitable[None] | None] | None = None


@dataclass(frozen=True)
class AsyncLeaderElectionConfig:
    """Settings of an :class:`AsyncLeaderElector`, as
    :class:`~kgen.leaderelection.LeaderElectionConfig`'s (same defaults, same validation)."""

    lock: AsyncLeaseLock
    callbacks: AsyncLeaderCallbacks
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    release_on_cancel: bool = False
    name: str = ""
    clock: Clock = REAL_CLOCK

    def validate(self) -> None:
        """Raise :class:`ValueError` saying which setting is wrong."""
        validate_timing(self.lease_duration, self.renew_deadline, self.retry_period)
        if not self.lock.identity:
            raise ValueError("Lock identity is empty")


class _Cancelled(Exception):
    """A lock call interrupted by the cancellation of the elector's task."""


class AsyncLeaderElector:
    """One candidate's side of a leader election on asyncio; see the module docstring.
    :meth:`run` may be awaited once; the other methods may be called from any task (and the
    reads from any thread)."""

    def __init__(self, config: AsyncLeaderElectionConfig) -> None:
        config.validate()
        self.config = config
        self._lock = config.lock
        self._stopped = asyncio.Event()
        self._election = Election(
            identity=config.lock.identity,
            describe=config.lock.describe(),
            lease_duration=config.lease_duration,
            renew_deadline=config.renew_deadline,
            retry_period=config.retry_period,
            release_on_cancel=config.release_on_cancel,
            clock=config.clock,
            stopped=self._stopped.is_set,
        )
        self._tasks: list[asyncio.Task[None]] = []  # new-leader notifications
        self._leading: asyncio.Task[None] | None = None
        self._ran = False

    async def run(self) -> None:
        """Take part until :meth:`stop`, cancellation, or the loss of leadership."""
        if self._ran:
            raise RuntimeError("AsyncLeaderElector.run may be called only once")
        self._ran = True
        try:
            await self._drive(self._election.run())
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            result = self.config.callbacks.on_stopped_leading()
            if inspect.isawaitable(result):
                await result

    def stop(self) -> None:
        """Make :meth:`run` return soon (releasing the lock first with ``release_on_cancel``)."""
        self._stopped.set()

    def is_leader(self) -> bool:
        """True while the last observed record names this candidate."""
        return self._election.is_leader()

    def get_leader(self) -> str:
        """The identity of the last observed leader (``""`` if none)."""
        return self._election.leader()

    def check(self, max_tolerable_expired_lease: float) -> None:
        """Health check, as :meth:`kgen.leaderelection.LeaderElector.check`."""
        self._election.check(max_tolerable_expired_lease)

    async def try_acquire_or_renew(self) -> bool:
        """One attempt to take or keep the lock; True if this candidate holds it afterwards."""
        return bool(await self._drive(self._election.try_acquire_or_renew()))

    # -- the driver -----------------------------------------------------------------------------

    async def _drive(self, program: Program) -> Any:
        result: Any = None
        error: Exception | None = None
        cancelled = False
        while True:
            try:
                op = program.send(result) if error is None else program.throw(error)
            except StopIteration as done:
                if cancelled:
                    raise asyncio.CancelledError() from None
                return done.value
            result, error = None, None
            try:
                result = await self._perform(op)
            except asyncio.CancelledError:
                if cancelled:
                    raise  # cancelled again while winding down: give up
                cancelled = True
                self.stop()
                if isinstance(op, Wait):
                    result = False
                else:
                    error = _Cancelled(f"{type(op).__name__} cancelled")
            except Exception as err:
                error = err

    async def _perform(self, op: Op) -> Any:
        if isinstance(op, Get):
            return await self._lock.get()
        if isinstance(op, Create):
            return await self._lock.create(op.record)
        if isinstance(op, Update):
            return await self._lock.update(op.record)
        if isinstance(op, Wait):
            return await self._wait(op.seconds, op.interruptible)
        if isinstance(op, RecordEvent):
            return self._lock.record_event(op.message)
        if isinstance(op, NewLeader):
            return self._notify(op.identity)
        loop = asyncio.get_running_loop()
        if isinstance(op, StartLeading):
            self._leading = loop.create_task(
                self.config.callbacks.on_started_leading(),
                name=f"leader-{self.config.name or self._lock.describe()}",
            )
            return None
        leading = self._leading  # StopLeading
        if leading is not None:
            leading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await leading
                except Exception:
                    log.exception("the leading function failed")
        return None

    async def _wait(self, seconds: float, interruptible: bool) -> bool:
        """Wait ``seconds``; False (at once) if stopped and ``interruptible``."""
        if not interruptible:
            await asyncio.sleep(max(seconds, 0.0))
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0.0)):
                await self._stopped.wait()
        return not self._stopped.is_set()

    def _notify(self, leader: str) -> None:
        callback = self.config.callbacks.on_new_leader
        if callback is None:
            return

        async def notify() -> None:
            result = callback(leader)
            if inspect.isawaitable(result):
                await result

        self._tasks.append(asyncio.get_running_loop().create_task(notify()))
