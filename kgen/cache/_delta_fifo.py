"""DeltaFIFO: the queue between a Reflector and the informer that applies its changes.

The queue holds, for each object key, the ordered list of changes ("deltas") seen since the key
was last popped, and hands keys out in first-in first-out order. A key is queued at most once:
new changes to a queued key are appended to its deltas and the key keeps its place.

Invariants (under one lock): ``items`` maps a key to a non-empty list of deltas, oldest first;
``queue`` lists each key of ``items`` exactly once, in arrival order.

Only deletions are coalesced: two consecutive ``Deleted`` deltas become one (the older, unless
the older is an inferred :class:`DeletedFinalStateUnknown`, in which case the newer wins).

With ``known_objects`` (the informer's indexer), the queue can tell which keys the consumer
already holds: :meth:`DeltaFIFO.replace` then also emits deletions for known keys missing from
a relist, :meth:`DeltaFIFO.delete` of a key the consumer knows is not ignored, and
:meth:`DeltaFIFO.resync` re-delivers every known object as a ``Sync`` delta.

Every method is thread-safe. :meth:`DeltaFIFO.pop` blocks; the process function it calls runs
with the queue's lock held, so it sees the queue and the consumer's store consistently.
:meth:`DeltaFIFO.drain_batch` is the informers' way: one lock acquisition and one call of the
process function for every key queued, each handed out with the key it was queued under.

Hand-off (``handoff_at``, off by default; the thread informer turns it on). Under one interpreter
lock, a consumer woken for a queued key only runs once the producer's thread lets go of that
lock: at the end of its time slice (5 ms by default, some 130 watch events of decoding), so
that many objects are in flight between decoding, caching and freeing, and each stage finds
them out of the processor's caches (measured single-threaded: handling decoded pods 130 at a
time instead of one by one costs about a third more per event; 16 or 32 at a time, nothing
measurable). With ``handoff_at=n``, a producer that has just queued an event and finds ``n``
keys queued while a woken consumer has not drained yet waits for that drain (at most
``handoff_wait`` seconds, once per drain, so a stuck consumer delays it once), which keeps the
batches near ``n``. Only :meth:`add`, :meth:`update` and :meth:`delete` hand off, after their
write is complete; never with the asyncio queue (its consumer runs on the producer's loop).
"""

from __future__ import annotations

import builtins
import enum
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from kgen.cache._indexer import KeyListerGetter, TransformFunc
from kgen.cache._keys import (
    DeletedFinalStateUnknown,
    KeyFunc,
    ObjectKeyError,
    meta_namespace_key,
)

__all__ = [
    "Delta",
    "DeltaFIFO",
    "DeltaPair",
    "DeltaType",
    "Deltas",
    "FIFOClosedError",
    "KeyedDeltas",
    "PopBatchFunc",
    "PopProcessFunc",
    "RequeueError",
]


class DeltaType(enum.StrEnum):
    """The kind of change a :class:`Delta` records."""

    ADDED = "Added"
    UPDATED = "Updated"
    DELETED = "Deleted"
    REPLACED = "Replaced"
    """The object was in a relist (only when ``emit_delta_type_replaced`` is set)."""
    SYNC = "Sync"
    """A periodic resync, or a relist entry when ``emit_delta_type_replaced`` is not set."""


class Delta(NamedTuple):
    """One change: its type and the object's state after it (for ``Deleted``, the last state,
    possibly a :class:`DeletedFinalStateUnknown`). Immutable; a ``(type, object)`` pair."""

    type: DeltaType
    object: object


DeltaPair = tuple[DeltaType, object]
"""How a queue holds a change, and how :meth:`DeltaFIFO.drain_batch` hands it out: a plain
``(type, object)`` pair, which a :class:`Delta` also is. One is made per queued event, and a
plain tuple costs a fraction of any class instance; :meth:`DeltaFIFO.pop` and the reads wrap
the pairs into :class:`Delta` objects."""


