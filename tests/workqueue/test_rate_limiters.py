"""Rate limiters with client-go's values and arithmetic (S58-S60)."""

from __future__ import annotations

import pytest

from kgen.clock import FakeClock
from kgen.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    TokenBucket,
    WithMaxWaitRateLimiter,
    default_controller_rate_limiter,
    default_item_based_rate_limiter,
)

MS = 0.001


def test_exponential_failure() -> None:
    """S58."""
    limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(MS, 1.0)
    assert [limiter.when("one") for _ in range(5)] == [1 * MS, 2 * MS, 4 * MS, 8 * MS, 16 * MS]
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == [1 * MS, 2 * MS]
    assert limiter.num_requeues("two") == 2
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 1 * MS


def test_exponential_failure_caps_without_overflow() -> None:
    """S58: the 6th call is 32 ms; after 1000 calls the next is the 1000 s cap."""
    limiter: ItemExponentialFailureRateLimiter[str] = default_item_based_rate_limiter()
    for _ in range(5):
        limiter.when("one")
    assert limiter.when("one") == 32 * MS
    for _ in range(1000):
        limiter.when("one")
    assert limiter.when("one") == 1000.0
    for _ in range(2000):  # 2**2000 overflows a float: still the cap
        limiter.when("one")
    assert limiter.when("one") == 1000.0

    minutes: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(
        60.0, 1000 * 3600.0
    )
    minutes.when("one")
    minutes.when("one")
    assert minutes.when("one") == 4 * 60.0


def test_fast_slow() -> None:
    """S59."""
    limiter: ItemFastSlowRateLimiter[str] = ItemFastSlowRateLimiter(5 * MS, 10.0, 3)
    assert [limiter.when("one") for _ in range(5)] == [5 * MS, 5 * MS, 5 * MS, 10.0, 10.0]
    assert limiter.num_requeues("one") == 5
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 5 * MS


def test_max_of_asks_every_limiter() -> None:
    """S59: every limiter advances; forget resets both."""
    fast_slow: ItemFastSlowRateLimiter[str] = ItemFastSlowRateLimiter(5 * MS, 3.0, 3)
    exponential: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(MS, 1.0)
    limiter = MaxOfRateLimiter(fast_slow, exponential)
    assert [limiter.when("one") for _ in range(5)] == [5 * MS, 5 * MS, 5 * MS, 3.0, 3.0]
    assert limiter.num_requeues("one") == 5
    assert exponential.num_requeues("one") == 5
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert fast_slow.num_requeues("one") == exponential.num_requeues("one") == 0
    assert limiter.when("one") == 5 * MS
    with pytest.raises(ValueError, match="at least one"):
        MaxOfRateLimiter[str]()


def test_with_max_wait() -> None:
    """S59: a step limiter capped at 500 s."""
    inner: ItemFastSlowRateLimiter[str] = ItemFastSlowRateLimiter(60.0, 1000.0, 1)
    limiter = WithMaxWaitRateLimiter(inner, 500.0)
    assert limiter.when("one") == 60.0
    assert limiter.when("one") == 500.0
    assert limiter.num_requeues("one") == 2
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0


def test_bucket_reservations_on_a_frozen_clock() -> None:
    clock = FakeClock()
    bucket: BucketRateLimiter[str] = BucketRateLimiter(10.0, 3, clock=clock)
    assert [bucket.when("x") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.when("x") == pytest.approx(0.1)
    assert bucket.when("x") == pytest.approx(0.2)
    clock.step(0.3)  # pays back the two reservations and refills one token
    assert bucket.when("x") == 0.0
    clock.step(3600)  # never more than burst
    assert [bucket.when("x") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.when("x") == pytest.approx(0.1)
    assert bucket.num_requeues("x") == 0
    with pytest.raises(ValueError, match="qps"):
        BucketRateLimiter[str](0.0, 1)
    with pytest.raises(ValueError, match="burst"):
        BucketRateLimiter[str](1.0, 0)


def test_default_controller_rate_limiter_doubles_to_the_cap() -> None:
    """S60: 5 ms x 2^(n-1), 327.68 s at the 17th, 655.36 s at the 18th, 1000 s at the 19th."""
    clock = FakeClock()
    limiter: MaxOfRateLimiter[str] = default_controller_rate_limiter(clock=clock)
    delays = [limiter.when("x") for _ in range(19)]
    assert delays[:4] == [5 * MS, 10 * MS, 20 * MS, 40 * MS]
    assert delays[16] == pytest.approx(327.68)
    assert delays[17] == pytest.approx(655.36)
    assert delays[18] == 1000.0
    assert limiter.num_requeues("x") == 19


def test_default_controller_rate_limiter_bucket_is_shared() -> None:
    """S60: 101 distinct items: the first 100 wait 5 ms, the 101st waits ~100 ms."""
    clock = FakeClock()
    limiter: MaxOfRateLimiter[str] = default_controller_rate_limiter(clock=clock)
    delays = [limiter.when(f"item-{i}") for i in range(101)]
    assert delays[:100] == [5 * MS] * 100
    assert delays[100] == pytest.approx(0.1)


def test_token_bucket_try_accept_never_goes_into_debt() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1 / 300, 2, clock=clock)
    assert [bucket.try_accept() for _ in range(3)] == [True, True, False]
    clock.step(299)
    assert not bucket.try_accept()
    clock.step(1)
    assert bucket.try_accept()
    assert not bucket.try_accept()
