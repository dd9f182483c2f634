"""Leader election with an in-memory lease store, real threads and a fake clock (S71-S73)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from kgen.clock import FakeClock
from kgen.leaderelection import (
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElectionRecord,
    LeaderElector,
)
from kgen.meta import Status
from kgen.rest.errors import StatusError


def status_error(code: int, reason: str) -> StatusError:
    return StatusError(Status(code=code, reason=reason))


class LeaseServer:
    """One Lease with a resourceVersion, like the API server keeps it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.record: LeaderElectionRecord | None = None
        self.version = 0
        self.broken = False  # every call fails with a transport error
        self.updates = 0

    def put(self, record: LeaderElectionRecord) -> None:
        """A write by someone else (bumps the version)."""
        with self.lock:
            self.record = record
            self.version += 1


class MemoryLeaseLock:
    """A LeaseLock over a LeaseServer with optimistic concurrency on the version."""

    def __init__(self, server: LeaseServer, identity: str) -> None:
        self.server = server
        self._identity = identity
        self.seen_version: int | None = None
        self.events: list[str] = []
        """Recorded leadership events, each with the holder the server had at that moment."""

    @property
    def identity(self) -> str:
        return self._identity

    def describe(self) -> str:
        return "default/lease"

    def _check(self) -> None:
        if self.server.broken:
            raise ConnectionError("server unreachable")

    def get(self) -> LeaderElectionRecord:
        with self.server.lock:
            self._check()
            if self.server.record is None:
                raise status_error(404, "NotFound")
            self.seen_version = self.server.version
            return self.server.record

    def create(self, record: LeaderElectionRecord) -> None:
        with self.server.lock:
            self._check()
            if self.server.record is not None:
                raise status_error(409, "AlreadyExists")
            self.server.record, self.server.version = record, self.server.version + 1
            self.seen_version = self.server.version

    def update(self, record: LeaderElectionRecord) -> None:
        with self.server.lock:
            self._check()
            if self.seen_version != self.server.version:
                raise status_error(409, "Conflict")
            self.server.record, self.server.version = record, self.server.version + 1
            self.server.updates += 1
            self.seen_version = self.server.version

    def record_event(self, message: str) -> None:
        with self.server.lock:
            holder = self.server.record.holder_identity if self.server.record else None
        self.events.append(f"{message} (held by {holder!r})")


@dataclass
class Observer:
    started: threading.Event = field(default_factory=threading.Event)
    stopped: threading.Event = field(default_factory=threading.Event)
    leaders: list[str] = field(default_factory=list)
    leading_ended: threading.Event = field(default_factory=threading.Event)

    def callbacks(self) -> LeaderCallbacks:
        def lead(stop: threading.Event) -> None:
            self.started.set()
            stop.wait()
            self.leading_ended.set()

        return LeaderCallbacks(
            on_started_leading=lead,
            on_stopped_leading=self.stopped.set,
            on_new_leader=self.leaders.append,
        )


def elector(
    lock: MemoryLeaseLock,
    clock: FakeClock,
    observer: Observer | None = None,
    **settings: float | bool,
) -> LeaderElector:
    callbacks = (observer or Observer()).callbacks()
    return LeaderElector(
        LeaderElectionConfig(lock=lock, callbacks=callbacks, clock=clock, **settings)  # type: ignore[arg-type]
    )


