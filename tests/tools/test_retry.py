"""kgen.retry: client-go's retry.OnError / RetryOnConflict and wait.Backoff's arithmetic."""

from __future__ import annotations

import random
import threading
from itertools import islice
from typing import Any

import pytest

from kgen.dynamic import DynamicResourceClient
from kgen.rest import StatusError, is_conflict, is_not_found
from kgen.retry import DEFAULT_BACKOFF, DEFAULT_RETRY, Backoff, on_error, retry_on_conflict

from .conftest import configmap


class StepClock:
    """A clock whose waits return at once, moving time by the amount waited (and noting it)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.waits: list[float] = []

    def now(self) -> float:
        return self.t

    def time(self) -> float:
        return self.t

    def wait(self, cond: threading.Condition, timeout: float) -> None:
        self.waits.append(timeout)
        self.t += timeout


def test_default_retry_and_backoff_are_client_gos() -> None:
    assert (DEFAULT_RETRY.steps, DEFAULT_RETRY.initial, DEFAULT_RETRY.factor) == (5, 0.01, 1.0)
    assert (DEFAULT_RETRY.jitter, DEFAULT_RETRY.cap) == (0.1, None)
    assert (DEFAULT_BACKOFF.steps, DEFAULT_BACKOFF.initial, DEFAULT_BACKOFF.factor) == (4, 0.01, 5)
    assert (DEFAULT_BACKOFF.jitter, DEFAULT_BACKOFF.cap) == (0.1, None)
    retry = DEFAULT_RETRY.delays()
    for _ in range(8):
        assert 0.01 <= next(retry) < 0.011
    backoff = DEFAULT_BACKOFF.delays()
    for base in (0.01, 0.05, 0.25, 1.25, 6.25, 6.25):
        assert base <= next(backoff) < base * 1.1


def test_steps_and_cap_follow_wait_backoff() -> None:
    # Steps bound the growth; once used up the last duration repeats.
    flat = Backoff(initial=1.0, cap=None, factor=2.0, jitter=0.0, reset_after=None, steps=3)
    assert list(islice(flat.delays(), 6)) == [1, 2, 4, 8, 8, 8]
    # Reaching the cap ends the growth at the cap, whatever steps remain.
    capped = Backoff(initial=1.0, cap=5.0, factor=3.0, jitter=0.0, reset_after=None, steps=10)
    assert list(islice(capped.delays(), 5)) == [1, 3, 5, 5, 5]
    # Factor 0 keeps the duration; zero steps gives the initial duration for ever.
    assert list(islice(Backoff(2.0, None, 0.0, 0.0, steps=2).delays(), 3)) == [2.0, 2.0, 2.0]
    assert next(Backoff(0.5, None, 2.0, 0.0, steps=0).delays()) == 0.5
    # Jitter stretches each delay by a factor in [1, 1 + jitter).
    jittered = Backoff(1.0, None, 1.0, 0.5, steps=4, rand=random.Random(3)).delays()
    assert all(1.0 <= next(jittered) < 1.5 for _ in range(20))
    # A run of delays() leaves the shared run of next_delay() alone, and reset() restarts it.
    shared = Backoff(1.0, None, 2.0, 0.0, reset_after=None)
    assert [shared.next_delay(), shared.next_delay()] == [1.0, 2.0]
    assert next(shared.delays()) == 1.0
    assert shared.next_delay() == 4.0
    shared.reset()
    assert shared.next_delay() == 1.0


def test_on_error_sleeps_between_attempts_and_raises_the_last_error() -> None:
    clock = StepClock()
    backoff = Backoff(0.01, None, 5.0, 0.0, reset_after=None, clock=clock, steps=4)
    errors = [ValueError(f"attempt {i}") for i in range(1, 5)]
    calls: list[float] = []

    def fail() -> None:
        calls.append(clock.now())
        raise errors[len(calls) - 1]

    with pytest.raises(ValueError) as caught:
        on_error(backoff, lambda err: isinstance(err, ValueError), fail)
    assert caught.value is errors[-1]
    assert clock.waits == pytest.approx([0.01, 0.05, 0.25])
    assert calls == pytest.approx([0.0, 0.01, 0.06, 0.31])


def test_on_error_stops_at_a_non_retriable_error_and_returns_a_success() -> None:
    clock = StepClock()
    backoff = Backoff(0.01, None, 1.0, 0.0, clock=clock, steps=5)
    outcomes: list[Exception | str] = [KeyError("retry me"), KeyError("again"), "done"]

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert on_error(backoff, lambda err: isinstance(err, KeyError), attempt) == "done"
    assert clock.waits == [0.01, 0.01]

    def wrong() -> None:
        raise TypeError("not retriable")

    with pytest.raises(TypeError):
        on_error(backoff, lambda err: isinstance(err, KeyError), wrong)
    assert clock.waits == [0.01, 0.01]
    with pytest.raises(ValueError, match="at least one step"):
        on_error(Backoff(steps=0), lambda err: True, lambda: None)


def _bump(client: DynamicResourceClient, name: str, meddle: Any = None) -> dict[str, Any]:
    """One read-modify-write of a counter in a ConfigMap; ``meddle()`` runs between the read
    and the write (another writer getting in first)."""
    current = client.get(name)
    if meddle is not None:
        meddle()
    current["data"]["count"] = str(int(current["data"]["count"]) + 1)
    return client.update(current)


def test_retry_on_conflict_wins_against_an_interleaved_writer(
    configmaps: DynamicResourceClient,
) -> None:
    configmaps.create(configmap("counter", count="0"))
    attempts: list[int] = []

    def other_writer() -> None:
        # On the first two attempts another client updates the object after our read.
        if len(attempts) <= 2:
            _bump(configmaps, "counter")

    def update() -> dict[str, Any]:
        attempts.append(1)
        return _bump(configmaps, "counter", other_writer)

    result = retry_on_conflict(update)
    assert len(attempts) == 3
    assert result["data"]["count"] == "3"  # two interleaved bumps, then ours
    assert configmaps.get("counter")["data"]["count"] == "3"


def test_retry_on_conflict_gives_up_after_five_attempts(configmaps: DynamicResourceClient) -> None:
    configmaps.create(configmap("contested", count="0"))
    attempts: list[int] = []

    def update() -> dict[str, Any]:
        attempts.append(1)
        return _bump(configmaps, "contested", lambda: _bump(configmaps, "contested"))

    with pytest.raises(StatusError) as caught:
        retry_on_conflict(update)
    assert is_conflict(caught.value)
    assert len(attempts) == 5
    assert configmaps.get("contested")["data"]["count"] == "5"  # only the other writer's bumps
    # A different error is not retried.
    missing: list[int] = []

    def update_missing() -> dict[str, Any]:
        missing.append(1)
        return _bump(configmaps, "absent")

    with pytest.raises(StatusError) as not_found:
        retry_on_conflict(update_missing)
    assert is_not_found(not_found.value) and len(missing) == 1


def test_concurrent_writers_lose_no_update(configmaps: DynamicResourceClient) -> None:
    configmaps.create(configmap("shared", count="0"))
    writers, bumps = 4, 10
    patient = Backoff(0.001, None, 1.0, 1.0, reset_after=None, steps=200)
    failures: list[BaseException] = []
    attempts: list[int] = []

    def bump() -> dict[str, Any]:
        attempts.append(1)
        return _bump(configmaps, "shared")

    def writer() -> None:
        try:
            for _ in range(bumps):
                retry_on_conflict(bump, patient)
        except BaseException as err:  # reported by the assertion below
            failures.append(err)

    threads = [threading.Thread(target=writer, name=f"writer-{i}") for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert configmaps.get("shared")["data"]["count"] == str(writers * bumps)
    assert len(attempts) > writers * bumps  # the writers did get in each other's way
