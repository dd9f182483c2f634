"""Watch streams: turning store events into the events one watcher sees.

A watch first sends its initial state (synthetic ADDED events) or the recorded events after its
starting revision, then live events, with periodic BOOKMARKs when asked for, until its timeout,
its watcher is closed, or ``should_stop()`` turns true. Selectors are applied per event: an
object that stops matching is sent as DELETED and one that starts matching as ADDED, as
kube-apiserver does.

:class:`WatchStream` is iterated by one thread and may be closed from any thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kgen.testing._errors import APIError
from kgen.testing._options import ListOptions
from kgen.testing._registry import ResourceInfo
from kgen.testing._store import Event, Store, Watcher

__all__ = ["INITIAL_EVENTS_END", "WatchStart", "WatchStream", "stream_events"]

JSON = dict[str, Any]
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


class WatchStream(Iterator[JSON]):
    """The events of one watch. Iterate it from one thread; :meth:`close` from any thread
    releases the watcher (iteration then ends)."""

    def __init__(self, watcher: Watcher, events: Iterator[JSON]) -> None:
        self._watcher = watcher
        self._events = events

    def __next__(self) -> JSON:
        return next(self._events)

    def close(self) -> None:
        self._watcher.stop()

    def __enter__(self) -> WatchStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class WatchStart:
    """What a watch begins with, taken atomically with the watcher's registration."""

    watcher: Watcher
    backlog: list[Event]
    current: list[JSON]
    revision: int
    initial_events_end: bool


def _translate(event: Event, matches: Callable[[JSON], bool]) -> str | None:
    """The event type a selector-filtered watcher sees, or ``None`` to skip the event."""
    now = event.type != "DELETED" and matches(event.object)
    before = event.previous is not None and matches(event.previous)
    if event.type == "DELETED":
        return "DELETED" if before or matches(event.object) else None
    if now and before:
        return "MODIFIED"
    if now:
        return "ADDED"
    if before:
        return "DELETED"
    return None


def bookmark(info: ResourceInfo, revision: int, initial_end: bool = False) -> JSON:
    metadata: JSON = {"resourceVersion": str(revision)}
    if initial_end:
        metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
    return {
        "type": "BOOKMARK",
        "object": {"kind": info.kind, "apiVersion": info.api_version, "metadata": metadata},
    }


def _quiet_revision(store: Store, watcher: Watcher) -> int:
    """The store's revision if ``watcher`` has nothing pending (else 0): a bookmark may only
    claim a revision whose events the watcher has already passed on."""
    with store.lock:
        return 0 if watcher.pending() else store.revision


def stream_events(
    store: Store,
    info: ResourceInfo,
    start: WatchStart,
    matches: Callable[[JSON], bool],
    options: ListOptions,
    should_stop: Callable[[], bool],
    bookmark_interval: float,
    show: Callable[[JSON], JSON],
) -> Iterator[JSON]:
    """The events of one watch (see the module docstring); stops the watcher when done.

    ``show`` turns a stored object into what the event carries (a copy, or a read-only view);
    when it raises :class:`APIError` (a custom resource's conversion failed), the watch sends
    that Status as an ``ERROR`` event and ends.
    """
    watcher = start.watcher
    deadline = time.monotonic() + options.timeout_seconds if options.timeout_seconds else None
    last_revision = max([start.revision, *(e.revision for e in start.backlog)])
    try:
        for obj in start.current:
            if matches(obj):
                yield {"type": "ADDED", "object": show(obj)}
        if start.initial_events_end:
            yield bookmark(info, start.revision, initial_end=True)
        for past in start.backlog:
            translated = _translate(past, matches)
            if translated:
                yield {"type": translated, "object": show(past.object)}
        next_bookmark = time.monotonic() + bookmark_interval
        while not should_stop():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return
            wait = min(0.2, next_bookmark - now)
            if deadline is not None:
                wait = min(wait, deadline - now)
            event = watcher.next(max(wait, 0.0))
            if event is None:
                if watcher.closed:
                    return
                if options.allow_watch_bookmarks and time.monotonic() >= next_bookmark:
                    next_bookmark = time.monotonic() + bookmark_interval
                    yield bookmark(info, max(last_revision, _quiet_revision(store, watcher)))
                continue
            last_revision = event.revision
            translated = _translate(event, matches)
            if translated:
                yield {"type": translated, "object": show(event.object)}
    except APIError as err:  # a CRD's conversion failed: say so, and end (see _conversion)
        yield {"type": "ERROR", "object": err.status}
    finally:
        watcher.stop()
