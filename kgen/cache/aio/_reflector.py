"""AsyncReflector: the :class:`~kgen.cache.Reflector`'s algorithm on an asyncio task.

Every decision is the sync reflector's (:class:`kgen.cache._reflector_rules.ReflectorRules`):
list with paging (:func:`kgen.pager.async_paged_list`, falling back to one full list when a
continue token expires) from ``"0"``, the last version, or ``""`` once that is gone; watch from
the list's version with bookmarks, advancing the version with every event; a watch the server
ends (timeout, cut connection, silence past ``Config.watch_read_timeout``) is opened again from
the last version; a 410 or another error ends the round, which is retried after the backoff;
429 and a refused connection back off and watch again. What is asyncio's is the waiting: the
backoff and resync sleeps await the stop event, and :meth:`AsyncReflector.stop` ends the
current watch at once.

With ``use_watch_list`` the reflector first tries a streaming list (a watch with
``sendInitialEvents`` whose initial events, ended by a marked bookmark, stand in for the list;
the same rules), falling back to listing when that fails, as the sync reflector does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from typing import Any

from kgen.cache._indexer import Indexer, ReflectorStore
from kgen.cache._listwatch import ObjectList
from kgen.cache._reflector import default_watch_error_handler
from kgen.cache._reflector_rules import ReflectorRules, WatchEnd
from kgen.cache._watch_errors import ListFailedError
from kgen.cache.aio._listwatch import AsyncListerWatcher, AsyncWatchInterface
from kgen.clock import REAL_CLOCK, Clock
from kgen.pager import PagedList, async_paged_list
from kgen.rest import ListOptions
from kgen.retry import Backoff

__all__ = ["AsyncReflector", "AsyncWatchErrorHandler"]

log = logging.getLogger("kgen.cache")

AsyncWatchErrorHandler = Callable[["AsyncReflector", BaseException], None]
"""Called (on the reflector's task) with every error that ends a list-and-watch round, before
the backoff delay. A plain function: it must not block."""


class _StopRequested(Exception):
    pass


class AsyncReflector:
    """Mirrors a collection into ``store`` (its writes are plain calls) from the task that
    awaits :meth:`run`. Parameters as :class:`~kgen.cache.Reflector`'s; ``clock`` gives the
    time (short-watch detection, the backoff's reset), the waiting is the loop's.

    :meth:`stop` may be called from any task of the loop; cancelling the task running
    :meth:`run` stops it too (the current request or watch is aborted, its connection closed).
    A reflector runs once.
    """

    def __init__(
        self,
        lister_watcher: AsyncListerWatcher[Any],
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
        watch_error_handler: AsyncWatchErrorHandler = default_watch_error_handler,
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
        self._stopped = asyncio.Event()
        self._watch: AsyncWatchInterface[Any] | None = None

    def last_sync_resource_version(self) -> str:
        """The resourceVersion the store was last brought up to (``""`` before the first
        list). Thread-safe."""
        return self._rules.last_sync_resource_version()

    async def run(self) -> None:
        """List and watch until :meth:`stop` (or cancellation), backing off between rounds;
        resync the store every ``resync_period`` on a task of its own meanwhile."""
        resync: asyncio.Task[None] | None = None
        if self._resync_period > 0:
            resync = asyncio.get_running_loop().create_task(
                self._resync_loop(), name=f"{self.name}-resync"
            )
        try:
            while not self._stopped.is_set():
                try:
                    await self.list_and_watch()
                except Exception as err:
                    if self._stopped.is_set():
                        break
                    try:
                        self._watch_error_handler(self, err)
                    except Exception:
                        log.exception("%s: the watch error handler failed", self.name)
                if self._stopped.is_set() or await self._sleep(self._backoff.next_delay()):
                    break
        finally:
            self.stop()
            if resync is not None:
                resync.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await resync

    def stop(self) -> None:
        """Make :meth:`run` return soon and end the current watch. Idempotent."""
        self._stopped.set()
        watch = self._watch
        if watch is not None:
            watch.stop()

    async def list_and_watch(self) -> None:
        """One round: list (or stream-list) into the store, then watch until the watch fails.
        Returns when stopped or when a relist is called for; raises
        :class:`~kgen.cache.ListFailedError` or the watch-start error otherwise."""
        try:
            watch: AsyncWatchInterface[Any] | None = None
            if self._use_watch_list:
                try:
                    watch = await self._watch_list()
                except _StopRequested:
                    raise
                except Exception as err:
                    log.warning("%s: streaming list failed, listing instead: %s", self.name, err)
            if watch is None:
                await self._list()
            await self._watch_loop(watch)
        except _StopRequested:
            return

    # -- listing ------------------------------------------------------------------------------

    async def _list(self) -> None:
        rules = self._rules
        options = rules.list_options()
        page_size = rules.page_size(options)
        try:
            result = await self._paged_list(options, page_size)
        except _StopRequested:
            raise
        except Exception as err:
            if not rules.list_failed(err):
                raise ListFailedError(f"failed to list {self.name}: {err}") from err
            options = ListOptions(resource_version="")
            try:
                result = await self._paged_list(options, page_size)
            except Exception as err2:
                raise ListFailedError(f"failed to list {self.name}: {err2}") from err2
        rules.listed(options, result)
        self._store.replace(result.items, result.resource_version)
        rules.synced_to(result.resource_version)

    async def _paged_list(self, options: ListOptions, page_size: int) -> PagedList:
        async def page(page_options: ListOptions) -> ObjectList | Mapping[str, Any]:
            if self._stopped.is_set():
                raise _StopRequested()
            return await self._lw.list(page_options)

        return await async_paged_list(page, options, page_size=page_size)

    async def _watch_list(self) -> AsyncWatchInterface[Any]:
        """Open a streaming list; return the watch once the initial events are stored."""
        rules = self._rules
        watch = await self._lw.watch(rules.watch_list_options())
        self._watch = watch
        temp: Indexer[Any] = Indexer()
        try:
            async for event in watch:
                if self._stopped.is_set():
                    raise _StopRequested()
                synced_rv = rules.initial_event(temp, event)
                if synced_rv is not None:
                    self._store.replace(temp.list(), synced_rv)
                    rules.synced_to(synced_rv)
                    return watch
        except BaseException as err:
            watch.stop()
            self._watch = None
            rules.watch_list_failed(err)
            raise
        watch.stop()
        self._watch = None
        if self._stopped.is_set():
            raise _StopRequested()
        raise ListFailedError(f"{self.name}: the streaming list ended before its initial events")

    # -- watching -----------------------------------------------------------------------------

    async def _watch_loop(self, opened: AsyncWatchInterface[Any] | None) -> None:
        """Watch (``opened`` first, when a streaming list left one) until a relist is due."""
        rules = self._rules
        rules.start_watching()
        while not self._stopped.is_set():
            start_rv = rules.last_sync_resource_version()
            if opened is not None:
                watch, opened = opened, None
            else:
                try:
                    watch = await self._lw.watch(rules.watch_options())
                except Exception as err:
                    if rules.watch_start_failed(err):
                        if await self._sleep(self._backoff.next_delay()):
                            return
                        continue
                    raise
            self._watch = watch
            if self._stopped.is_set():
                watch.stop()
            started = self._clock.now()
            try:
                await self._handle_watch(watch, start_rv, started)
            except Exception as err:
                if self._stopped.is_set():
                    return
                end = rules.watch_failed(err)
                if end is WatchEnd.BACK_OFF:
                    if await self._sleep(self._backoff.next_delay()):
                        return
                    continue
                if end is WatchEnd.RETRY:
                    continue
                return
            finally:
                watch.stop()
                self._watch = None

    async def _handle_watch(
        self, watch: AsyncWatchInterface[Any], start_rv: str, started: float
    ) -> None:
        rules = self._rules
        rules.watch_opened(start_rv)
        count = 0
        async for event in watch:
            if self._stopped.is_set():
                return
            if rules.apply(self._store, event):
                count += 1
        if not self._stopped.is_set():
            rules.check_watch_length(count, started)

    # -- waiting and resync -------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` of loop time, or less if stopped; return whether stopped."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0.0)):
                await self._stopped.wait()
        return self._stopped.is_set()

    async def _resync_loop(self) -> None:
        while not await self._sleep(self._resync_period):
            if self._should_resync is None or self._should_resync():
                try:
                    self._store.resync()
                except Exception as err:
                    log.error("%s: resync failed: %s", self.name, err)
