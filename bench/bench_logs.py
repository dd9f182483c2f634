"""Log reading: lines per second from kgen.testing's container log to the client.

The server (``kgen.testing.APIServer`` on loopback, plain HTTP) holds a container log of
``--lines`` lines of 64 bytes, already ended, so a follow streams the whole log and ends. Each
case reads it once per rep and counts the lines. Cases, in one process, round-robin:

* ``kgen stream_logs``: a client's ``stream_logs(follow=True)`` iterated line by line.
* ``kgen logs``: ``logs()``, the whole text at once, split into lines.
* ``official follow``: the official client's ``read_namespaced_pod_log(follow=True,
  _preload_content=False)``, its urllib3 response iterated line by line (skipped when
  ``kubernetes`` is not installed).
* ``official whole``: ``read_namespaced_pod_log()``, the whole text, split into lines.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from bench._support import Case, run_round_robin, shared_dir, table
from kgen.client import GroupVersionResource, ResourceClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer

LINE = "level=info msg=" + "x" * 48 + "\n"  # 64 bytes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=500_000, help="lines in the log")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)

    openapi = shared_dir() / "specs" / "kubernetes" / "v1.35" / "openapi-v3"
    with APIServer(specs=[openapi]) as server:
        config = Config(host=server.url, bearer_token=server.token, qps=-1, timeout=600)
        rest = RESTClient(config)
        pods = ResourceClient(rest, GroupVersionResource("", "v1", "pods"), dict, dict, "default")
        pods.create({"metadata": {"name": "bench"}, "spec": {"containers": [{"name": "c"}]}})
        log = server.containers.log("default", "bench", "c")
        for start in range(0, args.lines, 10_000):
            log.write(LINE * min(10_000, args.lines - start))
        log.end()

        def follow() -> int:
            with pods.stream_logs("bench", follow=True) as stream:
                return sum(1 for _ in stream)

        def whole() -> int:
            return len(pods.logs("bench").splitlines())

        cases = [Case("kgen stream_logs", follow), Case("kgen logs", whole)]
        cases += _official_cases(server, Path(".bench-results"))
        run_round_robin(cases, args.reps)
        for case in cases:
            counted = case.run()
            assert counted == args.lines, (case.name, counted)
        rest.close()
    print(f"input: a log of {args.lines:,} lines of 64 bytes, {args.reps} reps after a warm-up\n")
    print(table(cases, "kgen stream_logs", unit="ms"))
    print("\n| case | median lines/s |\n|---|---|")
    for case in cases:
        print(f"| {case.name} | {args.lines / statistics.median(case.results):,.0f} |")


def _official_cases(server: APIServer, folder: Path) -> list[Case]:
    try:
        import kubernetes
    except ImportError:
        return []
    folder.mkdir(exist_ok=True)
    api = kubernetes.config.new_client_from_config(
        str(server.write_kubeconfig(folder / "logs-kubeconfig"))
    )
    core = kubernetes.client.CoreV1Api(api)

    def follow() -> int:
        response = core.read_namespaced_pod_log(
            "bench", "default", follow=True, _preload_content=False
        )
        try:
            return sum(1 for _ in response)
        finally:
            response.release_conn()

    def whole() -> int:
        return len(core.read_namespaced_pod_log("bench", "default").splitlines())

    return [Case("official follow", follow), Case("official whole", whole)]
