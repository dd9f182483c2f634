"""Lease-based leader election among replicas of a controller.

Candidates compete for one lock (a Lease). :meth:`LeaderElector.run` blocks: it tries to acquire
the lock every ``retry_period`` (jittered by up to ``JITTER_FACTOR`` x), then, once leader,
starts ``on_started_leading`` on a thread of its own and renews the lock every
``retry_period``. If renewing keeps failing for ``renew_deadline``, leadership is lost and
``run`` returns. :meth:`LeaderElector.stop` (from any thread) makes ``run`` return as well,
releasing the lock first when ``release_on_cancel`` is set.

Another holder's lease counts as expired ``lease_duration`` after this candidate *observed* a
change to it, measured on this candidate's monotonic clock, never by comparing timestamps
written by other machines: clock skew between replicas does not matter.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kgen._drive import drive
from kgen.clock import REAL_CLOCK, Clock, wait_until
from kgen.leaderelection._lock import LeaseLock
from kgen.leaderelection._program import (
    JITTER_FACTOR,
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

__all__ = [
    "JITTER_FACTOR",
    "LeaderCallbacks",
    "LeaderElectionConfig",
    "LeaderElector",
]

log = logging.getLogger("kgen.leaderelection")


@dataclass(frozen=True)
class LeaderCallbacks:
    """What the elector calls.

    * ``on_started_leading(stop)`` runs on its own thread once leadership is acquired; ``stop``
      is set when leadership ends, and the function must then return (``run`` waits for it).
    * ``on_stopped_leading()`` is called by ``run`` on its way out, always, even if this
      candidate never led, after ``on_started_leading`` has returned.
    * ``on_new_leader(identity)``, optional, is called on a separate thread each time the
      observed leader changes, including the first observation.
    """

    on_started_leading: Callable[[threading.Event], None]
    on_stopped_leading: Callable[[], None]
    on_new_leader: Callable[[str], None] | None = None


@dataclass(frozen=True)
class LeaderElectionConfig:
    """Settings of a :class:`LeaderElector`; durations in seconds.

    The defaults are the values Kubernetes components use (15 s / 10 s / 2 s).
    """

    lock: LeaseLock
    callbacks: LeaderCallbacks
    lease_duration: float = 15.0
    """How long a non-leader waits, after observing a change of the lease, before taking over."""
    renew_deadline: float = 10.0
    """How long the leader keeps retrying a failed renewal before giving up leadership."""
    retry_period: float = 2.0
    """How long to wait between two attempts to acquire or renew."""
    release_on_cancel: bool = False
    """Release the lock when :meth:`LeaderElector.stop` ends ``run`` while leading."""
    name: str = ""
    """Used in logs only."""
    clock: Clock = REAL_CLOCK

    def validate(self) -> None:
        """Raise :class:`ValueError` saying which setting is wrong (client-go's rules)."""
        validate_timing(self.lease_duration, self.renew_deadline, self.retry_period)
        if self.callbacks.on_started_leading is None:
            raise ValueError("callbacks.on_started_leading is required")
        if self.callbacks.on_stopped_leading is None:
            raise ValueError("callbacks.on_stopped_leading is required")
        if self.lock is None:
            raise ValueError("lock is required")
        if not self.lock.identity:
            raise ValueError("Lock identity is empty")


class LeaderElector:
    """Runs one candidate's side of a leader election (see the module docstring): the
    :class:`~kgen.leaderelection._program.Election` program, each operation performed on the
    calling thread (the leading function and new-leader notifications on threads of their own).

    :meth:`run` may be called once. :meth:`stop`, :meth:`is_leader`, :meth:`get_leader` and
    :meth:`check` are thread-safe.
    """

    def __init__(self, config: LeaderElectionConfig) -> None:
        config.validate()
        self.config = config
        self._clock = config.clock
        self._lock = config.lock
        self._cond = threading.Condition()
        self._stopped = False
        self._election = Election(
            identity=config.lock.identity,
            describe=config.lock.describe(),
            lease_duration=config.lease_duration,
            renew_deadline=config.renew_deadline,
            retry_period=config.retry_period,
            release_on_cancel=config.release_on_cancel,
            clock=config.clock,
            stopped=self._is_stopped,
        )
        self._notifiers: list[threading.Thread] = []
        self._leading: threading.Thread | None = None
        self._leading_stop = threading.Event()
        self._ran = False

    # -- public ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Block until :meth:`stop` is called or leadership is lost (see the module docstring).

        When leading ends, for whichever reason: the leading function is told to stop and
        waited for, the lock is released (with ``release_on_cancel``), and a ``"stopped
        leading"`` event is recorded. ``on_stopped_leading`` is always called before returning,
        even if this candidate never led, and every thread this started (the leading function,
        new-leader notifications) has ended by then. Raises :class:`RuntimeError` if called a
        second time: make a new elector instead.
        """
        with self._cond:
            if self._ran:
                raise RuntimeError("LeaderElector.run may be called only once")
            self._ran = True
        try:
            self._drive(self._election.run())
        finally:
            for notifier in self._notifiers:
                notifier.join()
            self.config.callbacks.on_stopped_leading()

    def stop(self) -> None:
        """Make :meth:`run` return soon (releasing the lock first with ``release_on_cancel``)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def is_leader(self) -> bool:
        """True while the last observed record names this candidate."""
        return self._election.is_leader()

    def get_leader(self) -> str:
        """The identity of the last observed leader (``""`` if none)."""
        return self._election.leader()

    def check(self, max_tolerable_expired_lease: float) -> None:
        """Health check: raise :class:`RuntimeError` if this candidate is leader but has not
        renewed for longer than ``lease_duration + max_tolerable_expired_lease``."""
        self._election.check(max_tolerable_expired_lease)

    def try_acquire_or_renew(self) -> bool:
        """One attempt to take or keep the lock; True if this candidate holds it afterwards."""
        return bool(self._drive(self._election.try_acquire_or_renew()))

    # -- the driver -----------------------------------------------------------------------------

    def _drive(self, program: Program) -> Any:
        """Run ``program``, performing each operation it yields; return what it returns."""
        return drive(program, self._perform)

    def _perform(self, op: Op) -> Any:
        if isinstance(op, Get):
            return self._lock.get()
        if isinstance(op, Create):
            return self._lock.create(op.record)
        if isinstance(op, Update):
            return self._lock.update(op.record)
        if isinstance(op, Wait):
            return self._wait(op.seconds, interruptible=op.interruptible)
        if isinstance(op, RecordEvent):
            return self._lock.record_event(op.message)
        if isinstance(op, NewLeader):
            return self._notify(op.identity)
        if isinstance(op, StartLeading):
            self._leading = threading.Thread(
                target=self.config.callbacks.on_started_leading,
                args=(self._leading_stop,),
                name=f"leader-{self.config.name or self._lock.describe()}",
                daemon=True,
            )
            self._leading.start()
            return None
        self._leading_stop.set()  # StopLeading
        if self._leading is not None:
            self._leading.join()
        return None

    # -- helpers --------------------------------------------------------------------------------

    def _is_stopped(self) -> bool:
        with self._cond:
            return self._stopped

    def _wait(self, seconds: float, *, interruptible: bool = True) -> bool:
        """Wait ``seconds`` on the clock; False (at once) if stopped and ``interruptible``."""
        with self._cond:
            return not wait_until(
                self._clock, self._cond, lambda: interruptible and self._stopped, seconds
            )

    def _notify(self, leader: str) -> None:
        callback = self.config.callbacks.on_new_leader
        if callback is None:
            return
        notifier = threading.Thread(
            target=callback, args=(leader,), name=f"new-leader-{leader}", daemon=True
        )
        self._notifiers.append(notifier)
        notifier.start()
