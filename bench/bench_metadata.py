"""Memory per cached object: a metadata informer against the typed pod informer.

Input: ``--pods`` realistic pods (``bench-peers/make_pods.py``) as the ADDED events of one
recorded watch stream (:func:`bench.bench_informer.watch_body`). The typed informer decodes the
stream into the ``Pod`` model kgen generates from the 1.35 swagger; the metadata informer decodes
the same stream as kube-apiserver (and kgen.testing) sends it to a metadata watch, each object
reduced to ``PartialObjectMetadata``, into :class:`kgen.meta.PartialObjectMetadata`. Both run
in a :class:`kgen.cache.SharedIndexInformer` with the namespace index, with and without
:func:`kgen.cache.drop_managed_fields`, and the metadata informer as
:class:`kgen.metadata.MetadataSharedInformerFactory` makes it by default (with
:func:`kgen.metadata.compact_metadata`: managedFields dropped, strings interned).

Per case: the Python heap the informer's cache retains per object (tracemalloc, after a full
collection), median of ``--reps`` runs with min-max, its ratio to the typed pod informer with
the same transform (``drop_managed_fields``, or none for the other rows) and to the typed pod
informer as a typed factory makes it (no transform: the figure issue 13 sets against); and the
events per second of a separate run without tracemalloc (the same rep, round-robin), with its
ratio to the typed informer. ``--no-intern`` leaves the ``+intern_strings`` rows out (for runs
at 100,000 objects, where every case takes a while); the factory default row stays.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import msgspec

from bench._support import generated_core_v1
from bench.bench_informer import informer_run, retained_bytes_per_pod, watch_body
from kgen.cache import drop_managed_fields, intern_strings
from kgen.meta import PartialObjectMetadata
from kgen.metadata import compact_metadata
from kgen.testing._partial import as_partial


def metadata_body(body: bytes) -> bytes:
    """The same watch stream with every object as a ``PartialObjectMetadata``."""
    frames = []
    for line in body.splitlines():
        event = msgspec.json.decode(line)
        frames.append(
            msgspec.json.encode({"type": event["type"], "object": as_partial(event["object"])})
        )
    return b"\n".join(frames) + b"\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=10_000, help="cached pods (default 10,000)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-intern", action="store_true", help="skip the intern_strings rows")
    args = parser.parse_args(argv)

    pod_type = generated_core_v1().Pod
    pods, _counts = watch_body(args.pods, args.pods, args.seed)
    partial = metadata_body(pods)
    print(
        f"input: {args.pods:,} pods, {len(pods) / args.pods:,.0f} B/pod on the wire as Pod, "
        f"{len(partial) / args.pods:,.0f} B/pod as PartialObjectMetadata; collector on"
    )

    cases: dict[str, tuple[Callable[[bytes, int], object], bytes]] = {
        "typed Pod informer": (informer_run(pod_type, None), pods),
        "metadata informer": (informer_run(PartialObjectMetadata, None), partial),
        "typed Pod informer +drop_managed_fields": (
            informer_run(pod_type, drop_managed_fields),
            pods,
        ),
        "metadata informer +drop_managed_fields": (
            informer_run(PartialObjectMetadata, drop_managed_fields),
            partial,
        ),
        "typed Pod informer +intern_strings": (informer_run(pod_type, intern_strings), pods),
        "metadata informer +intern_strings": (
            informer_run(PartialObjectMetadata, intern_strings),
            partial,
        ),
        "metadata informer, factory default (compact_metadata)": (
            informer_run(PartialObjectMetadata, compact_metadata),
            partial,
        ),
    }
    if args.no_intern:
        cases = {name: case for name, case in cases.items() if "+intern" not in name}
    results: dict[str, list[float]] = {name: [] for name in cases}
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.reps):  # round-robin, so machine noise hits every case alike
        for name, (run, body) in cases.items():
            results[name].append(retained_bytes_per_pod(run, body, args.pods))
            gc.collect()
            start = time.perf_counter()
            kept = run(body, args.pods)
            seconds[name].append(time.perf_counter() - start)
            del kept

    print(f"\n### retained heap with {args.pods:,} objects cached\n")
    print(
        "| case | B/object median [min-max] | x typed Pod (same transform) | x typed Pod informer "
        "| events/s median | x typed Pod (same transform) |"
    )
    print("|---|---|---|---|---|---|")
    typed = statistics.median(results["typed Pod informer"])
    for name, values in results.items():
        base = "typed Pod informer" + (" +drop_managed_fields" if "+drop" in name else "")
        ratio = statistics.median(values) / statistics.median(results[base])
        rate = args.pods / statistics.median(seconds[name])
        rate_ratio = statistics.median(seconds[base]) / statistics.median(seconds[name])
        print(
            f"| {name} | {statistics.median(values):,.0f} [{min(values):,.0f}-{max(values):,.0f}]"
            f" | {ratio:.3f} | {statistics.median(values) / typed:.3f} | {rate:,.0f}"
            f" | {rate_ratio:.2f} |"
        )


if __name__ == "__main__":
    main()
