"""What the test server's controllers cost: a namespace teardown and a garbage collection, from
the DELETE (over loopback HTTP) until the last object is gone, with controllers and without.

Each rep makes (untimed, through the tracker) a namespace holding ``--objects`` ConfigMaps, or a
ConfigMap owning ``--objects`` ConfigMaps, then times the DELETE and the wait until nothing is
left (polled every millisecond through the tracker: the namespace, or the list of dependents). ``bare`` servers do it within the DELETE;
``controllers`` servers answer at once and let the namespace controller or the garbage
collector finish on their threads.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import requests

from bench._support import shared_dir
from kgen.testing import APIError, APIServer


def _wait(done: Callable[[], bool]) -> None:
    while not done():
        time.sleep(0.001)


def _gone(probe: Callable[[], object]) -> bool:
    try:
        probe()
    except APIError:
        return True
    return False


def _namespace(server: APIServer, session: requests.Session, rep: int, objects: int) -> float:
    tracker = server.tracker
    namespaces = tracker.resource("", "v1", "namespaces")
    configmaps = tracker.resource("", "v1", "configmaps")
    name = f"teardown-{rep}"
    tracker.create(namespaces, "", {"metadata": {"name": name}})
    for i in range(objects):
        tracker.create(configmaps, name, {"metadata": {"name": f"cm-{i}"}})
    start = time.perf_counter()
    session.delete(f"{server.url}/api/v1/namespaces/{name}", timeout=60).raise_for_status()
    _wait(lambda: _gone(lambda: tracker.get(namespaces, "", name)))
    return time.perf_counter() - start


def _collection(server: APIServer, session: requests.Session, rep: int, objects: int) -> float:
    tracker = server.tracker
    configmaps = tracker.resource("", "v1", "configmaps")
    owner = tracker.create(configmaps, "default", {"metadata": {"name": f"owner-{rep}"}})
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    for i in range(objects):
        body = {"metadata": {"name": f"dep-{rep}-{i}", "ownerReferences": [ref]}}
        tracker.create(configmaps, "default", body)

    def left() -> int:
        items = tracker.list(configmaps, "default", copy=False)["items"]
        return sum(i["metadata"]["name"].startswith(f"dep-{rep}-") for i in items)

    start = time.perf_counter()
    url = f"{server.url}/api/v1/namespaces/default/configmaps/{ref['name']}"
    session.delete(url, timeout=60).raise_for_status()
    _wait(lambda: left() == 0)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=1000, help="objects per rep (1000)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    openapi = shared_dir() / "specs" / "kubernetes" / "v1.35" / "openapi-v3"
    results: dict[tuple[str, str], list[float]] = {}
    for mode in ("bare", "controllers"):
        with APIServer(specs=[openapi], controllers=mode == "controllers") as server:
            session = requests.Session()
            session.trust_env = False
            session.headers["Authorization"] = f"Bearer {server.token}"
            for what, case in (("namespace teardown", _namespace), ("collection", _collection)):
                times = [case(server, session, rep, args.objects) for rep in range(args.reps + 1)]
                results[(what, mode)] = times[1:]  # the first is a warm-up
            session.close()
    print(f"input: {args.objects} objects per rep, {args.reps} reps after a warm-up\n")
    print("| case | median ms [min-max] | x bare |\n|---|---|---|")
    for (what, mode), times in results.items():
        base = statistics.median(results[(what, "bare")])
        med = statistics.median(times)
        print(
            f"| {what}, {mode} | {med * 1000:,.0f} [{min(times) * 1000:,.0f}-"
            f"{max(times) * 1000:,.0f}] | {med / base:.2f} |"
        )
