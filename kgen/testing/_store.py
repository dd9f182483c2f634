"""The storage layer: objects per resource, one global revision, a bounded event history.

This is the test server's etcd. Every write takes the next revision from one counter shared by
all resources, so ``resourceVersion`` orders all changes, as it does on a real cluster. The last
``window`` events are kept; a watch or a paged list that needs an older revision is refused
with 410 Gone, which is how clients learn to relist.

Ownership: stored objects are JSON dicts that nobody mutates once stored; readers that want to
change one take :func:`copy_json` first. All methods are thread-safe (one lock); nothing blocks
except :meth:`Watcher.next`, which waits for an event or its timeout.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from kgen.testing._errors import APIError

__all__ = ["Event", "Store", "Watcher", "copy_json"]

JSON = dict[str, Any]
ResourceKey = tuple[str, str]
"""``(group, plural)``: objects are shared by every version of a resource."""
ObjectKey = tuple[str, str]
"""``(namespace, name)``; namespace is ``""`` for cluster-scoped objects."""

_encoder = msgspec.json.Encoder()


def copy_json(value: JSON) -> JSON:
    """An independent deep copy of a JSON dict."""
    copied: JSON = msgspec.json.decode(_encoder.encode(value))
    return copied


@dataclass(frozen=True)
class Event:
    """One committed change. ``previous`` is the object before it (``None`` on ADDED)."""

    revision: int
    type: str
    resource: ResourceKey
    key: ObjectKey
    object: JSON
    previous: JSON | None


class Watcher:
    """A queue of events for one resource, fed by the store, drained by one reader.

    The store calls :meth:`_deliver` under its lock; the reader calls :meth:`next`. When the
    reader falls more than ``capacity`` events behind, the watcher is closed (a real server
    also drops watchers that cannot keep up) and :meth:`next` then returns ``None``.
    """

    def __init__(self, store: Store, resource: ResourceKey, namespace: str, capacity: int) -> None:
        self._store = store
        self.resource = resource
        self.namespace = namespace
        self._capacity = capacity
        self._events: deque[Event] = deque()
        self._cond = threading.Condition(threading.Lock())
        self.closed = False

    def _wants(self, event: Event) -> bool:
        return event.resource == self.resource and (
            not self.namespace or event.key[0] == self.namespace
        )

    def _deliver(self, event: Event) -> None:
        with self._cond:
            if self.closed:
                return
            if len(self._events) >= self._capacity:
                self.closed = True
            else:
                self._events.append(event)
            self._cond.notify_all()

    def next(self, timeout: float) -> Event | None:
        """The next event, or ``None`` after ``timeout`` seconds or once stopped and drained."""
        with self._cond:
            if not self._events and not self.closed:
                self._cond.wait(timeout)
            if self._events:
                return self._events.popleft()
            return None

    def pending(self) -> int:
        """How many events wait to be read."""
        with self._cond:
            return len(self._events)

    def stop(self) -> None:
        """Detach from the store and wake the reader; safe to call twice, from any thread."""
        self._store._detach(self)
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class Store:
    """Objects, revisions, history and watchers. See the module docstring for the contract."""

    def __init__(self, window: int = 1000, watcher_capacity: int = 10_000) -> None:
        self._lock = threading.RLock()
        self._objects: dict[ResourceKey, dict[ObjectKey, JSON]] = {}
        self._sorted: dict[ResourceKey, list[ObjectKey]] = {}
        """Each resource's keys in order, kept until a key is added or removed (a LIST
        then sorts once per change of membership, not once per request)."""
        self._history: deque[Event] = deque()
        self._window = window
        self._watcher_capacity = watcher_capacity
        self._watchers: list[Watcher] = []
        self._listeners: list[Callable[[Event], None]] = []
        self.revision = 1
        self.compacted = 1
        """Revisions up to and including this one can no longer be watched from or listed at."""

    @property
    def lock(self) -> threading.RLock:
        """Held by callers that read then write (check-and-set) to keep the two atomic."""
        return self._lock

    def get(self, resource: ResourceKey, key: ObjectKey) -> JSON | None:
        with self._lock:
            return self._objects.get(resource, {}).get(key)

    def items(self, resource: ResourceKey, namespace: str = "") -> tuple[int, list[JSON]]:
        """The current revision and the objects of ``resource`` (of ``namespace`` if given),
        sorted by (namespace, name)."""
        with self._lock:
            bucket = self._objects.get(resource, {})
            keys = self._sorted.get(resource)
            if keys is None:
                keys = self._sorted[resource] = sorted(bucket)
            if namespace:
                return self.revision, [bucket[k] for k in keys if k[0] == namespace]
            return self.revision, [bucket[k] for k in keys]

    def commit(
        self,
        resource: ResourceKey,
        key: ObjectKey,
        event_type: str,
        build: Callable[[int], JSON],
    ) -> Event:
        """Write one change at the next revision.

        ``build(revision)`` returns the object to store (it sets ``resourceVersion`` itself);
        for ``DELETED`` the object is removed and ``build``'s result is what watchers see.
        """
        with self._lock:
            revision = self.revision + 1
            obj = build(revision)
            bucket = self._objects.setdefault(resource, {})
            previous = bucket.get(key)
            if event_type == "DELETED":
                bucket.pop(key, None)
            else:
                bucket[key] = obj
            if previous is None or event_type == "DELETED":
                self._sorted.pop(resource, None)  # a key added or removed
            self.revision = revision
            event = Event(revision, event_type, resource, key, obj, previous)
            self._history.append(event)
            while len(self._history) > self._window:
                self.compacted = self._history.popleft().revision
            for watcher in list(self._watchers):
                if watcher._wants(event):
                    watcher._deliver(event)
            for listener in list(self._listeners):
                listener(event)
            return event

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener(event)`` after every commit, of every resource, under the store's lock
        and in commit order: it must be quick and must not call back into the store from another
        thread (controllers use it to queue work, :mod:`kgen.testing.controllers`)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Event], None]) -> None:
        """Stop calling ``listener``; safe to call for one never added."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def compact(self, revision: int | None = None) -> None:
        """Forget history up to ``revision`` (default: all of it), as etcd compaction does."""
        with self._lock:
            upto = self.revision if revision is None else min(revision, self.revision)
            while self._history and self._history[0].revision <= upto:
                self._history.popleft()
            self.compacted = max(self.compacted, upto)

    def _check_available(self, revision: int) -> None:
        if revision < self.compacted:
            raise APIError.gone(f"too old resource version: {revision} ({self.compacted + 1})")

    def snapshot(self, resource: ResourceKey, revision: int, namespace: str = "") -> list[JSON]:
        """The objects of ``resource`` as they were at ``revision``, sorted by key.

        Raises :class:`APIError` 410 when history no longer reaches back that far.
        """
        with self._lock:
            self._check_available(revision)
            state = dict(self._objects.get(resource, {}))
            for event in reversed(self._history):
                if event.revision <= revision:
                    break
                if event.resource != resource:
                    continue
                if event.previous is None:
                    state.pop(event.key, None)
                else:
                    state[event.key] = event.previous
            keys = sorted(k for k in state if not namespace or k[0] == namespace)
            return [state[k] for k in keys]

    def watch(
        self, resource: ResourceKey, namespace: str, since: int | None
    ) -> tuple[Watcher, list[Event], list[JSON], int]:
        """Open a watcher atomically with what precedes it; the last item is the revision the
        returned state and backlog reach (later events arrive through the watcher).

        With ``since`` set, returns the recorded events after that revision (410 when it is
        older than the history). With ``since=None``, returns the current objects instead, to be
        sent as synthetic ADDED events. Events after the call arrive through the watcher.
        """
        with self._lock:
            watcher = Watcher(self, resource, namespace, self._watcher_capacity)
            backlog: list[Event] = []
            current: list[JSON] = []
            if since is None:
                current = self.items(resource, namespace)[1]
            else:
                self._check_available(since)
                backlog = [e for e in self._history if e.revision > since and watcher._wants(e)]
            self._watchers.append(watcher)
            return watcher, backlog, current, self.revision

    def _detach(self, watcher: Watcher) -> None:
        with self._lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def close_watchers(self) -> None:
        """Stop every open watcher (used when the server shuts down)."""
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher.stop()
