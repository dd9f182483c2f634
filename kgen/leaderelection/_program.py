"""The leader election algorithm as a sans-I/O program, run by the thread elector and by the
asyncio elector.

:class:`Election` holds what a candidate knows (the record it last observed, when, which
leader it last reported) and its programs are generators that *yield* the operations they need
(:class:`Get`, :class:`Create`, :class:`Update` of the lock, :class:`Wait`, :class:`RecordEvent`,
:class:`NewLeader`, :class:`StartLeading`, :class:`StopLeading`) and receive each result (or
have the operation's exception thrown in). A driver performs the operations: the thread
:class:`~kgen.leaderelection.LeaderElector` blocks on them, the asyncio
:class:`~kgen.leaderelection.aio.AsyncLeaderElector` awaits them. Every decision (when a lease
counts as expired, renewal versus takeover, the renew deadline, the release and its retries on
Conflict, the jitter) lives here once.

Another holder's lease counts as expired ``lease_duration`` after this candidate *observed* a
change to it, on this candidate's monotonic clock, never by comparing timestamps written by
other machines. Thread-safe reads (``is_leader``, ``leader``, ``check``) take a lock; the
programs are run by one driver at a time.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any

from kgen.clock import Clock, format_micro_time
from kgen.leaderelection._types import LeaderElectionRecord
from kgen.rest.errors import is_conflict, is_not_found

__all__ = [
    "JITTER_FACTOR",
    "Create",
    "Election",
    "Get",
    "NewLeader",
    "Op",
    "Program",
    "RecordEvent",
    "StartLeading",
    "StopLeading",
    "Update",
    "Wait",
    "validate_timing",
]

JITTER_FACTOR = 1.2
"""Acquire attempts are spaced ``retry_period * (1 + random() * JITTER_FACTOR)`` apart."""

log = logging.getLogger("kgen.leaderelection")


@dataclass(frozen=True)
class Get:
    """Read the lock's record (result: the record; NotFound raised when there is none)."""


@dataclass(frozen=True)
class Create:
    """Create the lock object holding ``record``."""

    record: LeaderElectionRecord


@dataclass(frozen=True)
class Update:
    """Write ``record`` over the version last read or written (Conflict when stale)."""

    record: LeaderElectionRecord


@dataclass(frozen=True)
class Wait:
    """Wait ``seconds``; result: ``False`` (at once) when stopped and ``interruptible``."""

    seconds: float
    interruptible: bool = True


@dataclass(frozen=True)
class RecordEvent:
    """Report a leadership change on the lock (``"became leader"``, ``"stopped leading"``)."""

    message: str


@dataclass(frozen=True)
class NewLeader:
    """Tell ``on_new_leader`` (off the election's own thread or task) about ``identity``."""

    identity: str


@dataclass(frozen=True)
class StartLeading:
    """Start the leading function (on a thread or task of its own)."""


@dataclass(frozen=True)
class StopLeading:
    """Tell the leading function to stop and wait for it to end."""


Op = Get | Create | Update | Wait | RecordEvent | NewLeader | StartLeading | StopLeading
Program = Generator[Op, Any, Any]


def validate_timing(lease_duration: float, renew_deadline: float, retry_period: float) -> None:
    """Raise :class:`ValueError` saying which duration is wrong (client-go's rules)."""
    if lease_duration <= renew_deadline:
        raise ValueError(
            f"lease_duration ({lease_duration} s) must be greater than "
            f"renew_deadline ({renew_deadline} s)"
        )
    if renew_deadline <= JITTER_FACTOR * retry_period:
        raise ValueError(
            f"renew_deadline ({renew_deadline} s) must be greater than "
            f"retry_period * JITTER_FACTOR ({retry_period} s * {JITTER_FACTOR})"
        )
    for what, value in (
        ("lease_duration", lease_duration),
        ("renew_deadline", renew_deadline),
        ("retry_period", retry_period),
    ):
        if value <= 0:
            raise ValueError(f"{what} must be greater than zero")


