"""What keeping unknown fields costs: decode time and retained memory of 10,000 pods.

* ``lenient``: the same classes as kgen's, built again without ``forbid_unknown_fields`` (the
  models as they were before unknown fields were kept): msgspec skips what they lack;
* ``kgen``: ``kgen.meta.decode(body, PodList)`` (strict first, fallback on an unknown field).

Each on two inputs: the realistic pods of ``make_pods.py`` (no unknown fields), and the same
pods with two fields the models lack in every pod (``metadata.futureField``, a container's
``newThing``), which ``lenient`` drops and ``kgen`` keeps. Run side by side, round-robin, in one
process; medians.
"""

from __future__ import annotations

import argparse
import json
import types
import typing
from typing import Any

import msgspec

import kgen.meta
from bench._support import Case, generated_core_v1, make_pods_module, run_round_robin, table
from bench.bench_decode import retained_bytes_per_pod

_twins: dict[type[Any], type[Any]] = {}


def _lenient_type(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return lenient(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if not args:
        return annotation
    mapped = tuple(_lenient_type(a) if a is not ... else a for a in args)
    if origin is types.UnionType or origin is typing.Union:
        return typing.Union[mapped]  # noqa: UP007
    return origin[mapped]


def lenient(cls: type[Any]) -> type[Any]:
    """A copy of model ``cls`` (and of every model it refers to) that skips unknown fields."""
    if cls not in _twins:
        fields = [
            (
                f.name,
                _lenient_type(f.type),
                msgspec.field(
                    name=f.encode_name,
                    **(
                        {}
                        if f.required
                        else (
                            {"default": f.default}
                            if f.default is not msgspec.NODEFAULT
                            else {"default_factory": f.default_factory}
                        )
                    ),
                ),
            )
            for f in msgspec.structs.fields(cls)
        ]
        _twins[cls] = msgspec.defstruct(
            cls.__name__, fields, kw_only=True, gc=False, repr_omit_defaults=True
        )
    return _twins[cls]


def with_unknowns(body: bytes) -> bytes:
    data = json.loads(body)
    for pod in data["items"]:
        pod["metadata"]["futureField"] = {"enabled": True, "level": 3}
        pod["spec"]["containers"][0]["newThing"] = "on"
    return json.dumps(data, separators=(",", ":")).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="pods per list (default 10,000)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)

    core_v1 = generated_core_v1()
    old = msgspec.json.Decoder(lenient(core_v1.PodList))
    make_pods = make_pods_module()
    plain = make_pods.dumps(make_pods.make_pod_list(args.n))
    unknown = with_unknowns(plain)
    print(
        f"input: {args.n:,} pods, {len(plain) / 1e6:.1f} MB; with unknowns {len(unknown) / 1e6:.1f} MB"
    )
    kept = kgen.meta.decode(unknown, core_v1.PodList).items[0]
    assert kgen.meta.unknown_fields(kept.metadata), "unknown fields not kept"

    decoders = {
        "lenient": lambda body: old.decode(body).items,
        "kgen": lambda body: kgen.meta.decode(body, core_v1.PodList).items,
    }
    cases = [
        Case(f"{name} {label}", lambda d=decode, b=body: d(b))
        for label, body in (("plain", plain), ("unknown", unknown))
        for name, decode in decoders.items()
    ]
    run_round_robin(cases, args.reps)
    print("\n### decode, gc on\n")
    print(table(cases, "lenient plain"))
    print("\n### retained memory\n")
    print("| case | retained B/pod |")
    print("|---|---|")
    for label, body in (("plain", plain), ("unknown", unknown)):
        for name, decode in decoders.items():
            per_pod = retained_bytes_per_pod(decode, body, args.n)
            print(f"| {name} {label} | {per_pod:,.0f} |")


if __name__ == "__main__":
    main()
