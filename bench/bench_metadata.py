"""Memory per cached object: a metadata informer against the typed pod informer.

Input: ``--pods`` realistic pods (``bench-peers/make_pods.py``) as the ADDED events of one
recorded watch stream (:func:`bench.bench_informer.watch_body`). The typed informer decodes the
stream into the ``Pod`` model kgen generates from the 1.35 swagger; the metadata informer decodes
the same stream as kube-apiserver (and kgen.testing) sends it to a metadata watch, each object
reduced to ``PartialObjectMetadata``, into :class:`kgen.meta.PartialObjectMetadata`. Both run
in a :class:`kgen.cache.SharedIndexInformer` with the namespace index, with and without
:func:`kgen.cache.drop_managed_fields`.

Per case: the Python heap the informer's cache retains per object (tracemalloc, after a full
collection), median of ``--reps`` runs with min-max, and the ratio to the typed pod informer
with the same transform (``drop_managed_fields``, or none: the ``+intern_strings`` rows are
compared with the typed informer that keeps every copy, the figure issue 13 sets against).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import msgspec

from bench._support import generated_core_v1
from bench.bench_informer import informer_run, retained_bytes_per_pod, watch_body
from kgen.cache import drop_managed_fields, intern_strings
from kgen.meta import PartialObjectMetadata
from kgen.testing._partial import as_partial


def _drop_and_intern(obj: object) -> object:
    return intern_strings(drop_managed_fields(obj))


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
        "metadata informer +drop_managed_fields+intern_strings": (
            informer_run(PartialObjectMetadata, _drop_and_intern),
            partial,
        ),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.reps):  # round-robin, so machine noise hits every case alike
        for name, (run, body) in cases.items():
            results[name].append(retained_bytes_per_pod(run, body, args.pods))

    print(f"\n### retained heap with {args.pods:,} objects cached\n")
    print("| case | B/object median [min-max] | x typed Pod (same transform) |")
    print("|---|---|---|")
    for name, values in results.items():
        base = "typed Pod informer" + (" +drop_managed_fields" if "+drop" in name else "")
        ratio = statistics.median(values) / statistics.median(results[base])
        print(
            f"| {name} | {statistics.median(values):,.0f} [{min(values):,.0f}-{max(values):,.0f}]"
            f" | {ratio:.3f} |"
        )


if __name__ == "__main__":
    main()
