"""The asyncio informer against the thread informer, on the same recorded watch stream.

Input and handler as ``bench_informer`` (realistic pods, 80% MODIFIED, 10% ADDED, 10% DELETED,
a BOOKMARK every 1,000 events; one no-op handler that counts its calls). Cases, in one process,
round-robin, collector on:

* ``bare``: decode -> store -> call, the floor (``bench_informer.bare_loop``).
* ``informer (threads)``: :class:`kgen.cache.SharedIndexInformer` over the replayed body
  (``bench_informer.informer_run``).
* ``informer (asyncio)``: :class:`kgen.cache.aio.AsyncSharedIndexInformer` in a fresh event loop
  (``asyncio.run``, counted), its watch replaying the same body through the frame decoder an
  :class:`~kgen.rest.aio.AsyncWatch` uses, 64 KiB per read with a yield to the loop per read (as
  a socket read would), timed from start until the handler has seen every event, plus the stop.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from bench._support import Case, generated_core_v1, run_round_robin
from bench.bench_informer import (
    CountingHandler,
    bare_loop,
    cached_keys,
    handled_events,
    informer_run,
    watch_body,
)
from kgen.cache import NAMESPACE_INDEX, Indexer, meta_namespace_index_func
from kgen.cache.aio import AsyncSharedIndexInformer, AsyncWatchInterface
from kgen.rest import ListOptions, WatchEvent
from kgen.rest._frames import WatchDecoder

READ_SIZE = 64 * 1024


class _ReplayWatch:
    """The body as an async watch: decoded a read at a time, yielding to the loop per read."""

    def __init__(self, body: bytes, pod_type: type[Any]) -> None:
        self._body = memoryview(body)
        self._offset = 0
        self._decoder = WatchDecoder(pod_type)
        self._pending: deque[WatchEvent[Any]] = deque()
        self._stopped = False

    def __aiter__(self) -> _ReplayWatch:
        return self

    async def __anext__(self) -> WatchEvent[Any]:
        while not self._pending:
            if self._stopped or self._offset >= len(self._body):
                raise StopAsyncIteration
            chunk = bytes(self._body[self._offset : self._offset + READ_SIZE])
            self._offset += READ_SIZE
            self._pending.extend(self._decoder.feed(chunk))
            await asyncio.sleep(0)
        return self._pending.popleft()

    def stop(self) -> None:
        self._stopped = True


class _SilentWatch:
    def __init__(self) -> None:
        self._stopped = asyncio.Event()

    def __aiter__(self) -> _SilentWatch:
        return self

    async def __anext__(self) -> WatchEvent[Any]:
        await self._stopped.wait()
        raise StopAsyncIteration

    def stop(self) -> None:
        self._stopped.set()


class AsyncReplayListerWatcher:
    """Lists nothing, then replays ``body`` once; later watches stay silent until stopped."""

    def __init__(self, body: bytes, pod_type: type[Any]) -> None:
        self._body = body
        self._pod_type = pod_type
        self._replayed = False

    async def list(self, options: ListOptions) -> Mapping[str, Any]:
        return {"metadata": {"resourceVersion": "1"}, "items": []}

    async def watch(self, options: ListOptions) -> AsyncWatchInterface[Any]:
        if not self._replayed:
            self._replayed = True
            return _ReplayWatch(self._body, self._pod_type)
        return _SilentWatch()


class _AsyncCountingHandler(CountingHandler):
    def __init__(self, expected: int) -> None:
        super().__init__(expected)
        self.finished = asyncio.Event()

    def _called(self) -> None:
        super()._called()
        if self.calls == self.expected:
            self.finished.set()


def async_informer_run(pod_type: type[Any]) -> Callable[[bytes, int], object]:
    def run(body: bytes, expected: int) -> Indexer[Any]:
        async def main() -> Indexer[Any]:
            handler = _AsyncCountingHandler(expected)
            informer: AsyncSharedIndexInformer[Any] = AsyncSharedIndexInformer(
                AsyncReplayListerWatcher(body, pod_type),
                pod_type,
                indexers={NAMESPACE_INDEX: meta_namespace_index_func},
                name="bench-pods",
            )
            informer.add_event_handler(handler)
            async with informer:
                async with asyncio.timeout(900):
                    await handler.finished.wait()
            return informer.get_indexer()

        return asyncio.run(main())

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="watch events (default 20,000)")
    parser.add_argument("--initial", type=int, default=5_000, help="initial ADDED events")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    pod_type = generated_core_v1().Pod
    body, counts = watch_body(args.events, args.initial, args.seed)
    expected = handled_events(counts)
    print(
        f"input: {args.events:,} watch events {counts}, {len(body) / 1e6:.0f} MB; "
        "one no-op handler; collector on"
    )
    runs: dict[str, Callable[[bytes, int], object]] = {
        "bare": bare_loop(pod_type, None),
        "informer (threads)": informer_run(pod_type, None),
        "informer (asyncio)": async_informer_run(pod_type),
    }
    reference = cached_keys(runs["bare"](body, expected))
    for name, run in runs.items():  # also a warm-up
        assert cached_keys(run(body, expected)) == reference, name
    print(f"every case ends with the same {len(reference):,} cached pods")
    cases = [Case(name, functools.partial(run, body, expected)) for name, run in runs.items()]
    run_round_robin(cases, args.reps)
    bare = statistics.median(cases[0].results)
    threads = statistics.median(cases[1].results)
    print("\n| case | events/s median [min-max] | us/event | x bare | x threads |")
    print("|---|---|---|---|---|")
    for case in cases:
        rates = [args.events / t for t in case.results]
        median = statistics.median(case.results)
        print(
            f"| {case.name} | {args.events / median:,.0f} [{min(rates):,.0f}-{max(rates):,.0f}] "
            f"| {1e6 * median / args.events:,.1f} | {bare / median:.2f} | {threads / median:.2f} |"
        )


if __name__ == "__main__":
    main()
