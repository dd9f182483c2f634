"""Test helpers: waiting for a condition, and running a reflector on a thread."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kgen.cache import Backoff, Reflector


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


def thread_stacks() -> str:
    """Every thread's current stack, for the message of an assertion about a stall."""
    names = {t.ident: t.name for t in threading.enumerate()}
    return "\n".join(
        f"--- {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame))
        for ident, frame in sys._current_frames().items()
    )


class CountingBackoff(Backoff):
    """A backoff that waits almost nothing and counts how often it was asked."""

    def __init__(self) -> None:
        super().__init__(initial=0.001, cap=0.001, jitter=0.0)
        self.calls = 0

    def next_delay(self) -> float:
        self.calls += 1
        return super().next_delay()


@contextmanager
def running(reflector: Reflector) -> Iterator[Reflector]:
    """Run ``reflector`` on a thread for the duration of the block, then stop and join it."""
    thread = threading.Thread(target=reflector.run, name="test-reflector")
    thread.start()
    try:
        yield reflector
    finally:
        reflector.stop()
        thread.join(timeout=10)
        assert not thread.is_alive()
