"""Reflector: keeps a store in step with a server collection by listing, then watching.

One :meth:`Reflector.run` loop per reflector, on its caller's thread:

1. List (or, with ``use_watch_list``, open a streaming watch whose initial events stand in for
   the list) and :meth:`~kgen.cache.ReflectorStore.replace` the store with the result.
2. Watch from the list's resourceVersion, applying each event to the store, and watch again
   from the last seen resourceVersion whenever the server ends a watch normally.
3. When a list or watch fails, wait a backoff delay and start over at 1.

Resource versions follow the API server's rules: the first list asks for ``"0"`` (any cached
state), later lists for the last version seen, and ``""`` (a consistent read) once the last
version is known to be gone (410 ``Expired``/``Gone``) or too new for the server. Initial lists
are paginated (500 per page) by a :class:`kgen.pager.ListPager`, which falls back to one full
list when a page has expired.

While :meth:`Reflector.run` runs, a resync thread of its own calls ``store.resync()`` every
``resync_period`` seconds when ``should_resync()`` agrees. :meth:`Reflector.stop` may be called
from any thread; it ends the current watch at once (a list in progress finishes first), then
:meth:`run` joins the resync thread and returns. A reflector runs once: it cannot be restarted.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from kgen.cache._indexer import Indexer, ReflectorStore
from kgen.cache._listwatch import ListerWatcher, ObjectList, WatchInterface
from kgen.cache._reflector_rules import INITIAL_EVENTS_END_ANNOTATION, ReflectorRules, WatchEnd
from kgen.cache._watch_errors import ListFailedError, is_expired_error
from kgen.clock import REAL_CLOCK, Clock, wait_until
from kgen.pager import DEFAULT_PAGE_SIZE, ListPager, PagedList
from kgen.rest import ListOptions
from kgen.retry import Backoff

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "INITIAL_EVENTS_END_ANNOTATION",
    "Reflector",
    "WatchErrorHandler",
    "default_watch_error_handler",
]

log = logging.getLogger("kgen.cache")


class NamedReflector(Protocol):
    """What :func:`default_watch_error_handler` needs of a reflector (either kind)."""

    name: str


WatchErrorHandler = Callable[["Reflector", BaseException], None]
"""Called (on the reflector's thread) with every error that ends a list-and-watch round,
before the backoff delay."""


def default_watch_error_handler(reflector: NamedReflector, err: BaseException) -> None:
    """Log the error: quietly for an expired resource version, as a warning otherwise."""
    if is_expired_error(err) or is_expired_error(err.__cause__ or err):
        log.info("%s: watch closed: %s", reflector.name, err)
    else:
        log.warning("%s: failed to list or watch: %s", reflector.name, err)


class _StopRequested(Exception):
    pass


class Reflector:
    """Mirrors a collection into ``store``. See the module docstring for the algorithm.

    ``expected_type``: events whose object is not an instance are skipped (dict objects are
    accepted when ``expected_type`` is ``dict``). ``page_size`` forces the page size of lists.
    ``min_watch_timeout`` is honoured only above 300 s. ``max_internal_error_retry_duration``:
    for how long after the first 500 a watch is simply restarted (0: never). ``use_watch_list``
    enables streaming lists unless the lister-watcher sets ``watch_list_semantics_unsupported``.
    """

    def __init__(
        self,
        lister_watcher: ListerWatcher[Any],
        store: ReflectorStore,
        *,
        name: str = "reflector",
        expected_type: type | None = None,
        resync_period: float = 0.0,
        should_resync: Callable[[], bool] | None = None,
        clock: Clock = REAL_CLOCK,
        backoff: Backoff | None = None,
        min_watch_timeout: float = 0.0,
        page_size: int = 0,
        use_watch_list: bool = False,
        max_internal_error_retry_duration: float = 0.0,
        watch_error_handler: WatchErrorHandler = default_watch_error_handler,
        rand: random.Random | None = None,
    ) -> None:
        self.name = name
        self._lw = lister_watcher
        self._store = store
        self._rules = ReflectorRules(
            name,
            clock=clock,
            expected_type=expected_type,
            min_watch_timeout=min_watch_timeout,
            page_size=page_size,
            max_internal_error_retry_duration=max_internal_error_retry_duration,
            rand=rand,
        )
        self._resync_period = resync_period
        self._should_resync = should_resync
        self._clock = clock
        self._backoff = backoff or Backoff(clock=clock)
        self._use_watch_list = use_watch_list and not getattr(
            lister_watcher, "watch_list_semantics_unsupported", False
        )
        self._watch_error_handler = watch_error_handler
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stop_cond = threading.Condition()  # notified when _stop is set
        self._watch: WatchInterface[Any] | None = None

    # -- public -------------------------------------------------------------------------------

    def last_sync_resource_version(self) -> str:
        """The resourceVersion the store was last brought up to (``""`` before the first list)."""
        return self._rules.last_sync_resource_version()

    def run(self) -> None:
        """List and watch until :meth:`stop`, backing off between rounds. Blocks."""
        resync_thread: threading.Thread | None = None
        if self._resync_period > 0:
            resync_thread = threading.Thread(
                target=self._resync_loop, name=f"{self.name}-resync", daemon=True
            )
            resync_thread.start()
        try:
            while not self._stop.is_set():
                try:
                    self.list_and_watch()
                except Exception as err:
                    if self._stop.is_set():
                        break
                    try:
                        self._watch_error_handler(self, err)
                    except Exception:
                        log.exception("%s: the watch error handler failed", self.name)
                if self._stop.is_set() or self._sleep(self._backoff.next_delay()):
                    break
        finally:
            self._set_stop()
            if resync_thread is not None:
                resync_thread.join()

    def stop(self) -> None:
        """Make :meth:`run` return soon; ends the current watch. Thread-safe, idempotent."""
        self._set_stop()
        with self._lock:
            current = self._watch
        if current is not None:
            current.stop()

    def list_and_watch(self) -> None:
        """One round: list (or stream-list) into the store, then watch until the watch fails.

        Returns normally when stopped or when the watch ends in a way a relist cures; raises
        :class:`ListFailedError` or the watch-start error otherwise.
        """
        try:
            watch: WatchInterface[Any] | None = None
            if self._use_watch_list:
                try:
                    watch = self._watch_list()
                except _StopRequested:
                    raise
                except Exception as err:
                    log.warning("%s: streaming list failed, listing instead: %s", self.name, err)
            if watch is None:
                self._list()
            self._watch_loop(watch)
        except _StopRequested:
            return

    # -- listing ------------------------------------------------------------------------------

    def _list(self) -> None:
        rules = self._rules
        options = rules.list_options()
        page_size = rules.page_size(options)
        try:
            result = self._paged_list(options, page_size)
        except _StopRequested:
            raise
        except Exception as err:
            if not rules.list_failed(err):
                raise ListFailedError(f"failed to list {self.name}: {err}") from err
            options = ListOptions(resource_version="")
            try:
                result = self._paged_list(options, page_size)
            except Exception as err2:
                raise ListFailedError(f"failed to list {self.name}: {err2}") from err2
        rules.listed(options, result)
        self._store.replace(result.items, result.resource_version)
        rules.synced_to(result.resource_version)

    def _paged_list(self, options: ListOptions, page_size: int) -> PagedList:
        def page(page_options: ListOptions) -> ObjectList | Mapping[str, Any]:
            if self._stop.is_set():
                raise _StopRequested()
            return self._lw.list(page_options)

        return ListPager(page, page_size=page_size).list(options)

    def _watch_list(self) -> WatchInterface[Any] | None:
        """Open a streaming list; return the watch once the initial events are stored."""
        rules = self._rules
        watch = self._lw.watch(rules.watch_list_options())
        self._set_watch(watch)
        temp: Indexer[Any] = Indexer()
        try:
            for event in watch:
                if self._stop.is_set():
                    raise _StopRequested()
                synced_rv = rules.initial_event(temp, event)
                if synced_rv is not None:
                    self._store.replace(temp.list(), synced_rv)
                    rules.synced_to(synced_rv)
                    return watch
        except Exception as err:
            watch.stop()
            self._set_watch(None)
            rules.watch_list_failed(err)
            raise
        watch.stop()
        self._set_watch(None)
        if self._stop.is_set():
            raise _StopRequested()
        raise ListFailedError(f"{self.name}: the streaming list ended before its initial events")

    # -- watching -----------------------------------------------------------------------------

    def _set_watch(self, watch: WatchInterface[Any] | None) -> None:
        with self._lock:
            self._watch = watch
        if watch is not None and self._stop.is_set():
            watch.stop()

    def _watch_loop(self, watch: WatchInterface[Any] | None) -> None:
        rules = self._rules
        rules.start_watching()
        while not self._stop.is_set():
            start_rv = rules.last_sync_resource_version()
            if watch is None:
                try:
                    watch = self._lw.watch(rules.watch_options())
                except Exception as err:
                    if rules.watch_start_failed(err):
                        if self._sleep(self._backoff.next_delay()):
                            raise _StopRequested() from err
                        continue
                    raise
                self._set_watch(watch)
            started = self._clock.now()
            try:
                self._handle_watch(watch, start_rv, started)
            except Exception as err:
                if self._stop.is_set():
                    raise _StopRequested() from err
                end = rules.watch_failed(err)
                if end is WatchEnd.BACK_OFF:
                    if self._sleep(self._backoff.next_delay()):
                        raise _StopRequested() from err
                    continue
                if end is WatchEnd.RETRY:
                    continue
                return
            finally:
                watch.stop()
                self._set_watch(None)
                watch = None
        raise _StopRequested()

    def _handle_watch(self, watch: WatchInterface[Any], start_rv: str, started: float) -> None:
        rules = self._rules
        rules.watch_opened(start_rv)
        count = 0
        for event in watch:
            if self._stop.is_set():
                return
            if rules.apply(self._store, event):
                count += 1
        if not self._stop.is_set():
            rules.check_watch_length(count, started)

    def _set_stop(self) -> None:
        with self._stop_cond:
            self._stop.set()
            self._stop_cond.notify_all()

    def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` on the clock, or less if stopped; return whether stopped."""
        with self._stop_cond:
            return wait_until(self._clock, self._stop_cond, self._stop.is_set, seconds)

    # -- resync -------------------------------------------------------------------------------

    def _resync_loop(self) -> None:
        while not self._sleep(self._resync_period):
            if self._should_resync is None or self._should_resync():
                try:
                    self._store.resync()
                except Exception as err:
                    log.error("%s: resync failed: %s", self.name, err)
