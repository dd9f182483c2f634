"""Benchmark (not a test): ``kgen generate`` of the whole Kubernetes 1.35 API.

Measures, as the median of a few runs, a full generation into an empty folder and a rerun whose
input did not change (which the stamp file turns into a no-op). Runs the real CLI in a
subprocess so that import time counts, as it does for a user. CPU seconds (the CLI and its
formatting workers) are reported beside wall-clock time, since wall time on a shared machine
depends on what else runs.

    python -m bench generate [--runs N] [--spec PATH]

Targets: full generation under 3 s cold on a 2-core machine (issue 11; it was 10 s in issue 5),
unchanged rerun under 2 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _specs_dir() -> Path:
    configured = os.environ.get("KGEN_SPECS_DIR")
    return Path(configured) if configured else ROOT.parent / "shared" / "specs"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _generate(spec: Path, out: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all processes) of one ``kgen generate`` run."""
    command = [sys.executable, "-m", "kgen", "generate", "--spec", str(spec)]
    command += ["--package", "kube135", "-o", str(out), "--quiet"]
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run(command, check=True, cwd=ROOT)
    return time.perf_counter() - start, _children_cpu() - cpu


def _report(label: str, runs: list[tuple[float, float]]) -> None:
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    print(f"{label}: median {wall:.2f} s wall, {cpu:.2f} s CPU over {len(runs)} runs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spec", type=Path, default=_specs_dir() / "kubernetes/v1.35/swagger.json")
    args = parser.parse_args(argv)
    full: list[tuple[float, float]] = []
    rerun: list[tuple[float, float]] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as out:
            full.append(_generate(args.spec, Path(out)))
            rerun.append(_generate(args.spec, Path(out)))
    print(f"spec: {args.spec}; load average before: {os.getloadavg()[0]:.1f}")
    _report("full generation", full)
    _report("unchanged rerun", rerun)


if __name__ == "__main__":
    main()
