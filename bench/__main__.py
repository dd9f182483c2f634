"""``python -m bench [NAME ...] [OPTIONS]``: run the named benchmarks (default: all), printing
Markdown. Options (everything from the first argument that starts with ``-``) go to each one."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    args = sys.argv[1:]
    first_option = next((i for i, arg in enumerate(args) if arg.startswith("-")), len(args))
    names, options = args[:first_option], args[first_option:]
    if not names:
        names = sorted(
            info.name.removeprefix("bench_")
            for info in pkgutil.iter_modules([str(Path(__file__).parent)])
            if info.name.startswith("bench_")
        )
    for name in names:
        print(f"\n## {name}\n", flush=True)
        importlib.import_module(f"bench.bench_{name}").main(options)


main()