class Election:
    """One candidate's state and programs; see the module docstring. ``stopped()`` tells the
    acquire loop whether its driver was asked to stop."""

    def __init__(
        self,
        *,
        identity: str,
        describe: str,
        lease_duration: float,
        renew_deadline: float,
        retry_period: float,
        release_on_cancel: bool,
        clock: Clock,
        stopped: Callable[[], bool],
    ) -> None:
        self.identity = identity
        self.describe = describe
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.release_on_cancel = release_on_cancel
        self._clock = clock
        self._stopped = stopped
        self._lock = threading.Lock()
        self._observed = LeaderElectionRecord()
        self._observed_time = 0.0
        self._reported_leader = ""

    # -- reads (any thread) ---------------------------------------------------------------------

    def is_leader(self) -> bool:
        """True while the last observed record names this candidate."""
        with self._lock:
            return self._observed.holder_identity == self.identity

    def leader(self) -> str:
        """The identity of the last observed leader (``""`` if none)."""
        with self._lock:
            return self._observed.holder_identity

    def check(self, max_tolerable_expired_lease: float) -> None:
        """Raise :class:`RuntimeError` if leader but not renewed for longer than
        ``lease_duration + max_tolerable_expired_lease``."""
        with self._lock:
            if self._observed.holder_identity != self.identity:
                return
            late = self._clock.now() - self._observed_time
        limit = self.lease_duration + max_tolerable_expired_lease
        if late > limit:
            raise RuntimeError(
                f"failed election to renew leadership on lease {self.describe}: "
                f"last renewed {late:.1f} s ago, more than {limit:.1f} s"
            )

    # -- programs -------------------------------------------------------------------------------

    def run(self) -> Program:
        """Acquire (until stopped), then lead: renew until stopped or the deadline passes."""
        if (yield from self._acquire()):
            yield from self._lead()

    def try_acquire_or_renew(self) -> Program:
        """One attempt to take or keep the lock; returns True if this candidate holds it."""
        now = format_micro_time(self._clock.time())
        record = LeaderElectionRecord(
            holder_identity=self.identity,
            lease_duration_seconds=int(self.lease_duration),
            acquire_time=now,
            renew_time=now,
        )
        # Fast path: still leader with a valid lease -> just renew over the known version.
        if self.is_leader() and self._lease_valid():
            with self._lock:
                old = self._observed
            renewed = _keep_acquisition(record, old)
            try:
                yield Update(renewed)
            except Exception as err:
                log.info("failed to renew lease %s optimistically: %s", self.describe, err)
            else:
                self._set_observed(renewed)
                return True

        try:
            old = yield Get()
        except Exception as err:
            if not is_not_found(err):
                log.error("error retrieving lease %s: %s", self.describe, err)
                return False
            try:
                yield Create(record)
            except Exception as create_err:
                log.error("error creating lease %s: %s", self.describe, create_err)
                return False
            self._set_observed(record)
            return True

        with self._lock:
            if old != self._observed:
                self._observed = old
                self._observed_time = self._clock.now()
        if old.holder_identity and self._lease_valid() and not self.is_leader():
            log.debug(
                "lease %s is held by %s and has not yet expired", self.describe, old.holder_identity
            )
            return False

        if self.is_leader():
            record = _keep_acquisition(record, old)
        else:
            record = replace(record, leader_transitions=old.leader_transitions + 1)
        try:
            yield Update(record)
        except Exception as err:
            log.error("failed to update lease %s: %s", self.describe, err)
            return False
        self._set_observed(record)
        return True

    def _acquire(self) -> Program:
        log.info("attempting to acquire leader lease %s", self.describe)
        while not self._stopped():
            acquired = yield from self.try_acquire_or_renew()
            yield from self._report_transition()
            if acquired:
                yield RecordEvent("became leader")
                log.info("successfully acquired lease %s", self.describe)
                return True
            period = self.retry_period
            if not (yield Wait(period + random.random() * JITTER_FACTOR * period)):
                break
        return False

    def _lead(self) -> Program:
        """Lead while renewing; when renewal ends, stop the leading function and wait for it
        before releasing the lock, so that no other candidate can lead while it still runs;
        record ``"stopped leading"`` last."""
        yield StartLeading()
        try:
            try:
                yield from self._renew()
            finally:
                yield StopLeading()
            if self.release_on_cancel:
                yield from self._release()
        finally:
            yield RecordEvent("stopped leading")

    def _renew(self) -> Program:
        while True:
            renewed = yield from self._renew_within_deadline()
            yield from self._report_transition()
            if renewed is None:  # stopped
                return
            if not renewed:
                log.info("failed to renew lease %s: deadline passed", self.describe)
                return
            if not (yield Wait(self.retry_period)):
                return

    def _renew_within_deadline(self) -> Program:
        """Renew now, then every ``retry_period`` until ``renew_deadline`` has passed: True
        once renewed, False when the deadline passed, None if stopped meanwhile."""
        deadline = self._clock.now() + self.renew_deadline
        while True:
            if (yield from self.try_acquire_or_renew()):
                return True
            remaining = deadline - self._clock.now()
            if remaining <= 0:
                return False
            if not (yield Wait(min(self.retry_period, remaining))):
                return None
            if self._clock.now() >= deadline:
                return False

    def _release(self) -> Program:
        """Hand the lock back: empty holder, 1 s lease. Retries on Conflict (re-reading the
        lease) for up to ``renew_deadline``; stopping does not cut it short."""
        deadline = self._clock.now() + self.renew_deadline
        while True:
            if not self.is_leader():
                return True
            now = format_micro_time(self._clock.time())
            with self._lock:
                transitions = self._observed.leader_transitions
            record = LeaderElectionRecord(
                lease_duration_seconds=1,
                acquire_time=now,
                renew_time=now,
                leader_transitions=transitions,
            )
            try:
                yield Update(record)
            except Exception as err:
                log.error("failed to release lease %s: %s", self.describe, err)
                if is_conflict(err):
                    try:
                        self._set_observed((yield Get()))
                    except Exception as get_err:
                        log.error("failed to re-read lease %s: %s", self.describe, get_err)
            else:
                self._set_observed(record)
                return True
            remaining = deadline - self._clock.now()
            if remaining <= 0:
                return False
            yield Wait(min(self.retry_period, remaining), interruptible=False)

    def _report_transition(self) -> Program:
        with self._lock:
            leader = self._observed.holder_identity
            if leader == self._reported_leader:
                return
            self._reported_leader = leader
        yield NewLeader(leader)

    # -- state ----------------------------------------------------------------------------------

    def _lease_valid(self) -> bool:
        with self._lock:
            expires = self._observed_time + self._observed.lease_duration_seconds
        return expires > self._clock.now()

    def _set_observed(self, record: LeaderElectionRecord) -> None:
        with self._lock:
            self._observed = record
            self._observed_time = self._clock.now()


def _keep_acquisition(
    record: LeaderElectionRecord, old: LeaderElectionRecord
) -> LeaderElectionRecord:
    """``record`` with ``old``'s acquire time and transitions (a renewal, not a takeover)."""
    return replace(record, acquire_time=old.acquire_time, leader_transitions=old.leader_transitions)
