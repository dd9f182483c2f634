"""The decisions of a reflector, sans-I/O: which resourceVersion to list and watch from, what
page size to ask for, what an error means (relist, retry the watch, back off), how each watch
event changes the store and the last synced resourceVersion.

:class:`ReflectorRules` holds one reflector's state (last synced version, whether it is known
to be unavailable, whether the server paginated) and answers those questions; the thread
:class:`~kgen.cache.Reflector` and the asyncio :class:`~kgen.cache.aio.AsyncReflector` do the
listing, watching and sleeping around it. Thread-safe: :meth:`last_sync_resource_version` is
read from other threads; every other method is called by the one task or thread running the
reflector.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
from collections.abc import Mapping
from typing import Any

from kgen.cache._indexer import Indexer, ReflectorStore
from kgen.cache._keys import resource_version_of
from kgen.cache._watch_errors import (
    VeryShortWatchError,
    is_connection_refused,
    is_expired_error,
)
from kgen.clock import Clock
from kgen.meta import meta_field, meta_resource_version
from kgen.pager import DEFAULT_PAGE_SIZE, PagedList
from kgen.rest import (
    ListOptions,
    WatchEvent,
    is_internal_error,
    is_too_large_resource_version,
    is_too_many_requests,
)

__all__ = [
    "DEFAULT_MIN_WATCH_TIMEOUT",
    "INITIAL_EVENTS_END_ANNOTATION",
    "ReflectorRules",
    "WatchEnd",
]

log = logging.getLogger("kgen.cache")

DEFAULT_MIN_WATCH_TIMEOUT = 300.0
"""A watch asks the server to end it after a random time between this and twice this."""
INITIAL_EVENTS_END_ANNOTATION = "k8s.io/initial-events-end"
"""Marks the bookmark that ends the initial events of a streaming list."""


class WatchEnd(enum.Enum):
    """What to do after a watch ended with an error."""

    BACK_OFF = "back off, then watch again from the last version"
    RETRY = "watch again at once (an internal error within the retry window)"
    RELIST = "end the round: list again after the backoff"


class ReflectorRules:
    """One reflector's list/watch state and decisions; see the module docstring."""

    def __init__(
        self,
        name: str,
        *,
        clock: Clock,
        expected_type: type | None = None,
        min_watch_timeout: float = 0.0,
        page_size: int = 0,
        max_internal_error_retry_duration: float = 0.0,
        rand: random.Random | None = None,
    ) -> None:
        self.name = name
        self._clock = clock
        self._expected_type = expected_type
        self._min_watch_timeout = max(min_watch_timeout, DEFAULT_MIN_WATCH_TIMEOUT)
        self._page_size = page_size
        self._max_internal_error_retry = max_internal_error_retry_duration
        self._rand = rand or random.Random()
        self._lock = threading.Lock()
        self._last_sync_rv = ""
        self._rv_unavailable = False
        self._paginated_result = False
        self._internal_error_since: float | None = None
        self._propagate = False

    # -- resource versions --------------------------------------------------------------------

    def last_sync_resource_version(self) -> str:
        """The resourceVersion the store was last brought up to (``""`` before the first list)."""
        with self._lock:
            return self._last_sync_rv

    def synced_to(self, resource_version: str) -> None:
        """The store now holds the state at ``resource_version`` (a list or the end of a
        streaming list's initial events): later lists and watches start from it."""
        with self._lock:
            self._last_sync_rv = resource_version
            self._rv_unavailable = False

    def mark_unavailable(self) -> None:
        """The last version is gone or too new: the next list reads consistently (``""``)."""
        with self._lock:
            self._rv_unavailable = True

    def watch_list_resource_version(self) -> str:
        """Where a streaming list starts: the last version, or ``""`` when it is unavailable."""
        with self._lock:
            return "" if self._rv_unavailable else self._last_sync_rv

    # -- listing ------------------------------------------------------------------------------

    def list_options(self) -> ListOptions:
        """The options of the next (re)list: ``"0"`` first (any cached state), the last version
        later, ``""`` once it is known to be unavailable."""
        with self._lock:
            rv = "" if self._rv_unavailable else (self._last_sync_rv or "0")
        return ListOptions(resource_version=rv)

    def page_size(self, options: ListOptions) -> int:
        """The page size to list ``options`` with (0: one unpaginated list): the forced size,
        else 500, except for an exact version the watch cache serves whole, unless the server
        paginated a ``"0"`` list before."""
        if self._page_size:
            return self._page_size
        if self._paginated_result:
            return DEFAULT_PAGE_SIZE
        if options.resource_version not in ("", "0"):
            return 0
        return DEFAULT_PAGE_SIZE

    def list_failed(self, err: BaseException) -> bool:
        """Whether a failed list should be tried again at once with a consistent read (the
        version was gone or too new); otherwise the round fails."""
        if is_expired_error(err) or is_too_large_resource_version(err):
            self.mark_unavailable()
            return True
        return False

    def listed(self, options: ListOptions, result: PagedList) -> None:
        """Record a successful list (before the store is replaced with it)."""
        if options.resource_version == "0" and result.paginated:
            self._paginated_result = True

    # -- streaming lists ----------------------------------------------------------------------

    def watch_list_options(self) -> ListOptions:
        """Options of a streaming list: a watch from the last version (``""`` when unavailable)
        that first sends the current state as ADDED events, ended by a marked bookmark."""
        return ListOptions(
            resource_version=self.watch_list_resource_version(),
            resource_version_match="NotOlderThan",
            send_initial_events=True,
            allow_watch_bookmarks=True,
            timeout_seconds=self.watch_timeout(),
        )

    def initial_event(self, temp: Indexer[Any], event: WatchEvent[Any]) -> str | None:
        """Apply one event of a streaming list's initial state to ``temp``; return the
        resourceVersion of the bookmark that ends the initial events (then replace the store
        with ``temp`` and call :meth:`synced_to`), else ``None``."""
        obj = event.object
        if event.type == "BOOKMARK":
            annotations = meta_field(obj, "annotations")
            if (
                isinstance(annotations, Mapping)
                and annotations.get(INITIAL_EVENTS_END_ANNOTATION) == "true"
            ):
                return meta_resource_version(obj)
            return None
        if not self.accepts(obj):
            return None
        if event.type in ("ADDED", "MODIFIED"):
            temp.update(obj)
        elif event.type == "DELETED":
            temp.delete(obj)
        return None

    def watch_list_failed(self, err: BaseException) -> None:
        """A streaming list failed with ``err``: an expired or too new version is unavailable."""
        if is_expired_error(err) or is_too_large_resource_version(err):
            self.mark_unavailable()

    # -- watching -----------------------------------------------------------------------------

    def watch_timeout(self) -> int:
        """``timeoutSeconds`` of the next watch: random in [min, 2*min)."""
        return int(self._min_watch_timeout * (1.0 + self._rand.random()))

    def watch_options(self) -> ListOptions:
        """Options of the next watch: from the last version, bookmarks on, with a timeout."""
        return ListOptions(
            resource_version=self.last_sync_resource_version(),
            timeout_seconds=self.watch_timeout(),
            allow_watch_bookmarks=True,
        )

    def start_watching(self) -> None:
        """A new watch loop begins (after a list): forget earlier internal errors."""
        self._internal_error_since = None

    def watch_start_failed(self, err: BaseException) -> bool:
        """Whether a watch that could not start should be retried after a backoff (server
        unreachable or throttling); otherwise the round fails."""
        return is_connection_refused(err) or is_too_many_requests(err)

    def watch_failed(self, err: BaseException) -> WatchEnd:
        """What a watch that ended with ``err`` calls for (logged here when it is a relist)."""
        if is_too_many_requests(err):
            return WatchEnd.BACK_OFF
        if is_internal_error(err) and self._max_internal_error_retry > 0:
            now = self._clock.now()
            if self._internal_error_since is None:
                self._internal_error_since = now
            if now - self._internal_error_since < self._max_internal_error_retry:
                return WatchEnd.RETRY
        if is_expired_error(err):
            log.info("%s: watch closed: %s", self.name, err)
        else:
            log.warning("%s: watch ended with an error: %s", self.name, err)
        return WatchEnd.RELIST

    def accepts(self, obj: object) -> bool:
        """Whether ``obj`` is of the expected type (an error is logged when not)."""
        if self._expected_type is None or isinstance(obj, self._expected_type):
            return True
        log.error(
            "%s: expected type %s, but watch event object had type %s",
            self.name,
            self._expected_type.__name__,
            type(obj).__name__,
        )
        return False

    def watch_opened(self, start_rv: str) -> None:
        """A watch from ``start_rv`` is about to deliver events."""
        self._propagate = start_rv not in ("", "0")

    def apply(self, store: ReflectorStore, event: WatchEvent[Any]) -> bool:
        """Apply one watch event to ``store`` and advance the last version (once the watch
        carries versions the store can be said to be at: not during the synthetic ADDs of a
        watch from ``"0"``). Returns whether the event counts as received (not of a foreign
        type or unknown kind). A store error is logged, the event still counts."""
        obj = event.object
        expected = self._expected_type
        if expected is not None and not isinstance(obj, expected) and not self.accepts(obj):
            return False
        kind = event.type
        try:
            if kind == "MODIFIED":
                store.update(obj)
            elif kind == "ADDED":
                store.add(obj)
            elif kind == "DELETED":
                store.delete(obj)
            elif kind != "BOOKMARK":
                log.error("%s: unknown watch event type %r", self.name, kind)
                return False
        except Exception as err:
            log.error("%s: unable to apply %s event to the store: %s", self.name, kind, err)
        if kind != "ADDED":
            self._propagate = True
        if self._propagate:
            rv = resource_version_of(obj)
            with self._lock:
                self._last_sync_rv = rv
        return True

    def check_watch_length(self, count: int, started: float) -> None:
        """Raise :class:`VeryShortWatchError` for a watch that ended normally within a second
        having delivered nothing (the server is likely refusing it: back off)."""
        if count == 0 and self._clock.now() - started < 1.0:
            raise VeryShortWatchError(
                f"very short watch: {self.name}: Unexpected watch close - "
                "watch lasted less than a second and no items received"
            )
