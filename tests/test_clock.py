"""kgen.clock: the fake clock that tests drive, the clock-aware condition wait, API time formats."""

from __future__ import annotations

import threading

import pytest

from kgen.clock import REAL_CLOCK, FakeClock, format_micro_time, format_time, wait_until


class Sleeper:
    """A thread that waits on a clock for ``seconds`` unless ``done`` is set first."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self.cond = threading.Condition()
        self.done = False
        self.result: bool | None = None
        self._thread = threading.Thread(target=self._run, args=(clock, seconds))
        self._thread.start()

    def _run(self, clock: FakeClock, seconds: float) -> None:
        with self.cond:
            self.result = wait_until(clock, self.cond, lambda: self.done, seconds)

    def finish(self) -> None:
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def join(self) -> bool | None:
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()
        return self.result


def test_a_waiter_wakes_only_once_time_passes_its_deadline() -> None:
    clock = FakeClock()
    sleeper = Sleeper(clock, 5.0)
    clock.block_until_waiters(1)
    clock.step(4.0)
    assert clock.waiters() == 1 and sleeper.result is None  # not due yet: still waiting
    clock.step(1.0)
    assert sleeper.join() is False  # the timeout passed without ``done``
    assert clock.waiters() == 0


def test_wait_until_returns_as_soon_as_its_condition_holds() -> None:
    clock = FakeClock()
    sleeper = Sleeper(clock, 3600.0)
    clock.block_until_waiters(1)
    sleeper.finish()  # no time passes
    assert sleeper.join() is True
    assert clock.waiters() == 0


def test_set_moves_forward_only_and_wakes_due_waiters() -> None:
    clock = FakeClock(start=10.0)
    sleeper = Sleeper(clock, 2.0)
    clock.block_until_waiters(1)
    with pytest.raises(ValueError, match=r"earlier than the current time 10\.0"):
        clock.set(9.0)
    clock.set(12.0)
    assert sleeper.join() is False
    assert clock.now() == 12.0


def test_wall_time_moves_with_the_monotonic_reading() -> None:
    clock = FakeClock(start=100.0, wall_start=1_700_000_000.0)
    clock.step(2.5)
    assert (clock.now(), clock.time()) == (102.5, 1_700_000_002.5)


def test_wait_calls_count_waits_that_began() -> None:
    clock = FakeClock()
    cond = threading.Condition()
    with cond:
        clock.wait(cond, 0)  # nothing to wait for: returns at once, not counted
    assert clock.wait_calls() == 0
    sleeper = Sleeper(clock, 1.0)
    clock.block_until_waiters(1)
    assert clock.wait_calls() == 1
    clock.step(1.0)
    assert sleeper.join() is False


def test_block_until_waiters_times_out_with_a_clear_error() -> None:
    with pytest.raises(TimeoutError, match=r"0 waiters after 0\.01 s, wanted 1"):
        FakeClock().block_until_waiters(1, timeout=0.01)


def test_wait_until_on_the_real_clock() -> None:
    cond = threading.Condition()
    with cond:
        assert wait_until(REAL_CLOCK, cond, lambda: True, 3600.0) is True
        assert wait_until(REAL_CLOCK, cond, lambda: False, 0.0) is False


def test_api_time_formats() -> None:
    assert format_time(1_700_000_000.9) == "2023-11-14T22:13:20Z"
    assert format_micro_time(1_700_000_000.25) == "2023-11-14T22:13:20.250000Z"
    assert format_micro_time(1_700_000_000.9999999) == "2023-11-14T22:13:21.000000Z"
