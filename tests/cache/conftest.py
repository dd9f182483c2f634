"""Fixtures for the cache tests: every test must leave no thread of its own running."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from .helpers import thread_stacks


def check_no_thread_left(
    before: set[threading.Thread], ignore: Callable[[threading.Thread], bool] = lambda _: False
) -> None:
    """Fail if a thread not in ``before`` (nor ``ignore``d) is still alive 2 s from now."""
    deadline = time.monotonic() + 2.0
    while True:
        left = [
            t for t in threading.enumerate() if t not in before and t.is_alive() and not ignore(t)
        ]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not left, f"threads left running: {[t.name for t in left]}\n{thread_stacks()}"


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    """Fail the test if a thread it started is still alive shortly after it ends."""
    before = set(threading.enumerate())
    yield
    check_no_thread_left(before)