def start(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


# -- S71: configuration ---------------------------------------------------------------------------


def test_valid_configuration() -> None:
    lock = MemoryLeaseLock(LeaseServer(), "baz")
    el = elector(lock, FakeClock(), lease_duration=15, renew_deadline=2, retry_period=1)
    assert el.config.lease_duration == 15
    defaults = elector(lock, FakeClock()).config
    assert (defaults.lease_duration, defaults.renew_deadline, defaults.retry_period) == (15, 10, 2)


@pytest.mark.parametrize(
    ("identity", "settings", "message"),
    [
        ("", {}, "Lock identity is empty"),
        ("baz", {"renew_deadline": 1, "retry_period": 1}, r"retry_period \* JITTER_FACTOR"),
        (
            "baz",
            {"lease_duration": 10, "renew_deadline": 10},
            "must be greater than renew_deadline",
        ),
        ("baz", {"lease_duration": 5, "renew_deadline": 10}, "must be greater than renew_deadline"),
        (
            "baz",
            {"lease_duration": -1, "renew_deadline": -2, "retry_period": -3},
            "lease_duration must be greater than zero",
        ),
    ],
)
def test_invalid_configuration(identity: str, settings: dict[str, float], message: str) -> None:
    lock = MemoryLeaseLock(LeaseServer(), identity)
    with pytest.raises(ValueError, match=message):
        elector(lock, FakeClock(), None, **settings)


# -- S72: try_acquire_or_renew --------------------------------------------------------------------


def held_by(holder: str, transitions: int = 3) -> LeaderElectionRecord:
    return LeaderElectionRecord(
        holder_identity=holder,
        lease_duration_seconds=10,
        acquire_time="2023-11-14T22:00:00.000000Z",
        renew_time="2023-11-14T22:00:00.000000Z",
        leader_transitions=transitions,
    )


def test_creates_the_lease_when_there_is_none() -> None:
    server, clock = LeaseServer(), FakeClock()
    el = elector(MemoryLeaseLock(server, "baz"), clock)
    assert el.try_acquire_or_renew()
    assert server.record is not None
    assert server.record.holder_identity == "baz"
    assert server.record.leader_transitions == 0
    assert server.record.lease_duration_seconds == 15
    assert server.record.acquire_time == server.record.renew_time == "2023-11-14T22:13:20.000000Z"
    assert el.is_leader() and el.get_leader() == "baz"


def test_takes_over_a_lease_unchanged_for_longer_than_its_duration() -> None:
    server, clock = LeaseServer(), FakeClock()
    server.put(held_by("bing"))
    el = elector(MemoryLeaseLock(server, "baz"), clock)
    assert not el.try_acquire_or_renew()  # first observation: bing's lease counts as fresh
    clock.step(9.5)  # within bing's 10 s lease
    assert not el.try_acquire_or_renew()
    clock.step(0.5)  # 10 s since the record last changed: expired
    assert el.try_acquire_or_renew()
    assert server.record is not None
    assert server.record.holder_identity == "baz"
    assert server.record.leader_transitions == 4


def test_a_holder_that_keeps_renewing_keeps_the_lease() -> None:
    server, clock = LeaseServer(), FakeClock()
    server.put(held_by("bing"))
    el = elector(MemoryLeaseLock(server, "baz"), clock)
    for second in range(1, 30):
        clock.step(1)
        if second % 5 == 0:  # bing renews: the record changes, observation time resets
            server.put(replace(held_by("bing"), renew_time=f"renewed at {second}"))
        assert not el.try_acquire_or_renew()
    assert server.record is not None and server.record.holder_identity == "bing"
    assert el.get_leader() == "bing" and not el.is_leader()


def test_an_empty_holder_is_acquired_at_once() -> None:
    server, clock = LeaseServer(), FakeClock()
    server.put(held_by(""))
    el = elector(MemoryLeaseLock(server, "baz"), clock)
    assert el.try_acquire_or_renew()
    assert server.record is not None
    assert server.record.holder_identity == "baz"
    assert server.record.leader_transitions == 4


def test_renewal_keeps_acquire_time_and_transitions() -> None:
    server, clock = LeaseServer(), FakeClock()
    el = elector(MemoryLeaseLock(server, "baz"), clock)
    assert el.try_acquire_or_renew()
    assert server.record is not None
    acquired = server.record.acquire_time
    clock.step(2)
    assert el.try_acquire_or_renew()
    assert server.record.acquire_time == acquired
    assert server.record.renew_time == "2023-11-14T22:13:22.000000Z"
    assert server.record.leader_transitions == 0


def test_renewal_falls_back_to_the_slow_path_on_conflict() -> None:
    server, clock = LeaseServer(), FakeClock()
    el = elector(MemoryLeaseLock(server, "baz"), clock)
    assert el.try_acquire_or_renew()
    assert server.record is not None
    server.put(server.record)  # someone rewrote the same record: our version is stale
    clock.step(2)
    assert el.try_acquire_or_renew()  # fast path conflicts, get + update succeeds
    assert server.record.holder_identity == "baz" and server.record.leader_transitions == 0


def test_fails_when_the_server_is_unreachable() -> None:
    server, clock = LeaseServer(), FakeClock()
    server.broken = True
    el = elector(MemoryLeaseLock(server, "baz"), clock)
    assert not el.try_acquire_or_renew()
    assert el.get_leader() == ""


# -- run(): acquire, lead, lose, release (S72, S73) -----------------------------------------------


def test_run_leads_then_hands_over_on_release() -> None:
    server, clock = LeaseServer(), FakeClock()
    a_obs, b_obs = Observer(), Observer()
    a_lock, b_lock = MemoryLeaseLock(server, "a"), MemoryLeaseLock(server, "b")
    a = elector(a_lock, clock, a_obs, release_on_cancel=True)
    b = elector(b_lock, clock, b_obs)
    ta = start(a.run)
    assert a_obs.started.wait(10)
    clock.block_until_waiters(1)  # a sleeps until its next renewal
    tb = start(b.run)
    clock.block_until_waiters(2)  # b failed to acquire and sleeps
    assert not b_obs.started.is_set()

    a.stop()
    ta.join()
    assert a_obs.leading_ended.is_set() and a_obs.stopped.is_set()
    assert server.record is not None
    assert server.record.holder_identity == ""
    assert server.record.lease_duration_seconds == 1
    assert server.record.leader_transitions == 0

    clock.step(2 * 2.2)  # b's jittered retry period is below 2 s * (1 + 1.2)
    assert b_obs.started.wait(10)
    assert server.record.holder_identity == "b"
    assert server.record.leader_transitions == 1
    b.stop()
    tb.join()
    assert b_obs.stopped.is_set()
    assert server.record.holder_identity == "b"  # no release_on_cancel
    assert a_obs.leaders == ["a"]
    assert b_obs.leaders == ["a", "b"]
    # "stopped leading" is recorded on a normal stop too, after the release if any.
    assert a_lock.events == ["became leader (held by 'a')", "stopped leading (held by '')"]
    assert b_lock.events == ["became leader (held by 'b')", "stopped leading (held by 'b')"]


def test_leadership_is_lost_after_the_renew_deadline() -> None:
    server, clock = LeaseServer(), FakeClock()
    obs = Observer()
    lock = MemoryLeaseLock(server, "a")
    el = elector(lock, clock, obs)
    t = start(el.run)
    assert obs.started.wait(10)
    clock.block_until_waiters(1)
    server.broken = True
    for _ in range(5):  # 2 s periods: renewals fail at 2, 4, 6, 8 and 10 s
        clock.step(2)
        clock.block_until_waiters(1)
    assert t.is_alive() and not obs.leading_ended.is_set()
    clock.step(2)  # 12 s: the 10 s renew deadline has passed
    t.join()
    assert obs.leading_ended.is_set() and obs.stopped.is_set()
    assert lock.events == ["became leader (held by 'a')", "stopped leading (held by 'a')"]


def test_release_retries_on_conflict() -> None:
    server, clock = LeaseServer(), FakeClock()
    obs = Observer()
    lock = MemoryLeaseLock(server, "a")
    el = elector(lock, clock, obs, release_on_cancel=True)
    t = start(el.run)
    assert obs.started.wait(10)
    clock.block_until_waiters(1)
    assert server.record is not None
    server.put(server.record)  # a concurrent write makes a's version stale
    el.stop()
    for _ in range(10_000):  # until release conflicted and re-read the lease
        if lock.seen_version == server.version:
            break
        threading.Event().wait(0.001)
    clock.block_until_waiters(1)  # the retry pause of the release
    assert server.record.holder_identity == "a"
    clock.step(2)
    t.join()
    assert server.record.holder_identity == ""
    assert server.record.lease_duration_seconds == 1
    assert obs.stopped.is_set()


def test_leading_ends_in_order_work_stopped_lease_released_event_then_callback() -> None:
    server, clock = LeaseServer(), FakeClock()
    lock = MemoryLeaseLock(server, "a")
    journal: list[str] = []
    started = threading.Event()

    def holder() -> str | None:
        with server.lock:
            return server.record.holder_identity if server.record else None

    def lead(stop: threading.Event) -> None:
        started.set()
        stop.wait()
        journal.append(f"leading function returned (held by {holder()!r})")

    el = LeaderElector(
        LeaderElectionConfig(
            lock=lock,
            callbacks=LeaderCallbacks(
                on_started_leading=lead,
                on_stopped_leading=lambda: journal.append(
                    "on_stopped_leading after: " + "; ".join(lock.events)
                ),
            ),
            release_on_cancel=True,
            clock=clock,
        )
    )
    t = start(el.run)
    assert started.wait(10)
    clock.block_until_waiters(1)
    el.stop()
    t.join()
    # The work stops while the lease is still held, so no other candidate can lead meanwhile.
    assert journal == [
        "leading function returned (held by 'a')",
        "on_stopped_leading after: became leader (held by 'a'); stopped leading (held by '')",
    ]


def test_on_stopped_leading_is_called_even_if_never_leader() -> None:
    server, clock = LeaseServer(), FakeClock()
    server.put(held_by("other"))
    obs = Observer()
    lock = MemoryLeaseLock(server, "a")
    el = elector(lock, clock, obs)
    t = start(el.run)
    clock.block_until_waiters(1)
    el.stop()
    t.join()
    assert obs.stopped.is_set() and not obs.started.is_set()
    assert lock.events == []  # never led: neither "became leader" nor "stopped leading"
    assert obs.leaders == ["other"]
    with pytest.raises(RuntimeError, match="only once"):
        el.run()


def test_health_check() -> None:
    server, clock = LeaseServer(), FakeClock()
    el = elector(MemoryLeaseLock(server, "a"), clock)
    el.check(5)  # not leader: healthy
    assert el.try_acquire_or_renew()
    clock.step(20)
    el.check(5)  # 20 s <= 15 s + 5 s
    clock.step(0.5)
    with pytest.raises(RuntimeError, match="failed election to renew leadership"):
        el.check(5)
