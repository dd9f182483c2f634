"""What every benchmark shares: the real inputs, model generation, round-robin timing, reports.

Benchmarks compare cases side by side in one process, round-robin (rep 1 runs every case, then
rep 2, ...), so machine noise hits each case alike; the first rep is a warm-up; figures are
medians with their min-max, and ratios are taken against a named baseline case.
"""

from __future__ import annotations

import gc
import importlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".bench-results"


def shared_dir() -> Path:
    """The folder with the real specs and the peers' input generator (``../shared``)."""
    configured = os.environ.get("KGEN_SPECS_DIR")
    specs = Path(configured) if configured else REPO.parent / "shared" / "specs"
    if not specs.is_dir():
        raise SystemExit(f"benchmarks need the real specs: {specs} is missing (set KGEN_SPECS_DIR)")
    return specs.parent


def make_pods_module() -> ModuleType:
    """``bench-peers/make_pods.py``: the deterministic realistic pods the peers were measured on."""
    sys.path.insert(0, str(shared_dir() / "bench-peers"))
    return importlib.import_module("make_pods")


def generated_core_v1() -> ModuleType:
    """The models kgen generates for core/v1 of the 1.35 swagger (generated once, cached)."""
    out = CACHE / "models"
    module_file = out / "k8s135" / "models" / "core_v1.py"
    if not module_file.exists():
        swagger = shared_dir() / "specs" / "kubernetes" / "v1.35" / "swagger.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kgen",
                "models",
                "--spec",
                str(swagger),
                "--package",
                "k8s135",
                "-o",
                str(out),
                "--quiet",
            ],
            check=True,
        )
    sys.path.insert(0, str(out))
    return importlib.import_module("k8s135.models.core_v1")


@dataclass
class Case:
    """One contender: ``run`` is timed; ``setup`` (untimed) prepares its input each rep."""

    name: str
    run: Callable[[], object]
    results: list[float] = field(default_factory=list)


def run_round_robin(cases: list[Case], reps: int, *, collect_between: bool = True) -> None:
    """Time every case ``reps`` times after one warm-up, interleaved; results in seconds."""
    for rep in range(reps + 1):
        for case in cases:
            if collect_between:
                gc.collect()
            start = time.perf_counter()
            result = case.run()
            elapsed = time.perf_counter() - start
            del result
            if rep:
                case.results.append(elapsed)


def table(cases: list[Case], baseline: str, unit: str = "ms", scale: float = 1000.0) -> str:
    """A Markdown table: median [min-max] and the ratio to the baseline's median."""
    base = statistics.median(next(c for c in cases if c.name == baseline).results)
    lines = [f"| case | median {unit} [min-max] | x {baseline} |", "|---|---|---|"]
    for case in cases:
        med = statistics.median(case.results)
        lines.append(
            f"| {case.name} | {med * scale:,.0f} [{min(case.results) * scale:,.0f}-"
            f"{max(case.results) * scale:,.0f}] | {med / base:.2f} |"
        )
    return "\n".join(lines)
