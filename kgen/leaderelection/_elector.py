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
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from kgen.clock import REAL_CLOCK, Clock, format_micro_time, wait_until
from kgen.leaderelection._lock import LeaseLock
from kgen.leaderelection._types import LeaderElectionRecord
from kgen.rest.errors import is_conflict, is_not_found

__all__ = [
    "JITTER_FACTOR",
    "LeaderCallbacks",
    "LeaderElectionConfig",
    "LeaderElector",
]

JITTER_FACTOR = 1.2
"""Acquire attempts are spaced ``retry_period * (1 + random() * JITTER_FACTOR)`` apart."""

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
        if self.lease_duration <= self.renew_deadline:
            raise ValueError(
                f"lease_duration ({self.lease_duration} s) must be greater than "
                f"renew_deadline ({self.renew_deadline} s)"
            )
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError(
                f"renew_deadline ({self.renew_deadline} s) must be greater than "
                f"retry_period * JITTER_FACTOR ({self.retry_period} s * {JITTER_FACTOR})"
            )
        for what in ("lease_duration", "renew_deadline", "retry_period"):
            if getattr(self, what) <= 0:
                raise ValueError(f"{what} must be greater than zero")
        if self.callbacks.on_started_leading is None:
            raise ValueError("callbacks.on_started_leading is required")
        if self.callbacks.on_stopped_leading is None:
            raise ValueError("callbacks.on_stopped_leading is required")
        if self.lock is None:
            raise ValueError("lock is required")
        if not self.lock.identity:
            raise ValueError("Lock identity is empty")


