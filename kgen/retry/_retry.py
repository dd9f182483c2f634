"""Retrying an operation: client-go's ``util/retry`` over :class:`~kgen.retry.Backoff`.

:func:`on_error` calls a function until it succeeds, raises an error the ``retriable``
predicate rejects, or has been called ``backoff.steps`` times; between calls it sleeps the
backoff's delays (on the backoff's clock). :func:`retry_on_conflict` is the common case: retry a
read-modify-write whose update lost a race (409 ``Conflict``). Both block the calling thread,
keep no state between calls and may be used from any number of threads at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kgen.clock import sleep
from kgen.rest import is_conflict
from kgen.retry._backoff import Backoff

__all__ = ["DEFAULT_BACKOFF", "DEFAULT_RETRY", "on_error", "retry_on_conflict"]

R = TypeVar("R")

DEFAULT_RETRY = Backoff(initial=0.01, cap=None, factor=1.0, jitter=0.1, reset_after=None, steps=5)
"""For updates that may conflict with another writer: 5 attempts, about 10 ms apart."""

DEFAULT_BACKOFF = Backoff(initial=0.01, cap=None, factor=5.0, jitter=0.1, reset_after=None, steps=4)
"""For calls that may fail against a struggling server: 4 attempts, 10, 50 and 250 ms apart
(each stretched by up to 10%)."""


def on_error(backoff: Backoff, retriable: Callable[[Exception], bool], fn: Callable[[], R]) -> R:
    """Return ``fn()``, calling it again after each error for which ``retriable(err)`` holds.

    ``fn`` is called at most ``backoff.steps`` times, with the delays of a fresh
    :meth:`Backoff.delays` run slept in between. An error ``retriable`` rejects is raised at
    once; when the attempts are used up the last error is raised. Blocks while sleeping.
    """
    steps = backoff.steps
    if steps is None or steps < 1:
        raise ValueError(f"on_error needs a backoff with at least one step, not steps={steps}")
    delays = backoff.delays()
    for attempt in range(1, steps + 1):
        try:
            return fn()
        except Exception as err:
            if attempt == steps or not retriable(err):
                raise
        sleep(backoff.clock, next(delays))
    raise AssertionError("unreachable")  # pragma: no cover


def retry_on_conflict(fn: Callable[[], R], backoff: Backoff = DEFAULT_RETRY) -> R:
    """:func:`on_error` with :func:`kgen.rest.is_conflict` as the predicate.

    ``fn`` must do the whole read-modify-write (get the object, change it, update it), so that
    each attempt starts from the server's current state.
    """
    return on_error(backoff, is_conflict, fn)
