"""AsyncDeltaFIFO: the :class:`~kgen.cache.DeltaFIFO` consumed by an asyncio task.

The queue itself is the sync one (its delta compaction, relist/replace and resync logic and its
lock are shared as they are); what differs is the consumer's wait: :meth:`AsyncDeltaFIFO.drain`
awaits a signal the queue sets whenever something is queued, where the sync queue blocks a
thread on its condition. Producers (the async reflector) and the consumer run on the same loop;
the writes never wait. Reads (``list``, ``has_synced``...) are thread-safe as in the sync queue.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable, Iterable

from kgen.cache._delta_fifo import DeltaFIFO, Deltas, PopBatchFunc, PopProcessFunc
from kgen.cache._indexer import KeyListerGetter, TransformFunc
from kgen.cache._keys import KeyFunc, meta_namespace_key

__all__ = ["AsyncDeltaFIFO"]


class _SignallingFIFO(DeltaFIFO):
    """A DeltaFIFO that sets an asyncio event when something is queued."""

    def __init__(
        self,
        signal: asyncio.Event,
        key_func: KeyFunc,
        known_objects: KeyListerGetter | None,
        emit_delta_type_replaced: bool,
        transform: TransformFunc | None,
    ) -> None:
        super().__init__(key_func, known_objects, emit_delta_type_replaced, transform)
        self._signal = signal

    def _wake(self) -> None:
        self._signal.set()


class AsyncDeltaFIFO:
    """A :class:`~kgen.cache.ReflectorStore` for an asyncio reflector, drained by one task.

    Writes (``add``, ``update``, ``delete``, ``replace``, ``resync``, ``close``) must be called
    from the loop the consumer runs on. ``process`` functions handed to :meth:`drain` are plain
    functions run with the queue's lock held (they must not call the queue), as for
    :meth:`DeltaFIFO.drain <kgen.cache.DeltaFIFO.drain>`.
    """

    def __init__(
        self,
        key_func: KeyFunc = meta_namespace_key,
        known_objects: KeyListerGetter | None = None,
        emit_delta_type_replaced: bool = False,
        transform: TransformFunc | None = None,
    ) -> None:
        self._signal = asyncio.Event()
        self._fifo = _SignallingFIFO(
            self._signal, key_func, known_objects, emit_delta_type_replaced, transform
        )

    # -- producers (the loop) -----------------------------------------------------------------

    def add(self, obj: object) -> None:
        self._fifo.add(obj)

    def update(self, obj: object) -> None:
        self._fifo.update(obj)

    def delete(self, obj: object) -> None:
        self._fifo.delete(obj)

    def replace(self, items: Iterable[object], resource_version: str = "") -> None:
        self._fifo.replace(items, resource_version)

    def resync(self) -> None:
        self._fifo.resync()

    def close(self) -> None:
        """Close the queue: :meth:`drain` raises :class:`~kgen.cache.FIFOClosedError` once it
        is empty."""
        self._fifo.close()
        self._signal.set()

    # -- consumer (one task) ------------------------------------------------------------------

    async def drain(
        self,
        process: PopProcessFunc,
        on_error: Callable[[BaseException], None],
        limit: int = 64,
    ) -> int:
        """Await queued keys, then pop and process up to ``limit`` of them as
        :meth:`DeltaFIFO.drain <kgen.cache.DeltaFIFO.drain>` does; return how many. Raises
        :class:`~kgen.cache.FIFOClosedError` once closed and empty."""
        while True:
            self._signal.clear()
            popped = self._fifo.drain_ready(process, on_error, limit)
            if popped:
                return popped
            await self._signal.wait()

    async def drain_batch(self, process: PopBatchFunc, limit: int = 1024) -> int:
        """Await queued keys, then pop up to ``limit`` of them and process them in one call as
        :meth:`DeltaFIFO.drain_batch <kgen.cache.DeltaFIFO.drain_batch>` does; return how
        many. Raises :class:`~kgen.cache.FIFOClosedError` once closed and empty."""
        while True:
            self._signal.clear()
            popped = self._fifo.drain_batch_ready(process, limit)
            if popped:
                return popped
            await self._signal.wait()

    # -- reads (any thread) -------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._fifo.closed

    def has_synced(self) -> bool:
        """As :meth:`DeltaFIFO.has_synced <kgen.cache.DeltaFIFO.has_synced>`."""
        return self._fifo.has_synced()

    def list(self) -> builtins.list[object]:
        return self._fifo.list()

    def list_keys(self) -> builtins.list[str]:
        return self._fifo.list_keys()

    def get_by_key(self, key: str) -> Deltas | None:
        return self._fifo.get_by_key(key)

    def __len__(self) -> int:
        return len(self._fifo)
