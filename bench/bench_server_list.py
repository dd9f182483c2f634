"""The test server's own time for a LIST of ``--pods`` realistic pods and a GET of one, with the
cache of stored objects' bodies (:mod:`kgen.testing._encoded`) and without it.

Input: the server of ``bench_async_http`` (``start_server``: the 1.35 model, pods of
``bench-peers/make_pods.py``), in this process. Each case calls ``Handler.handle`` for
``GET /api/v1/pods`` (or ``--gets`` GETs of one pod) and keeps the body: the request path
(authentication, routing, the tracker's list, negotiation, encoding) without the HTTP and TLS
around it, which are the same for both. ``cached`` is the server's handler (bodies from the
cache, warmed by the warm-up rep, as a server warms on its first LIST); ``whole`` is a handler
over the same tracker with ``cache_bodies=False`` (every answer encoded whole, what the server
did before the cache). Both must produce the same bytes (asserted). Round-robin reps, medians
[min-max], ratio to ``whole``.
"""

from __future__ import annotations

import argparse

from bench._support import Case, run_round_robin, table
from bench.bench_async_http import start_server
from kgen.testing._handler import Handler, Request


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--gets", type=int, default=1_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)

    server, _, pod = start_server(args.pods)
    try:
        cached = server.handler
        whole = Handler(server.tracker, auth=cached.auth, cache_bodies=False)
        headers = {"authorization": f"Bearer {server.token}"}
        bodies: dict[str, bytes] = {}

        def lister(name: str, handler: Handler) -> Case:
            request = Request("GET", "/api/v1/pods", {}, headers)
            return Case(name, lambda: bodies.__setitem__(name, handler.handle(request).body))

        def getter(name: str, handler: Handler) -> Case:
            request = Request("GET", pod, {}, headers)

            def run() -> None:
                for _ in range(args.gets):
                    bodies[name] = handler.handle(request).body

            return Case(name, run)

        lists = [lister("whole", whole), lister("cached", cached)]
        gets = [getter("whole", whole), getter("cached", cached)]
        run_round_robin(lists, args.reps)
        list_bytes = len(bodies["whole"])
        assert bodies["whole"] == bodies["cached"]
        run_round_robin(gets, args.reps)
        assert bodies["whole"] == bodies["cached"]
    finally:
        server.stop()
    print(
        f"server: kgen.testing Handler.handle in-process (no HTTP/TLS); {args.reps} reps after "
        "a warm-up, medians [min-max]\n"
    )
    print(f"### LIST of {args.pods:,} pods ({list_bytes / 1e6:.1f} MB of JSON)\n")
    print(table(lists, "whole"))
    print(f"\n### {args.gets:,} GETs of one pod\n")
    print(table(gets, "whole"))
