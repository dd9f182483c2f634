"""``python -m bench [NAME ...]``: run the named benchmarks (default: all), printing Markdown."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    names = sys.argv[1:] or sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    for name in names:
        print(f"\n## {name}\n", flush=True)
        importlib.import_module(f"bench.bench_{name}").main([])


main()
