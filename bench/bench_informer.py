"""Informer throughput and memory: a SharedIndexInformer against a bare decode-store-call loop.

Input: a recorded watch stream of realistic pods (``bench-peers/make_pods.py``, decoded into the
``Pod`` model kgen generates from the 1.35 swagger), shaped like the peers' stand-in stream
(``bench-peers/informer_sim.py``): ``--initial`` ADDED events, then until ``--events`` in all,
80% MODIFIED (a new resourceVersion and changed container status, as kubelet updates look),
10% ADDED (new pods) and 10% DELETED, and a BOOKMARK every 1,000 events. One body of
newline-separated frames, the way the API server streams them.

Cases, in one process, round-robin, collector on:

* ``bare``: split the body into lines, decode each frame straight into a typed event, keep the
  object in a dict by ``namespace/name``, call a no-op handler. The floor for any informer.
* ``informer``: a :class:`kgen.cache.SharedIndexInformer` (namespace index, as generated
  informers have) whose in-memory lister-watcher replays the body through the frame reader a
  REST watch uses; the same no-op handler. Timed from start until the handler has seen every
  event, plus the stop.
* ``... +drop_managed_fields``: both again, with :func:`kgen.cache.drop_managed_fields` applied to
  every object (the informer's transform; the bare loop calls it itself); ``... +intern_strings``
  likewise with :func:`kgen.cache.intern_strings`, alone and after ``drop_managed_fields``.

Each informer row is given against the bare row of the same transform twice: as the ratio of the
two medians, and as the median of the per-rep ratios (each informer run against the bare run
just before it: the machine's speed drifts by a third between reps here, and a paired ratio
is not moved by that drift).

Then the Python heap retained per cached pod (tracemalloc) once the initial events are cached.
"""

from __future__ import annotations

import argparse
import functools
import gc
import io
import itertools
import random
import statistics
import threading
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec
import requests

from bench._support import Case, generated_core_v1, make_pods_module, run_round_robin
from kgen.cache import (
    NAMESPACE_INDEX,
    Indexer,
    SharedIndexInformer,
    drop_managed_fields,
    intern_strings,
    meta_namespace_index_func,
)
from kgen.rest import ListOptions, Watch, WatchEvent
from kgen.rest._stream import read_events

Transform = Callable[[Any], Any]

BOOKMARK_EVERY = 1_000


def _drop_and_intern(obj: Any) -> Any:
    return intern_strings(drop_managed_fields(obj))


# -- input ------------------------------------------------------------------------------------


def watch_body(events: int, initial: int, seed: int) -> tuple[bytes, dict[str, int]]:
    """The recorded stream (one frame per line) and how many events of each type it holds."""
    make_pods = make_pods_module()
    choose = random.Random(seed)
    pod_rng = random.Random(seed + 1)
    live: dict[str, dict[str, Any]] = {}
    keys: list[str] = []
    frames: list[bytes] = []
    counts = dict.fromkeys(("ADDED", "MODIFIED", "DELETED", "BOOKMARK"), 0)
    serial = itertools.count()
    rv = 500_000_000

    def emit(kind: str, obj: Mapping[str, Any]) -> None:
        frames.append(make_pods.dumps({"type": kind, "object": obj}))
        counts[kind] += 1

    def next_rv() -> str:
        nonlocal rv
        rv += 1
        return str(rv)

    def add() -> None:
        pod = {"apiVersion": "v1", "kind": "Pod", **make_pods.make_pod(pod_rng, next(serial))}
        pod["metadata"]["resourceVersion"] = next_rv()
        key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        live[key] = pod
        keys.append(key)
        emit("ADDED", pod)

    def delete() -> None:
        index = choose.randrange(len(keys))
        keys[index], keys[-1] = keys[-1], keys[index]
        pod = live.pop(keys.pop())
        pod["metadata"]["resourceVersion"] = next_rv()
        pod["metadata"]["deletionTimestamp"] = "2024-09-01T00:00:00Z"
        emit("DELETED", pod)

    def modify() -> None:
        pod = live[keys[choose.randrange(len(keys))]]
        pod["metadata"]["resourceVersion"] = next_rv()
        status = pod["status"]["containerStatuses"][0]
        status["restartCount"] += 1
        started = f"2024-08-{choose.randint(1, 28):02d}T{choose.randint(0, 23):02d}:00:00Z"
        status["state"] = {"running": {"startedAt": started}}
        pod["status"]["conditions"][-1]["lastTransitionTime"] = started
        emit("MODIFIED", pod)

    for _ in range(min(initial, events)):
        add()
    while len(frames) < events:
        if len(frames) % BOOKMARK_EVERY == BOOKMARK_EVERY - 1:
            emit(
                "BOOKMARK",
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"resourceVersion": str(rv)}},
            )
            continue
        draw = choose.random()
        if draw < 0.1 or not keys:
            add()
        elif draw < 0.2:
            delete()
        else:
            modify()
    return b"\n".join(frames) + b"\n", counts


