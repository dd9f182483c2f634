"""Waiting on a watch until a sequence of conditions holds: client-go's ``tools/watch`` Until*.

Conditions are met in order: each one is offered events (starting with the event that
satisfied the previous one) until it returns true. A condition that raises ends the wait
with that exception. The functions return the last event seen (``None`` when there are no
conditions, or when the precondition of :func:`until_with_sync` already holds), and raise:

* :class:`WaitTimeoutError` when ``timeout`` seconds pass first (``None``: no limit);
* :class:`WatchClosedError` when the watch ends first (only :func:`until_without_retry`:
  the others restart their watches);
* whatever the watch raises (a 410 :class:`kgen.rest.StatusError` from :func:`until`'s
  :class:`~kgen.watchtools.RetryWatcher` when history no longer reaches back).

All of them block the calling thread and stop the watch they use before returning. A timeout
is enforced by a timer thread that stops the watch; it is joined before returning.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kgen.cache import Indexer, ListerWatcher, WatchInterface, wait_for_cache_sync
from kgen.rest import WatchEvent
from kgen.watchtools._informer_watcher import new_indexer_informer_watcher
from kgen.watchtools._retry_watcher import RetryWatcher, Watcher

__all__ = [
    "ConditionFunc",
    "PreconditionFunc",
    "WaitTimeoutError",
    "WatchClosedError",
    "until",
    "until_with_sync",
    "until_without_retry",
]

T = TypeVar("T")

ConditionFunc = Callable[[WatchEvent[T]], bool]
"""True once the awaited state is reached; may raise to give up."""
PreconditionFunc = Callable[[Indexer[T]], bool]
"""Checked once against the synced cache: true means there is nothing to wait for."""


class WaitTimeoutError(TimeoutError):
    """The timeout passed before every condition held. ``last_event``: the last event seen."""

    def __init__(self, message: str, last_event: WatchEvent[Any] | None) -> None:
        super().__init__(message)
        self.last_event = last_event


class WatchClosedError(Exception):
    """The watch ended before every condition held. ``last_event``: the last event seen."""

    def __init__(self, message: str, last_event: WatchEvent[Any] | None) -> None:
        super().__init__(message)
        self.last_event = last_event


def until_without_retry(
    watch: WatchInterface[T], *conditions: ConditionFunc[T], timeout: float | None = None
) -> WatchEvent[T] | None:
    """Read ``watch`` until each condition holds in turn (see the module docstring).

    The watch ends the wait when it ends: use :func:`until` or :func:`until_with_sync` unless
    the watch restarts itself.
    """
    timed_out = threading.Event()
    timer: threading.Timer | None = None
    if timeout is not None:

        def expire() -> None:
            timed_out.set()
            watch.stop()

        timer = threading.Timer(max(timeout, 0.0), expire)
        timer.name = "kgen-watchtools-timeout"
        timer.daemon = True
        timer.start()
    last: WatchEvent[T] | None = None
    try:
        events = iter(watch)
        for condition in conditions:
            if last is not None and condition(last):
                continue
            while True:
                event = next(events, None)
                if event is None:
                    if timed_out.is_set():
                        raise WaitTimeoutError("timed out waiting for the conditions", last)
                    raise WatchClosedError("watch closed before the conditions held", last)
                last = event
                if condition(event):
                    break
        return last
    finally:
        if timer is not None:
            timer.cancel()
            timer.join()
        watch.stop()


def until(
    initial_resource_version: str,
    watcher_client: Watcher[T],
    *conditions: ConditionFunc[T],
    timeout: float | None = None,
) -> WatchEvent[T] | None:
    """Watch from ``initial_resource_version`` through a :class:`RetryWatcher` until each
    condition holds in turn: every event is seen once, in order, across watch restarts.

    Raises the watcher's 410 when the history no longer reaches ``initial_resource_version``
    (use :func:`until_with_sync` to survive that); ``""`` and ``"0"`` are refused.
    """
    watcher = RetryWatcher(initial_resource_version, watcher_client)
    return until_without_retry(watcher, *conditions, timeout=timeout)


def until_with_sync(
    lister_watcher: ListerWatcher[T],
    object_type: type[T] | None,
    precondition: PreconditionFunc[T] | None,
    *conditions: ConditionFunc[T],
    timeout: float | None = None,
) -> WatchEvent[T] | None:
    """Run an informer over ``lister_watcher`` and wait until each condition holds in turn.

    The conditions see the informer's notifications as events (``ADDED`` for each object of
    the first list, then the changes), so no change between the list and the watch is missed
    and expired resource versions are survived by relisting (intermediate states may then be
    skipped). When ``precondition`` is given, it is checked once the cache has synced: if it
    holds, ``None`` is returned at once. The informer is stopped (its threads joined) before
    returning.
    """
    deadline = None if timeout is None else time.monotonic() + timeout

    def remaining() -> float | None:
        return None if deadline is None else max(deadline - time.monotonic(), 0.0)

    indexer, informer, watch = new_indexer_informer_watcher(lister_watcher, object_type)
    try:
        if precondition is not None:
            if not wait_for_cache_sync(informer.has_synced, timeout=remaining()):
                raise WaitTimeoutError("timed out: unable to sync the informer's cache", None)
            if precondition(indexer):
                return None
        return until_without_retry(watch, *conditions, timeout=remaining())
    finally:
        watch.stop()
