"""Decode speed, memory per object and collector pauses: kgen's models against the peers.

Input: a PodList of realistic pods from ``bench-peers/make_pods.py`` (the same generator the
peers were measured with in ``reference/perf-baseline.md``). Cases run in one process,
round-robin, with the cyclic garbage collector ON (the number users get):

* ``kgen``: ``kgen.meta.decode(body, PodList)``: bytes straight to the generated Structs;
* ``dicts``: ``msgspec.json.decode(body)``: plain dicts, the floor for untyped clients;
* ``lightkube`` and ``kubernetes`` (the official client), when installed (the nox session installs
  them), decoding the way their clients do.

Then, per case: Python heap retained per pod (tracemalloc) and the pause of a full collection
(``gc.collect()``) with ``--cached`` pods alive, as an informer's cache would hold them.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable

import msgspec

import kgen.meta
from bench._support import Case, generated_core_v1, make_pods_module, run_round_robin, table

Decoder = Callable[[bytes], object]


def decoders() -> dict[str, Decoder]:
    core_v1 = generated_core_v1()
    found: dict[str, Decoder] = {
        "kgen": lambda body: kgen.meta.decode(body, core_v1.PodList).items,
        "dicts": lambda body: msgspec.json.decode(body)["items"],
    }
    try:
        from lightkube.core import decoders as lk
        from lightkube.resources.core_v1 import Pod as LightkubePod

        found["lightkube"] = lambda body: lk.decode_list(body, LightkubePod)[2]
    except ImportError:
        print("lightkube not installed: skipped (nox -s bench installs it)")
    try:
        from kubernetes.client import ApiClient
        from kubernetes.client.rest import RESTResponse

        api = ApiClient()

        class _Raw:
            status, reason, headers = 200, "OK", {"content-type": "application/json"}

            def __init__(self, data: bytes) -> None:
                self.data = data

        def official(body: bytes) -> object:
            response = RESTResponse(_Raw(body))
            response.read()
            return api.response_deserialize(
                response_data=response, response_types_map={"200": "V1PodList"}
            ).data.items

        found["kubernetes"] = official
    except ImportError:
        print("kubernetes (official client) not installed: skipped (nox -s bench installs it)")
    return found


def round_trip_is_lossless(body: bytes) -> bool:
    """``encode(decode(list))`` equals the input, item by item (kgen adds apiVersion/kind)."""
    original = json.loads(body)["items"]
    core_v1 = generated_core_v1()
    again = json.loads(kgen.meta.encode(kgen.meta.decode(body, core_v1.PodList)))["items"]
    for item in again:  # kgen sets apiVersion/kind on top-level kinds; list items carry none
        item.pop("apiVersion", None)
        item.pop("kind", None)
    return bool(again == original)


def retained_bytes_per_pod(decode: Decoder, body: bytes, count: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = decode(body)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del result
    return (after - before) / count


def collection_pause() -> float:
    """Median seconds of a full collection (``gc.collect()``) in this process as it stands."""
    pauses = []
    for _ in range(5):
        start = time.perf_counter()
        gc.collect()
        pauses.append(time.perf_counter() - start)
    return statistics.median(pauses)


def full_collection_pause(decode: Decoder, body: bytes, batches: int) -> tuple[float, int]:
    """Median seconds of ``gc.collect()`` with ``batches`` decoded bodies alive, and how many
    objects those add to the collector's lists."""
    gc.collect()
    tracked_before = len(gc.get_objects())
    alive = [decode(body) for _ in range(batches)]
    gc.collect()
    pause = collection_pause()
    tracked = len(gc.get_objects()) - tracked_before
    del alive
    gc.collect()
    return pause, tracked


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="pods per list (default 10,000)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--cached", type=int, default=100_000, help="pods alive for the gc pause")
    args = parser.parse_args(argv)

    make_pods = make_pods_module()
    body = make_pods.dumps(make_pods.make_pod_list(args.n))
    print(f"input: {args.n:,} pods, {len(body) / 1e6:.1f} MB")
    found = decoders()

    print(f"kgen round trip lossless: {round_trip_is_lossless(body)}")

    cases = [Case(name, lambda d=decode: d(body)) for name, decode in found.items()]
    run_round_robin(cases, args.reps)
    print("\n### decode, gc on\n")
    print(table(cases, "kgen"))

    print("\n### memory and full-collection pause\n")
    print(
        f"| case | retained B/pod | gc.collect() ms with {args.cached:,} pods | objects tracked by the cache |"
    )
    print("|---|---|---|---|")
    batches = max(1, args.cached // args.n)
    print(f"| (nothing cached) | | {collection_pause() * 1000:,.1f} | |")
    for name, decode in found.items():
        per_pod = retained_bytes_per_pod(decode, body, args.n)
        pause, tracked = full_collection_pause(decode, body, batches)
        print(f"| {name} | {per_pod:,.0f} | {pause * 1000:,.1f} | {tracked:,} |")


if __name__ == "__main__":
    main()
