"""Benchmark (not a test): the import time of a generated package, in fresh processes.

What an application pays before its first request: ``import`` of the clientset, the core/v1
models and the core/v1 informers of a package generated from the 1.35 swagger (generated once
per run into a temporary folder). Each rep starts a new interpreter per case, round-robin, and
times the import statement inside it (``time.perf_counter``), so interpreter start-up is not
counted; the figure is the median over the reps with its min-max. ``import requests`` alone is
measured beside it as a yardstick of the machine's speed at that moment (the ratio is what to
compare across runs on a shared machine).

``--compare PATH`` adds the same import with the kgen of another checkout (say ``/work/main``):
its generator writes its own package and its runtime is put first on ``PYTHONPATH``, so that
before and after are measured side by side in one run.

    python -m bench import [--reps N] [--compare PATH]

Target (issue 11.4): under 0.15 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._support import REPO, shared_dir

PACKAGE = "kube135"
TARGET = f"import {PACKAGE}.clientset, {PACKAGE}.models.core_v1, {PACKAGE}.informers.core_v1"

_TIMED = """
import time
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
import sys
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"requests", "urllib3", "yaml", "aiohttp",
    "websockets", "jinja2", "black"}})
print(elapsed, ",".join(heavy) or "-")
"""


def _generate(kgen_root: Path, out: Path) -> None:
    swagger = shared_dir() / "specs" / "kubernetes" / "v1.35" / "swagger.json"
    command = [sys.executable, "-m", "kgen", "generate", "--spec", str(swagger)]
    command += ["--package", PACKAGE, "-o", str(out), "--quiet"]
    subprocess.run(command, check=True, cwd=out, env={**os.environ, "PYTHONPATH": str(kgen_root)})


def _once(statement: str, path: list[Path]) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))}
    done = subprocess.run(
        [sys.executable, "-c", _TIMED.format(statement=statement)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=path[-1],
    )
    seconds, heavy = done.stdout.split()
    return float(seconds), heavy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--compare", type=Path, help="another kgen checkout to measure beside")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        here = Path(tmp) / "here"
        here.mkdir()
        _generate(REPO, here)
        cases: dict[str, tuple[str, list[Path]]] = {
            "requests alone": ("import requests", [here]),
            "clientset + core/v1 models + informers": (TARGET, [REPO, here]),
        }
        if args.compare is not None:
            other = Path(tmp) / "other"
            other.mkdir()
            _generate(args.compare.resolve(), other)
            cases[f"the same, kgen of {args.compare}"] = (TARGET, [args.compare.resolve(), other])
        results: dict[str, list[float]] = {name: [] for name in cases}
        heavy: dict[str, str] = {}
        for rep in range(args.reps + 1):
            for name, (statement, path) in cases.items():
                seconds, heavy[name] = _once(statement, path)
                if rep:  # the first rep warms the file cache
                    results[name].append(seconds)
    base = statistics.median(results["requests alone"])
    print(f"{args.reps} reps, fresh processes; load average before: {os.getloadavg()[0]:.1f}\n")
    print("| import | median ms [min-max] | x requests alone | heavy modules loaded |")
    print("|---|---|---|---|")
    for name, times in results.items():
        med = statistics.median(times)
        print(
            f"| {name} | {med * 1000:.0f} [{min(times) * 1000:.0f}-{max(times) * 1000:.0f}] "
            f"| {med / base:.2f} | {heavy[name]} |"
        )


if __name__ == "__main__":
    main()
