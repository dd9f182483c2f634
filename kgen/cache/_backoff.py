"""Exponential backoff with jitter and a periodic reset: the reflector's retry delays.

The defaults are client-go's: 0.8 s doubling up to 30 s, each delay stretched by a random
factor in ``[1, 1 + jitter)``, and the whole sequence restarted from 0.8 s whenever more than
two minutes have passed since it was last restarted.
"""

from __future__ import annotations

import random
import threading

from kgen.clock import REAL_CLOCK, Clock

__all__ = ["Backoff"]


class Backoff:
    """A delay sequence; :meth:`next_delay` returns the next delay (seconds). Thread-safe."""

    def __init__(
        self,
        initial: float = 0.8,
        cap: float = 30.0,
        factor: float = 2.0,
        jitter: float = 1.0,
        reset_after: float = 120.0,
        clock: Clock = REAL_CLOCK,
        rand: random.Random | None = None,
    ) -> None:
        self._initial = initial
        self._cap = cap
        self._factor = factor
        self._jitter = jitter
        self._reset_after = reset_after
        self._clock = clock
        self._rand = rand or random.Random()
        self._lock = threading.Lock()
        self._current = initial
        self._next_reset: float | None = None

    def next_delay(self) -> float:
        """The delay to sleep now; advances the sequence."""
        with self._lock:
            now = self._clock.now()
            if self._next_reset is None or now > self._next_reset:
                self._next_reset = now + self._reset_after
                self._current = self._initial
            delay = self._current
            self._current = min(self._current * self._factor, self._cap)
        if self._jitter > 0:
            delay += self._rand.random() * self._jitter * delay
        return delay