def handled_events(counts: Mapping[str, int]) -> int:
    """How many handler calls the stream makes: every event but bookmarks."""
    return sum(n for kind, n in counts.items() if kind != "BOOKMARK")


# -- the handler both cases call -----------------------------------------------------------------


class CountingHandler:
    """A no-op handler that counts its calls and says when it has seen ``expected`` of them.

    Called from one thread at a time (the informer's delivery thread, or the bare loop)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.calls = 0
        self.done = threading.Event()

    def _called(self) -> None:
        self.calls += 1
        if self.calls == self.expected:
            self.done.set()

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self._called()

    def on_update(self, old: Any, new: Any) -> None:
        self._called()

    def on_delete(self, obj: Any) -> None:
        self._called()


# -- the bare loop --------------------------------------------------------------------------------


def bare_loop(pod_type: type[Any], transform: Transform | None) -> Callable[[bytes, int], object]:
    """decode -> store -> call, nothing else; returns the store."""
    event_type: Any = msgspec.defstruct("PodWatchEvent", [("type", str), ("object", pod_type)])
    decode: Callable[[bytes], Any] = msgspec.json.Decoder(event_type).decode

    def run(body: bytes, expected: int) -> dict[str, Any]:
        handler = CountingHandler(expected)
        store: dict[str, Any] = {}
        for line in body.splitlines():
            event = decode(line)
            kind = event.type
            if kind == "BOOKMARK":
                continue
            obj = event.object if transform is None else transform(event.object)
            metadata = obj.metadata
            key = f"{metadata.namespace}/{metadata.name}"
            if kind == "DELETED":
                store.pop(key, None)
                handler.on_delete(obj)
                continue
            old = store.get(key)
            store[key] = obj
            if old is None:
                handler.on_add(obj, False)
            else:
                handler.on_update(old, obj)
        assert handler.calls == expected, (handler.calls, expected)
        return store

    return run


# -- the informer ---------------------------------------------------------------------------------


class ReplayListerWatcher:
    """Lists nothing (at resourceVersion 1), then watches: the first watch replays ``body``
    through the frame reader of a REST watch; later ones stay open, silent, until stopped."""

    def __init__(self, body: bytes, pod_type: type[Any]) -> None:
        self._body = body
        self._pod_type = pod_type
        self._replayed = False

    def list(self, options: ListOptions) -> Mapping[str, Any]:
        return {"metadata": {"resourceVersion": "1"}, "items": []}

    def watch(self, options: ListOptions) -> Watch[Any]:
        if not self._replayed:
            self._replayed = True
            response = requests.Response()
            response.status_code = 200
            response.raw = io.BytesIO(self._body)
            return Watch(read_events(response, self._pod_type))
        stopped = threading.Event()
        return Watch(_silent_until(stopped), on_stop=stopped.set)


def _silent_until(stopped: threading.Event) -> Iterator[WatchEvent[Any]]:
    stopped.wait()
    yield from ()


def informer_run(
    pod_type: type[Any], transform: Transform | None
) -> Callable[[bytes, int], object]:
    """Start an informer over the replayed body, wait until the handler saw every event, stop;
    returns the cache."""

    def run(body: bytes, expected: int) -> Indexer[Any]:
        handler = CountingHandler(expected)
        informer: SharedIndexInformer[Any] = SharedIndexInformer(
            ReplayListerWatcher(body, pod_type),
            pod_type,
            indexers={NAMESPACE_INDEX: meta_namespace_index_func},
            name="bench-pods",
        )
        if transform is not None:
            informer.set_transform(transform)
        informer.add_event_handler(handler)
        with informer:
            if not handler.done.wait(timeout=900):
                raise RuntimeError(f"informer delivered {handler.calls} of {expected} events")
        return informer.get_indexer()

    return run


# -- measuring ------------------------------------------------------------------------------------


def cached_keys(cache: object) -> set[str]:
    if isinstance(cache, Indexer):
        return set(cache.list_keys())
    assert isinstance(cache, dict)
    return set(cache)


def paired_ratios(base: list[float], case: list[float]) -> list[float]:
    """Per rep, the base's time over the case's: the two ran one after the other in that rep
    (round-robin), so a drift of the machine's speed between reps cancels out of each ratio."""
    return [b / c for b, c in zip(base, case, strict=True)]