class LeaderElector:
    """Runs one candidate's side of a leader election (see the module docstring).

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
        self._observed = LeaderElectionRecord()
        self._observed_time = 0.0
        self._reported_leader = ""
        self._notifiers: list[threading.Thread] = []
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
            if self._acquire():
                self._lead()
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
        with self._cond:
            return self._observed.holder_identity == self._lock.identity

    def get_leader(self) -> str:
        """The identity of the last observed leader (``""`` if none)."""
        with self._cond:
            return self._observed.holder_identity

    def check(self, max_tolerable_expired_lease: float) -> None:
        """Health check: raise :class:`RuntimeError` if this candidate is leader but has not
        renewed for longer than ``lease_duration + max_tolerable_expired_lease``."""
        with self._cond:
            if self._observed.holder_identity != self._lock.identity:
                return
            late = self._clock.now() - self._observed_time
        limit = self.config.lease_duration + max_tolerable_expired_lease
        if late > limit:
            raise RuntimeError(
                f"failed election to renew leadership on lease {self._lock.describe()}: "
                f"last renewed {late:.1f} s ago, more than {limit:.1f} s"
            )

    def try_acquire_or_renew(self) -> bool:
        """One attempt to take or keep the lock; True if this candidate holds it afterwards."""
        now = format_micro_time(self._clock.time())
        identity = self._lock.identity
        record = LeaderElectionRecord(
            holder_identity=identity,
            lease_duration_seconds=int(self.config.lease_duration),
            acquire_time=now,
            renew_time=now,
        )
        # Fast path: still leader with a valid lease -> just renew over the known version.
        if self.is_leader() and self._lease_valid():
            with self._cond:
                old = self._observed
            renewed = _keep_acquisition(record, old)
            try:
                self._lock.update(renewed)
            except Exception as err:
                log.info("failed to renew lease %s optimistically: %s", self._lock.describe(), err)
            else:
                self._set_observed(renewed)
                return True

        try:
            old = self._lock.get()
        except Exception as err:
            if not is_not_found(err):
                log.error("error retrieving lease %s: %s", self._lock.describe(), err)
                return False
            try:
                self._lock.create(record)
            except Exception as create_err:
                log.error("error creating lease %s: %s", self._lock.describe(), create_err)
                return False
            self._set_observed(record)
            return True

        with self._cond:
            if old != self._observed:
                self._observed = old
                self._observed_time = self._clock.now()
        if old.holder_identity and self._lease_valid() and not self.is_leader():
            log.debug(
                "lease %s is held by %s and has not yet expired",
                self._lock.describe(),
                old.holder_identity,
            )
            return False

        if self.is_leader():
            record = _keep_acquisition(record, old)
        else:
            record = replace(record, leader_transitions=old.leader_transitions + 1)
        try:
            self._lock.update(record)
        except Exception as err:
            log.error("failed to update lease %s: %s", self._lock.describe(), err)
            return False
        self._set_observed(record)
        return True

    # -- loops ----------------------------------------------------------------------------------

    def _acquire(self) -> bool:
        desc = self._lock.describe()
        log.info("attempting to acquire leader lease %s", desc)
        while not self._is_stopped():
            acquired = self.try_acquire_or_renew()
            self._maybe_report_transition()
            if acquired:
                self._lock.record_event("became leader")
                log.info("successfully acquired lease %s", desc)
                return True
            period = self.config.retry_period
            if not self._wait(period + random.random() * JITTER_FACTOR * period):
                break
        return False

    def _lead(self) -> None:
        """Run the leading function on its own thread while renewing; when renewal ends, stop
        and join it before releasing the lock, so that no other candidate can lead while it
        still runs; record ``"stopped leading"`` last."""
        stop = threading.Event()
        leading = threading.Thread(
            target=self.config.callbacks.on_started_leading,
            args=(stop,),
            name=f"leader-{self.config.name or self._lock.describe()}",
            daemon=True,
        )
        leading.start()
        try:
            try:
                self._renew()
            finally:
                stop.set()
                leading.join()
            if self.config.release_on_cancel:
                self._release()
        finally:
            self._lock.record_event("stopped leading")

    def _renew(self) -> None:
        while True:
            renewed = self._renew_within_deadline()
            self._maybe_report_transition()
            if renewed is None:  # stopped
                return
            if not renewed:
                log.info("failed to renew lease %s: deadline passed", self._lock.describe())
                return
            if not self._wait(self.config.retry_period):
                return

    def _renew_within_deadline(self) -> bool | None:
        """Try to renew now, then every ``retry_period`` until ``renew_deadline`` has passed.

        True once renewed, False when the deadline passed, None if stopped meanwhile.
        """
        deadline = self._clock.now() + self.config.renew_deadline
        while True:
            if self.try_acquire_or_renew():
                return True
            remaining = deadline - self._clock.now()
            if remaining <= 0:
                return False
            if not self._wait(min(self.config.retry_period, remaining)):
                return None
            if self._clock.now() >= deadline:
                return False

    def _release(self) -> bool:
        """Hand the lock back: empty holder, 1 s lease. Retries on Conflict (re-reading the
        lease) for up to ``renew_deadline``; stopping does not cut it short."""
        deadline = self._clock.now() + self.config.renew_deadline
        while True:
            if not self.is_leader():
                return True
            now = format_micro_time(self._clock.time())
            with self._cond:
                transitions = self._observed.leader_transitions
            record = LeaderElectionRecord(
                lease_duration_seconds=1,
                acquire_time=now,
                renew_time=now,
                leader_transitions=transitions,
            )
            try:
                self._lock.update(record)
            except Exception as err:
                log.error("failed to release lease %s: %s", self._lock.describe(), err)
                if is_conflict(err):
                    try:
                        self._set_observed(self._lock.get())
                    except Exception as get_err:
                        log.error("failed to re-read lease %s: %s", self._lock.describe(), get_err)
            else:
                self._set_observed(record)
                return True
            remaining = deadline - self._clock.now()
            if remaining <= 0:
                return False
            self._wait(min(self.config.retry_period, remaining), interruptible=False)

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

    def _lease_valid(self) -> bool:
        with self._cond:
            expires = self._observed_time + self._observed.lease_duration_seconds
        return expires > self._clock.now()

    def _set_observed(self, record: LeaderElectionRecord) -> None:
        with self._cond:
            self._observed = record
            self._observed_time = self._clock.now()

    def _maybe_report_transition(self) -> None:
        with self._cond:
            leader = self._observed.holder_identity
            if leader == self._reported_leader:
                return
            self._reported_leader = leader
        callback = self.config.callbacks.on_new_leader
        if callback is None:
            return
        notifier = threading.Thread(
            target=callback, args=(leader,), name=f"new-leader-{leader}", daemon=True
        )
        self._notifiers.append(notifier)
        notifier.start()


def _keep_acquisition(
    record: LeaderElectionRecord, old: LeaderElectionRecord
) -> LeaderElectionRecord:
    """``record`` with ``old``'s acquire time and transitions (a renewal, not a takeover)."""
    return replace(record, acquire_time=old.acquire_time, leader_transitions=old.leader_transitions)
