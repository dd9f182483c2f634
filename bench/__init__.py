"""kgen's benchmarks. Run with ``nox -s bench`` or ``python -m bench [NAME ...]``."""