def retained_bytes_per_pod(run: Callable[[bytes, int], object], body: bytes, count: int) -> float:
    """Heap the result of ``run`` keeps (tracemalloc, after a full collection), per cached pod."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = run(body, count)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(cached_keys(kept)) == count
    del kept
    return (after - before) / count


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
        f"input: {args.events:,} watch events {counts}, {len(body) / 1e6:.0f} MB, "
        f"{len(body) / args.events:,.0f} B/event; one no-op handler; collector on"
    )

    runs: dict[str, Callable[[bytes, int], object]] = {
        "bare": bare_loop(pod_type, None),
        "informer": informer_run(pod_type, None),
        "bare +drop_managed_fields": bare_loop(pod_type, drop_managed_fields),
        "informer +drop_managed_fields": informer_run(pod_type, drop_managed_fields),
        "bare +intern_strings": bare_loop(pod_type, intern_strings),
        "informer +intern_strings": informer_run(pod_type, intern_strings),
        "bare +drop_managed_fields+intern_strings": bare_loop(pod_type, _drop_and_intern),
        "informer +drop_managed_fields+intern_strings": informer_run(pod_type, _drop_and_intern),
    }
    reference = cached_keys(runs["bare"](body, expected))
    for name, run in runs.items():  # also a warm-up
        assert cached_keys(run(body, expected)) == reference, name
    print(f"every case ends with the same {len(reference):,} cached pods")

    cases = [Case(name, functools.partial(run, body, expected)) for name, run in runs.items()]
    run_round_robin(cases, args.reps)
    print("\n### throughput\n")
    print(
        "| case | events/s median [min-max] | us/event | x bare (same transform) "
        "| x bare, paired per rep: median [min-max] |"
    )
    print("|---|---|---|---|---|")
    for case in cases:
        rates = [args.events / t for t in case.results]
        rate = args.events / statistics.median(case.results)
        base_name = case.name.replace("informer", "bare")
        base = next(c for c in cases if c.name == base_name)
        ratio = statistics.median(base.results) / statistics.median(case.results)
        paired = paired_ratios(base.results, case.results)
        print(
            f"| {case.name} | {rate:,.0f} [{min(rates):,.0f}-{max(rates):,.0f}] "
            f"| {1e6 / rate:,.1f} | {ratio:.2f} "
            f"| {statistics.median(paired):.2f} [{min(paired):.2f}-{max(paired):.2f}] |"
        )

    initial_body = b"\n".join(body.split(b"\n")[: args.initial]) + b"\n"
    print(f"\n### memory with {args.initial:,} pods cached\n")
    print("| case | retained B/pod |")
    print("|---|---|")
    for name, run in runs.items():
        print(f"| {name} | {retained_bytes_per_pod(run, initial_body, args.initial):,.0f} |")


if __name__ == "__main__":
    main()