class Deltas(tuple[Delta, ...]):
    """The changes to one key, oldest first; never empty when handed out by a queue."""

    __slots__ = ()

    @property
    def oldest(self) -> Delta | None:
        """The first change, or ``None`` when empty."""
        return self[0] if self else None

    @property
    def newest(self) -> Delta | None:
        """The latest change, or ``None`` when empty."""
        return self[-1] if self else None


PopProcessFunc = Callable[[Deltas, bool], None]
"""Called by :meth:`DeltaFIFO.pop` with a key's deltas and whether they belong to the initial
list (the queue had not synced yet when they were popped)."""

KeyedDeltas = tuple[str, Sequence[DeltaPair]]
"""A key and its deltas as ``(type, object)`` pairs, oldest first (never empty), as
:meth:`DeltaFIFO.drain_batch` hands them out. The sequence is the caller's: the queue keeps no
reference to it."""

PopBatchFunc = Callable[[Sequence[KeyedDeltas], int], None]
"""Called by :meth:`DeltaFIFO.drain_batch` with the keys popped, in queue order, and how many of
the first ones belong to the initial list (the queue had not synced when each was popped: the
initial ones always come first)."""


class FIFOClosedError(Exception):
    """The queue was closed: :meth:`DeltaFIFO.pop` has nothing more to give."""

    def __init__(self) -> None:
        super().__init__("DeltaFIFO: manipulating with closed queue")


class RequeueError(Exception):
    """Raised by a process function to put the deltas back unless the key was queued again.

    :meth:`DeltaFIFO.pop` then re-raises ``cause`` (or this error when there is none).
    """

    def __init__(self, cause: BaseException | None = None) -> None:
        super().__init__(f"requeue: {cause}" if cause is not None else "requeue")
        self.cause = cause


def _is_deletion_dup(a: DeltaPair, b: DeltaPair) -> DeltaPair | None:
    if a[0] is not DeltaType.DELETED or b[0] is not DeltaType.DELETED:
        return None
    # The older one carries more information unless it is only an inferred tombstone.
    return a if isinstance(b[1], DeletedFinalStateUnknown) else b


def _wrapped(pairs: Iterable[DeltaPair]) -> Deltas:
    return Deltas(Delta(kind, obj) for kind, obj in pairs)


