"""The runtime's remaining rows: encode, workqueue cycles, lister reads, an informer's RSS.

Inputs are the realistic pods of ``bench-peers/make_pods.py``. Cases run in one process,
round-robin, collector on (medians, ratios to the first case), except the resident-memory rows,
each measured in a fresh interpreter of its own:

* encode: ``--pods`` pods from the objects each client decodes into, back to JSON: kgen
  (``kgen.meta.encode`` of the generated Structs), plain dicts with msgspec (the floor), and the
  peers when installed (lightkube's ``to_dict``, the official client's
  ``sanitize_for_serialization``, each then ``json.dumps``).
* workqueue: ``--items`` distinct items added, then got and marked done by 1 and by 8 worker
  threads, :class:`kgen.workqueue.Queue` against ``queue.Queue`` (``put``/``get``/``task_done``,
  no de-duplication: the reference for the locking cost alone).
* lister: a namespace-indexed cache of ``--cached`` pods; ``namespace(ns).list()`` through the
  index and ``namespace(ns).get(name)`` by key, per second.
* RSS: VmRSS growth of a fresh process whose informer has cached ``--cached`` pods, with and
  without ``drop_managed_fields`` (the replayed watch stream freed before the reading; what the
  allocator keeps of it counts, as it would in a real process).
"""

from __future__ import annotations

import argparse
import functools
import json
import queue
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import kgen.meta
from bench._support import REPO, Case, generated_core_v1, make_pods_module, run_round_robin, table
from bench.bench_decode import decoders
from kgen.cache import NAMESPACE_INDEX, Indexer, Lister, meta_namespace_index_func
from kgen.workqueue import Queue, QueueShutDown


def encoders(body: bytes) -> list[Case]:
    """One case per client: decode once (untimed), time the encode."""

    def by_kgen(items: Any) -> object:
        return kgen.meta.encode(items)

    def by_lightkube(items: Any) -> object:
        return json.dumps([p.to_dict() for p in items])

    def by_official(items: Any) -> object:
        from kubernetes.client import ApiClient

        return json.dumps(ApiClient().sanitize_for_serialization(items))

    encode = {"kgen": by_kgen, "dicts": by_kgen, "lightkube": by_lightkube}
    return [
        Case(name, functools.partial(encode.get(name, by_official), decode(body)))
        for name, decode in decoders().items()
    ]


def kgen_queue_cycles(items: int, workers: int) -> Callable[[], object]:
    """Add every item, shut down (queued items are still handed out), drain with workers."""

    def run() -> None:
        work: Queue[int] = Queue()
        for i in range(items):
            work.add(i)
        work.shut_down()

        def worker() -> None:
            while True:
                try:
                    item = work.get()
                except QueueShutDown:
                    return
                work.done(item)

        _run_workers(worker, workers)

    return run


def stdlib_queue_cycles(items: int, workers: int) -> Callable[[], object]:
    def run() -> None:
        work: queue.Queue[int] = queue.Queue()
        for i in range(items):
            work.put(i)

        def worker() -> None:
            while True:
                try:
                    work.get_nowait()
                except queue.Empty:
                    return
                work.task_done()

        _run_workers(worker, workers)

    return run


def _run_workers(worker: Callable[[], None], count: int) -> None:
    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def lister_reads(pods: list[Any]) -> tuple[Lister[Any], list[str], list[tuple[str, str]]]:
    """A namespace-indexed cache of ``pods``, its namespaces, and ``(namespace, name)`` pairs."""
    indexer: Indexer[Any] = Indexer(indexers={NAMESPACE_INDEX: meta_namespace_index_func})
    for pod in pods:
        indexer.add(pod)
    namespaces = sorted({p.metadata.namespace for p in pods})
    keys = [(p.metadata.namespace, p.metadata.name) for p in pods]
    return Lister(indexer, "pods"), namespaces, keys


def lister_rows(pods: list[Any], reps: int) -> None:
    lister, namespaces, keys = lister_reads(pods)
    lists = 2_000

    def list_namespaces() -> object:
        return [lister.namespace(namespaces[i % len(namespaces)]).list() for i in range(lists)]

    def get_keys() -> object:
        return [lister.namespace(ns).get(name) for ns, name in keys]

    cases = [
        Case("namespace(ns).list()", list_namespaces),
        Case("namespace(ns).get(name)", get_keys),
    ]
    run_round_robin(cases, reps)
    print(f"\n### lister on {len(pods):,} cached pods in {len(namespaces)} namespaces\n")
    print("| read | median per second |\n|---|---|")
    print(f"| namespace(ns).list() | {lists / statistics.median(cases[0].results):,.0f} |")
    print(f"| namespace(ns).get(name) | {len(keys) / statistics.median(cases[1].results):,.0f} |")


_RSS_CHILD = """
import gc, sys, time
sys.path.insert(0, {repo!r})
from bench import bench_informer as bi
from kgen.cache import drop_managed_fields

def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmRSS:"))

pod_type = bi.generated_core_v1().Pod
body, counts = bi.watch_body({n}, {n}, 1)
gc.collect()
before = rss()
transform = drop_managed_fields if {case!r} == "informer +drop_managed_fields" else None
kept = bi.informer_run(pod_type, transform)(body, {n})
del body
gc.collect()
print((rss() - before) / {n})
"""


def rss_per_pod(case: str, count: int) -> float:
    """Bytes of resident memory per cached pod, in a fresh interpreter (the stream it replays
    is freed before the second reading)."""
    done = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD.format(repo=str(REPO), n=count, case=case)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=10_000, help="pods encoded (default 10,000)")
    parser.add_argument("--items", type=int, default=100_000, help="workqueue items per run")
    parser.add_argument("--cached", type=int, default=100_000, help="pods cached (lister, RSS)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    make_pods = make_pods_module()

    body = make_pods.dumps(make_pods.make_pod_list(args.pods))
    cases = encoders(body)
    run_round_robin(cases, args.reps)
    print(f"\n### encode {args.pods:,} pods ({len(body) / 1e6:.1f} MB of JSON)\n")
    print(table(cases, "kgen"))

    for workers in (1, 8):
        cases = [
            Case("kgen.workqueue.Queue", kgen_queue_cycles(args.items, workers)),
            Case("queue.Queue", stdlib_queue_cycles(args.items, workers)),
        ]
        run_round_robin(cases, args.reps)
        print(f"\n### workqueue: {args.items:,} add/get/done cycles, {workers} worker(s)\n")
        print("| case | median cycles/s | x queue.Queue |\n|---|---|---|")
        base = statistics.median(cases[1].results)
        for case in cases:
            med = statistics.median(case.results)
            print(f"| {case.name} | {args.items / med:,.0f} | {base / med:.2f} |")

    pods = kgen.meta.decode(
        make_pods.dumps(make_pods.make_pod_list(args.cached)), generated_core_v1().PodList
    ).items
    lister_rows(list(pods), args.reps)
    del pods

    print(f"\n### resident memory per cached pod, {args.cached:,} pods, fresh processes\n")
    print("| case | RSS B/pod | RSS MB in all |\n|---|---|---|")
    for case in ("informer", "informer +drop_managed_fields"):
        per_pod = rss_per_pod(case, args.cached)
        print(f"| {case} | {per_pod:,.0f} | {per_pod * args.cached / 1e6:,.0f} |")
