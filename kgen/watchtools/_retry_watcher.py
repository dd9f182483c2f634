"""RetryWatcher: one unbroken stream of events over watches that the server or network end.

Iterating a :class:`RetryWatcher` opens a watch from the last resourceVersion it delivered
(``allowWatchBookmarks`` on), hands out its ``ADDED``/``MODIFIED``/``DELETED`` events, and when
that watch ends opens the next one from the last resourceVersion seen (a ``BOOKMARK`` advances
it without being handed out). So the consumer sees every event exactly once, in order, as long
as the server's history still reaches back to that resourceVersion.

Restarts:

* a watch the server ends normally (its timeout, a cut connection): at once, but never sooner
  than ``min_restart_delay`` after the previous watch was opened;
* a failed watch (429, 5xx, an ``ERROR`` event other than 410, a frame that does not decode, a
  connection failure, a watch ending empty within a second): after ``max(Retry-After,
  backoff.next_delay())``; the backoff starts over once a watch delivers an event.

It ends for good on:

* a 410 (``Expired``/``Gone``: the history no longer reaches back; list again): the server's
  :class:`kgen.rest.StatusError` is raised from the iteration;
* a 401 or 403 when opening a watch: that :class:`~kgen.rest.StatusError` is raised;
* an object without a resourceVersion, or an unknown event type: :class:`RetryWatcherError`
  (going on could skip events);
* :meth:`RetryWatcher.stop`, from any thread: the iteration ends (no error) at once, also
  while it waits to restart or reads a silent watch (a watch being opened is stopped as soon
  as the server answers).

Threads: none of its own. Iterate from one thread at a time; a new iteration (after a
``break``) resumes after the last event handed out. ``stop()`` may be called from any thread,
any number of times.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator, Iterator
from types import TracebackType
from typing import Generic, Protocol, TypeVar

import requests

from kgen.cache import WatchInterface
from kgen.clock import REAL_CLOCK, Clock, wait_until
from kgen.meta import meta_resource_version
from kgen.rest import (
    ListOptions,
    StatusError,
    WatchEvent,
    is_forbidden,
    is_gone,
    is_resource_expired,
    is_unauthorized,
)
from kgen.retry import Backoff

__all__ = ["DEFAULT_MIN_RESTART_DELAY", "RetryWatcher", "RetryWatcherError", "Watcher"]

log = logging.getLogger("kgen.watchtools")

T = TypeVar("T")

DEFAULT_MIN_RESTART_DELAY = 1.0
"""Watches are opened at most this often (client-go's minimum restart delay)."""
SHORT_WATCH = 1.0
"""A watch that ends empty sooner than this counts as failed."""


class Watcher(Protocol[T]):
    """Opens watches: a :class:`kgen.cache.ListWatch`, or anything with ``watch(options)``
    (``ListWatch.from_client(client)`` adapts a typed or dynamic client)."""

    def watch(self, options: ListOptions) -> WatchInterface[T]: ...


class RetryWatcherError(Exception):
    """The watch cannot go on without risking a missed event (see the module docstring)."""


class _Stopped(Exception):
    pass


def _terminal_status(err: StatusError, opening: bool) -> bool:
    if is_gone(err) or is_resource_expired(err) or err.code == 410:
        return True
    return opening and (is_forbidden(err) or is_unauthorized(err))


class RetryWatcher(Generic[T]):
    """Watches through ``watcher_client`` from ``initial_resource_version`` on, restarting as
    the module docstring says.

    ``initial_resource_version`` must name a point in history: ``""`` and ``"0"`` (which make
    the server start with synthetic ADDED events of whatever it holds) are refused.
    ``label_selector``/``field_selector`` go to every watch. ``backoff`` spaces restarts after
    failures (default: 1 s doubling to 30 s, jitter 0.1); ``clock`` is for tests.
    """

    def __init__(
        self,
        initial_resource_version: str,
        watcher_client: Watcher[T],
        *,
        label_selector: str = "",
        field_selector: str = "",
        min_restart_delay: float = DEFAULT_MIN_RESTART_DELAY,
        backoff: Backoff | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        if initial_resource_version in ("", "0"):
            raise ValueError(
                f"RetryWatcher: initial resourceVersion {initial_resource_version!r} is not "
                "supported: the watch would start with a synthetic list; pass the "
                "resourceVersion of a list or an object"
            )
        self._client = watcher_client
        self._selectors = (label_selector, field_selector)
        self._min_restart_delay = min_restart_delay
        self._backoff = backoff or Backoff(initial=1.0, cap=30.0, jitter=0.1, clock=clock)
        self._clock = clock
        self._cond = threading.Condition()
        self._resource_version = initial_resource_version
        self._stopped = False
        self._done = False
        self._watch: WatchInterface[T] | None = None

    @property
    def resource_version(self) -> str:
        """The resourceVersion the next watch starts from (the last one seen)."""
        with self._cond:
            return self._resource_version

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` has been called."""
        with self._cond:
            return self._stopped

    def stop(self) -> None:
        """End the iteration promptly (the current watch is stopped). Thread-safe, idempotent."""
        with self._cond:
            self._stopped = True
            current = self._watch
            self._cond.notify_all()
        if current is not None:
            current.stop()

    def __iter__(self) -> Iterator[WatchEvent[T]]:
        with self._cond:
            if self._done:
                return
        try:
            next_start = self._clock.now()
            while True:
                self._pause_until(next_start)
                started = self._clock.now()
                delay = yield from self._one_watch(started)
                earliest = started + self._min_restart_delay
                next_start = earliest if delay is None else max(earliest, self._clock.now() + delay)
        except _Stopped:
            return
        except BaseException as err:
            if not isinstance(err, GeneratorExit):
                with self._cond:
                    self._done = True
            raise

    def _pause_until(self, when: float) -> None:
        with self._cond:
            remaining = when - self._clock.now()
            if remaining > 0:
                wait_until(self._clock, self._cond, lambda: self._stopped, remaining)
            if self._stopped:
                raise _Stopped()

    def _failure_delay(self, err: BaseException | None = None) -> float:
        retry_after = err.retry_after_seconds if isinstance(err, StatusError) else 0
        return max(float(retry_after), self._backoff.next_delay())

    def _open(self) -> WatchInterface[T]:
        label_selector, field_selector = self._selectors
        options = ListOptions(
            resource_version=self.resource_version,
            allow_watch_bookmarks=True,
            label_selector=label_selector,
            field_selector=field_selector,
        )
        watch = self._client.watch(options)
        with self._cond:
            self._watch = watch
            stopped = self._stopped
        if stopped:
            watch.stop()
            raise _Stopped()
        return watch

    def _one_watch(self, started: float) -> Generator[WatchEvent[T], None, float | None]:
        """Run one watch; return ``None`` after a normal end, else the delay before the next.

        Written as a generator returning that value (``yield from``)."""
        try:
            watch = self._open()
        except StatusError as err:
            if _terminal_status(err, opening=True):
                raise
            log.info("watch from %s failed, retrying: %s", self.resource_version, err)
            return self._failure_delay(err)
        except (requests.RequestException, OSError) as err:
            log.info("watch from %s failed, retrying: %s", self.resource_version, err)
            return self._failure_delay()
        received = 0
        try:
            for event in watch:
                if self.stopped:
                    raise _Stopped()
                if event.type not in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
                    raise RetryWatcherError(
                        f"RetryWatcher: unknown watch event type {event.type!r}"
                    )
                rv = meta_resource_version(event.object)
                if not rv:
                    raise RetryWatcherError(
                        f"RetryWatcher: a {event.type} event's object has no resourceVersion: "
                        f"{event.object!r:.200}"
                    )
                received += 1
                if received == 1:
                    self._backoff.reset()
                with self._cond:
                    self._resource_version = rv
                if event.type != "BOOKMARK":
                    yield event
        except StatusError as err:
            if _terminal_status(err, opening=False):
                raise
            log.info("watch from %s ended with an error, retrying: %s", self.resource_version, err)
            return self._failure_delay(err)
        except (requests.RequestException, OSError) as err:
            log.info("watch from %s broke, retrying: %s", self.resource_version, err)
            return self._failure_delay()
        finally:
            watch.stop()
            with self._cond:
                self._watch = None
        if self.stopped:
            raise _Stopped()
        if received == 0 and self._clock.now() - started < SHORT_WATCH:
            return self._failure_delay()
        return None

    def __enter__(self) -> RetryWatcher[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