class DeltaFIFO:
    """A key-deduplicating FIFO of per-object change lists. See the module docstring."""

    def __init__(
        self,
        key_func: KeyFunc = meta_namespace_key,
        known_objects: KeyListerGetter | None = None,
        emit_delta_type_replaced: bool = False,
        transform: TransformFunc | None = None,
        handoff_at: int = 0,
        handoff_wait: float = 0.005,
    ) -> None:
        if handoff_at < 0 or handoff_wait < 0:
            raise ValueError(
                f"DeltaFIFO: handoff_at ({handoff_at}) and handoff_wait ({handoff_wait}) "
                "must not be negative"
            )
        self._key_func = key_func
        self._known = known_objects
        self._replace_type = DeltaType.REPLACED if emit_delta_type_replaced else DeltaType.SYNC
        self._transform = transform
        self._lock = threading.Lock()  # entered directly: cheaper than the condition's wrapper
        self._cond = threading.Condition(self._lock)
        self._items: dict[str, builtins.list[DeltaPair]] = {}
        self._queue: deque[str] = deque()
        self._populated = False
        self._initial_population_count = 0
        self._closed = False
        self._waiting = 0  # threads blocked in pop() not yet notified: only then notify
        # Hand-off (see the module docstring): a consumer was woken and has not drained since;
        # how many drains so far; in which of them a producer last waited; whether one waits.
        self._handoff_at = handoff_at
        self._handoff_wait = handoff_wait
        self._drained = threading.Condition(self._lock)
        self._consumer_woken = False
        self._drains = 0
        self._handed_off_in = -1
        self._producer_waiting = False

    # -- keys ---------------------------------------------------------------------------------

    def key_of(self, obj: object) -> str:
        """The key of an object, of a tombstone (its ``key``) or of :class:`Deltas` (newest)."""
        if isinstance(obj, Deltas):
            newest = obj.newest
            if newest is None:
                raise ObjectKeyError(obj, "0 length Deltas object")
            obj = newest.object
        if isinstance(obj, DeletedFinalStateUnknown):
            return obj.key
        try:  # key_with, inlined: once per queued event
            return self._key_func(obj)
        except ObjectKeyError:
            raise
        except Exception as exc:
            raise ObjectKeyError(obj, exc) from exc

    # -- producers ----------------------------------------------------------------------------

    def add(self, obj: object) -> None:
        """Queue an ``Added`` delta."""
        with self._lock:
            self._populated = True
            self._queue_action(DeltaType.ADDED, obj)
            if self._consumer_woken and self._handoff_at:
                self._hand_off_locked()

    def update(self, obj: object) -> None:
        """Queue an ``Updated`` delta."""
        with self._lock:
            self._populated = True
            self._queue_action(DeltaType.UPDATED, obj)
            if self._consumer_woken and self._handoff_at:
                self._hand_off_locked()

    def delete(self, obj: object) -> None:
        """Queue a ``Deleted`` delta, unless nobody can know the object.

        Ignored when the key is neither queued nor (with ``known_objects``) known: it was
        presumably already deleted by a relist.
        """
        key = self.key_of(obj)
        with self._lock:
            queued = key in self._items
            known = self._known is not None and self._known.get_by_key(key) is not None
            if not queued and not known:
                return
            self._populated = True
            self._queue_action(DeltaType.DELETED, obj)
            if self._consumer_woken and self._handoff_at:
                self._hand_off_locked()

    def replace(self, items: Iterable[object], resource_version: str = "") -> None:
        """Make the queue's view the listed ``items``: the result of a (re)list.

        Each item gets a ``Replaced`` delta (``Sync`` unless ``emit_delta_type_replaced``). Each
        queued key missing from ``items``, and each known key missing from both, gets a
        ``Deleted`` delta holding a :class:`DeletedFinalStateUnknown` with the last known state.
        The first replace (with nothing added before) fixes how many pops make the queue synced.
        """
        with self._lock:
            keys: set[str] = set()
            for obj in items:
                key = self.key_of(obj)
                keys.add(key)
                self._queue_action(self._replace_type, obj, key=key, transform=True)
            deletions = 0
            for key, deltas in list(self._items.items()):
                if key in keys:
                    continue
                last = deltas[-1][1]
                if isinstance(last, DeletedFinalStateUnknown):
                    last = last.obj
                deletions += 1
                self._queue_action(DeltaType.DELETED, DeletedFinalStateUnknown(key, last), key=key)
            if self._known is not None:
                for key in self._known.list_keys():
                    if key in keys or key in self._items:
                        continue
                    last = self._known.get_by_key(key)
                    deletions += 1
                    self._queue_action(
                        DeltaType.DELETED, DeletedFinalStateUnknown(key, last), key=key
                    )
            if not self._populated:
                self._populated = True
                self._initial_population_count = len(keys) + deletions

    def resync(self) -> None:
        """Queue a ``Sync`` delta for every known object whose key has nothing queued.

        Keys with pending deltas are skipped: their queued state is newer than the known one.
        Does nothing without ``known_objects``.
        """
        if self._known is None:
            return
        with self._lock:
            for key in self._known.list_keys():
                if key in self._items:
                    continue
                obj = self._known.get_by_key(key)
                if obj is not None:
                    self._queue_action(DeltaType.SYNC, obj, key=key, transform=False)

    def add_if_not_present(self, deltas: Deltas) -> None:
        """Put ``deltas`` back at the end of the queue unless their key is already queued."""
        with self._lock:
            self._add_if_not_present_locked(deltas)

    # -- consumer -----------------------------------------------------------------------------

    def pop(self, process: PopProcessFunc) -> Deltas:
        """Block until a key is queued, remove it and call ``process`` on its deltas.

        ``process`` runs with the queue's lock held, so it must not call this queue (that would
        deadlock); it may read the consumer's store. Whatever it raises is re-raised after the
        key is removed; a :class:`RequeueError` first puts the deltas back (unless the key was
        queued again meanwhile) and its ``cause`` is raised. Raises :class:`FIFOClosedError`
        once the queue is closed and empty.
        """
        with self._lock:
            self._wait_locked()
            return self._pop_locked(process)

    def drain(
        self,
        process: PopProcessFunc,
        on_error: Callable[[BaseException], None],
        limit: int = 64,
    ) -> int:
        """Like :meth:`pop`, but once a key is queued, pop and process up to ``limit`` of the
        keys queued at that moment, in queue order, without letting go of the lock in between;
        return how many were popped.

        Each key is handled exactly as :meth:`pop` handles it (same lock, same requeue, so a
        requeued key waits for a later call); what ``process`` raises for one key goes to
        ``on_error`` (called with the lock held, so it must not call this queue either) and the
        next key is popped. Producers wait meanwhile, so one wake-up of the consumer serves many
        deltas. Raises :class:`FIFOClosedError` once the queue is closed and empty.
        """
        with self._lock:
            self._wait_locked()
            return self._drain_locked(process, on_error, limit)

    def drain_ready(
        self,
        process: PopProcessFunc,
        on_error: Callable[[BaseException], None],
        limit: int = 64,
    ) -> int:
        """:meth:`drain` without the wait: 0 at once when nothing is queued (raises
        :class:`FIFOClosedError` when closed and empty). For consumers that wait their own way
        (:class:`kgen.cache.aio.AsyncDeltaFIFO` awaits its signal)."""
        with self._lock:
            if not self._queue and self._closed:
                raise FIFOClosedError()
            return self._drain_locked(process, on_error, limit)

    def drain_batch(self, process: PopBatchFunc, limit: int = 1024) -> int:
        """Block until a key is queued, then remove up to ``limit`` of the keys queued at that
        moment, in queue order, and call ``process`` once with all of them and their deltas
        (see :data:`PopBatchFunc`), the lock held throughout; return how many were popped.

        Pops, sync accounting and ordering are those of as many :meth:`pop` calls in a row; what
        differs: ``process`` gets each key as it was queued (no need to compute it again), it
        cannot requeue (a :class:`RequeueError` is an error like any other), and what it raises
        propagates with every key of the batch already removed, so it should handle each key's
        failure itself. ``process`` must not call this queue. Producers wait meanwhile, so one
        wake-up of the consumer serves every delta queued. Raises :class:`FIFOClosedError` once
        the queue is closed and empty.
        """
        with self._lock:
            self._wait_locked()
            return self._drain_batch_locked(process, limit)

    def drain_batch_ready(self, process: PopBatchFunc, limit: int = 1024) -> int:
        """:meth:`drain_batch` without the wait: 0 at once (``process`` not called) when nothing
        is queued; raises :class:`FIFOClosedError` when closed and empty."""
        with self._lock:
            if not self._queue and self._closed:
                raise FIFOClosedError()
            return self._drain_batch_locked(process, limit)

    def close(self) -> None:
        """Close the queue: blocked and later :meth:`pop` calls raise once it is empty."""
        with self._lock:
            self._closed = True
            self._waiting = 0
            self._cond.notify_all()
            self._drained.notify_all()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        with self._lock:
            return self._closed

    def has_synced(self) -> bool:
        """Whether the first :meth:`replace` (or an earlier add/update/delete) has been fully
        popped. Once true, stays true."""
        with self._lock:
            return self._has_synced_locked()

    # -- reads --------------------------------------------------------------------------------

    def list(self) -> builtins.list[object]:
        """The newest state of every queued key."""
        with self._lock:
            return [deltas[-1][1] for deltas in self._items.values()]

    def list_keys(self) -> builtins.list[str]:
        """Every queued key, in queue order."""
        with self._lock:
            return list(self._queue)

    def get_by_key(self, key: str) -> Deltas | None:
        """A copy of the deltas queued for ``key``, or ``None``."""
        with self._lock:
            deltas = self._items.get(key)
            return _wrapped(deltas) if deltas is not None else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)

    # -- internals (lock held) ----------------------------------------------------------------

    def _wait_locked(self) -> None:
        while not self._queue:
            if self._closed:
                raise FIFOClosedError()
            # Counted out again by the notifying side (_wake, close), not here: a producer that
            # queues more before this thread has the lock back must not notify it again.
            self._waiting += 1
            self._cond.wait()

    def _drain_locked(
        self, process: PopProcessFunc, on_error: Callable[[BaseException], None], limit: int
    ) -> int:
        popped = min(limit, len(self._queue))
        for _ in range(popped):
            try:
                self._pop_locked(process)
            except Exception as exc:
                on_error(exc)
        return popped

    def _hand_off_locked(self) -> None:
        """After a producer's write (a consumer was woken): wait for its drain when enough is
        queued, once per drain."""
        if len(self._queue) < self._handoff_at or self._handed_off_in == self._drains:
            return
        self._handed_off_in = self._drains
        self._producer_waiting = True
        self._drained.wait(self._handoff_wait)

    def _draining_locked(self) -> None:
        """A consumer is popping (lock held): release a producer waiting for it."""
        self._drains += 1
        self._consumer_woken = False
        if self._producer_waiting:
            self._producer_waiting = False
            self._drained.notify_all()

    def _drain_batch_locked(self, process: PopBatchFunc, limit: int) -> int:
        queue, items = self._queue, self._items
        popped = min(limit, len(queue))
        if not popped:
            return 0
        self._draining_locked()
        if not self._populated:
            initial = popped  # nothing was ever queued as a list: every pop is "initial"
        else:
            initial = min(popped, self._initial_population_count)
            self._initial_population_count -= initial
        pop_key, pop_deltas = queue.popleft, items.pop
        batch = [(key, pop_deltas(key)) for key in [pop_key() for _ in range(popped)]]
        process(batch, initial)
        return popped

    def _pop_locked(self, process: PopProcessFunc) -> Deltas:
        self._draining_locked()
        in_initial_list = not self._has_synced_locked()
        key = self._queue.popleft()
        deltas = _wrapped(self._items.pop(key))
        if self._initial_population_count > 0:
            self._initial_population_count -= 1
        try:
            process(deltas, in_initial_list)
        except RequeueError as exc:
            self._add_if_not_present_locked(deltas)
            if exc.cause is not None:
                raise exc.cause from exc
            raise
        return deltas

    def _add_if_not_present_locked(self, deltas: Deltas) -> None:
        key = self.key_of(deltas)
        self._populated = True
        if key in self._items:
            return
        self._items[key] = list(deltas)
        self._queue.append(key)
        self._wake()

    def _has_synced_locked(self) -> bool:
        return self._populated and self._initial_population_count == 0

    def _queue_action(
        self, kind: DeltaType, obj: object, key: str | None = None, transform: bool = True
    ) -> None:
        if key is None:
            key = self.key_of(obj)
        if (
            transform
            and self._transform is not None
            and not isinstance(obj, DeletedFinalStateUnknown)
        ):
            obj = self._transform(obj)
        deltas = self._items.get(key)
        if deltas is None:
            self._items[key] = [(kind, obj)]
            self._queue.append(key)
        else:
            deltas.append((kind, obj))
            kept = _is_deletion_dup(deltas[-1], deltas[-2])
            if kept is not None:
                deltas[-2:] = [kept]
        self._wake()

    def _wake(self) -> None:
        """Something was queued (lock held): wake blocked consumers. Subclasses that are
        consumed another way signal their consumer here."""
        if self._waiting:
            self._waiting = 0  # every waiter is woken; one still waiting counts itself again
            self._consumer_woken = True
            self._cond.notify_all()
