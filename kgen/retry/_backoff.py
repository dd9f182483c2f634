"""Exponential backoff with jitter, a step budget and an optional periodic reset.

One type serves two uses, with apimachinery's ``wait.Backoff`` arithmetic in both:

* :meth:`Backoff.delays` is a fresh run of delays from the start, for one retry loop
  (:func:`kgen.retry.on_error` takes its delays from here, so a shared :class:`Backoff` such as
  :data:`kgen.retry.DEFAULT_RETRY` is never advanced by a caller).
* :meth:`Backoff.next_delay` walks one shared run that starts over once ``reset_after``
  seconds have passed since it last started over: the reflector's retry delays.

The run: the first delay is ``initial``; each delay is the previous one times ``factor`` (a
``factor`` of 0 keeps it constant), until a delay would exceed ``cap``: from then on every
delay is ``cap``. ``steps`` counts the delays that grow; once they are used up the last one
repeats. Each delay handed out is stretched by a random factor in ``[1, 1 + jitter)`` (none
when ``jitter`` is 0). The defaults are the reflector's (client-go's): 0.8 s doubling up to
30 s, jitter 1.0, restarted when more than two minutes have passed since the last restart.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

from kgen.clock import REAL_CLOCK, Clock

__all__ = ["Backoff"]


class Backoff:
    """A delay sequence (see the module docstring). Thread-safe.

    ``cap``: ``None`` for no cap. ``reset_after``: ``None`` to never start over.
    ``steps``: ``None`` for no budget (the growth then stops only at ``cap``).
    """

    def __init__(
        self,
        initial: float = 0.8,
        cap: float | None = 30.0,
        factor: float = 2.0,
        jitter: float = 1.0,
        reset_after: float | None = 120.0,
        clock: Clock = REAL_CLOCK,
        rand: random.Random | None = None,
        *,
        steps: int | None = None,
    ) -> None:
        if initial < 0:
            raise ValueError(f"Backoff: initial must not be negative, not {initial}")
        if steps is not None and steps < 0:
            raise ValueError(f"Backoff: steps must not be negative, not {steps}")
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self.reset_after = reset_after
        self.steps = steps
        self.clock = clock
        self._rand = rand or random.Random()
        self._lock = threading.Lock()
        self._run = self.delays()
        self._next_reset: float | None = None

    def delays(self) -> Iterator[float]:
        """A new, endless run of delays from the start; independent of :meth:`next_delay`.

        The iterator is for one thread; the :class:`Backoff` itself is not changed by it.
        """
        duration = self.initial
        steps = self.steps
        while True:
            delay = duration
            if steps is None or steps > 0:
                if steps is not None:
                    steps -= 1
                if self.factor != 0:
                    duration *= self.factor
                    if self.cap is not None and duration > self.cap:
                        duration = self.cap
                        steps = 0
            yield self._jittered(delay)

    def next_delay(self) -> float:
        """The next delay of the shared run; advances it (starting over first when due)."""
        with self._lock:
            now = self.clock.now()
            if self._next_reset is None or (
                self.reset_after is not None and now > self._next_reset
            ):
                self._next_reset = now + (self.reset_after or 0.0)
                self._run = self.delays()
            return next(self._run)

    def reset(self) -> None:
        """Start the shared run over: the next :meth:`next_delay` is ``initial`` again."""
        with self._lock:
            self._next_reset = None

    def _jittered(self, delay: float) -> float:
        if self.jitter > 0:
            return delay + self._rand.random() * self.jitter * delay
        return delay
