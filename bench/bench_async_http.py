"""The async HTTP library for kgen.rest's async client, chosen by measurement: httpx or aiohttp.

Workload, against one ``kgen.testing.APIServer`` over TLS with token auth (real pods from
``bench-peers/make_pods.py`` in the 1.35 model), the same for each library:

* ``get``: ``--gets`` GETs of one pod with ``--in-flight`` requests in flight (one pooled client,
  as many connections as requests in flight), body read in full;
* ``list``: one LIST of ``--pods`` pods, body read in full (bytes throughput).

Cases run round-robin in one process and one event loop (each library keeps its pooled client
across reps, as a long-lived client would); the first rep warms up. The server runs in its own
process, so that its hundred request threads do not compete with the client's event loop for
the interpreter (in one process that contention, not the library, set the pace). ``requests`` with a thread per request in flight is
printed for reference (what the sync client does), and kgen's own ``AsyncRESTClient`` (aiohttp
under kgen's rules: headers, credentials, retries, error decoding) to show what the rules cost.

HTTP/2: httpx can speak it (``http2=True``, with ``h2``), but ``kgen.testing.APIServer`` serves
HTTP/1.1 only (ALPN offers no ``h2``), so an HTTP/2 case would measure HTTP/1.1 again; it is
reported as not measurable here rather than run.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import ssl
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import requests
import trustme

from bench._support import Case, make_pods_module, run_round_robin, shared_dir
from kgen.rest import Config
from kgen.rest.aio import AsyncRESTClient
from kgen.spec import load
from kgen.testing import APIServer

Run = Callable[[], Awaitable[int]]
KEEPALIVE = 120.0  # seconds an idle connection is kept: longer than the other cases of a round


@dataclass(frozen=True)
class Server:
    """Where the server process listens."""

    url: str
    token: str


def serve(pods: int, conn: Connection) -> None:
    """In the server process: serve ``pods`` pods until the parent says stop (or goes)."""
    server, ca, pod = start_server(pods)
    try:
        conn.send((server.url, server.token, ca.cert_pem.bytes(), pod))
        with contextlib.suppress(EOFError):
            conn.recv()
    finally:
        server.stop()


def start_server(pods: int) -> tuple[APIServer, trustme.CA, str]:
    """A TLS API server holding ``pods`` realistic pods; returns it, its CA and one pod's path."""
    model = load([shared_dir() / "specs" / "kubernetes" / "v1.35" / "swagger.json"], [])
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server = APIServer(
        model,
        tls=(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()),
        ca_pem=ca.cert_pem.bytes(),
        window=10,
    ).start()
    make_pods = make_pods_module()
    tracker = server.tracker
    namespaces = tracker.resource("", "v1", "namespaces")
    pod_info = tracker.resource("", "v1", "pods")
    existing = {ns["metadata"]["name"] for ns in tracker.list(namespaces, "")["items"]}
    for name in make_pods.NAMESPACES:
        if name not in existing:
            tracker.create(namespaces, "", {"metadata": {"name": name}})
    first = ""
    for pod in make_pods.make_pod_list(pods, 1)["items"]:
        meta = pod["metadata"]
        for field in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
            meta.pop(field, None)
        created = tracker.create(pod_info, meta["namespace"], pod)
        first = (
            first or f"/api/v1/namespaces/{meta['namespace']}/pods/{created['metadata']['name']}"
        )
    return server, ca, first


async def many(fetch: Callable[[], Awaitable[int]], total: int, in_flight: int) -> int:
    """``total`` fetches, ``in_flight`` at a time (one worker each); the bytes read."""
    per_worker, extra = divmod(total, in_flight)

    async def worker(count: int) -> int:
        return sum([await fetch() for _ in range(count)])

    sizes = await asyncio.gather(*(worker(per_worker + (i < extra)) for i in range(in_flight)))
    return sum(sizes)


async def httpx_runs(
    server: Server, ctx: ssl.SSLContext, pod: str, args: Any
) -> tuple[Run, Run, Any]:
    import httpx

    client = httpx.AsyncClient(
        base_url=server.url,
        verify=ctx,
        headers={"Authorization": f"Bearer {server.token}"},
        limits=httpx.Limits(
            max_connections=args.in_flight, max_keepalive_connections=args.in_flight
        ),
        timeout=60,
    )

    async def fetch(path: str) -> int:
        response = await client.get(path)
        response.raise_for_status()
        return len(response.content)

    async def gets() -> int:
        return await many(lambda: fetch(pod), args.gets, args.in_flight)

    async def list_pods() -> int:
        return await fetch("/api/v1/pods")

    return gets, list_pods, client.aclose


async def aiohttp_runs(
    server: Server, ctx: ssl.SSLContext, pod: str, args: Any
) -> tuple[Run, Run, Any]:
    import aiohttp

    session = aiohttp.ClientSession(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.token}"},
        connector=aiohttp.TCPConnector(ssl=ctx, limit=args.in_flight, keepalive_timeout=KEEPALIVE),
        timeout=aiohttp.ClientTimeout(total=60),
    )

    async def fetch(path: str) -> int:
        async with session.get(path) as response:
            response.raise_for_status()
            return len(await response.read())

    async def gets() -> int:
        return await many(lambda: fetch(pod), args.gets, args.in_flight)

    async def list_pods() -> int:
        return await fetch("/api/v1/pods")

    return gets, list_pods, session.close


async def kgen_runs(server: Server, ca_pem: bytes, pod: str, args: Any) -> tuple[Run, Run, Any]:
    """kgen's AsyncRESTClient (aiohttp under kgen's rules): the cost of the rules layer."""
    client = AsyncRESTClient(
        Config(host=server.url, ca_data=ca_pem, bearer_token=server.token, qps=-1),
        connections=args.in_flight,
        idle_timeout=KEEPALIVE,
    )

    async def fetch(path: str) -> int:
        return len((await client.get().abs_path(path).do()).body)

    async def gets() -> int:
        return await many(lambda: fetch(pod), args.gets, args.in_flight)

    async def list_pods() -> int:
        return await fetch("/api/v1/pods")

    return gets, list_pods, client.close


def requests_runs(server: Server, ca_file: str, pod: str, args: Any) -> tuple[Any, Any, Any]:
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_file
    session.headers["Authorization"] = f"Bearer {server.token}"
    session.mount(
        "https://", requests.adapters.HTTPAdapter(pool_maxsize=args.in_flight, pool_block=True)
    )
    pool = concurrent.futures.ThreadPoolExecutor(args.in_flight)

    def fetch(path: str) -> int:
        response = session.get(server.url + path, timeout=60)
        response.raise_for_status()
        return len(response.content)

    def gets() -> int:
        return sum(pool.map(lambda _: fetch(pod), range(args.gets)))

    def list_pods() -> int:
        return fetch("/api/v1/pods")

    def close() -> None:
        pool.shutdown()
        session.close()

    return gets, list_pods, close


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gets", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=100)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)

    parent, child = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(target=serve, args=(args.pods, child))
    process.start()
    url, token, ca_pem, pod = parent.recv()
    server = Server(url, token)
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as folder:
        ca_file = str(Path(folder, "ca.pem"))
        Path(ca_file).write_bytes(ca_pem)
        ctx = ssl.create_default_context(cafile=ca_file)
        libraries: dict[str, tuple[Run, Run, Any]] = {}
        try:
            libraries["httpx"] = loop.run_until_complete(httpx_runs(server, ctx, pod, args))
            libraries["aiohttp"] = loop.run_until_complete(aiohttp_runs(server, ctx, pod, args))
            libraries["kgen AsyncRESTClient"] = loop.run_until_complete(
                kgen_runs(server, ca_pem, pod, args)
            )
            sync_gets, sync_list, sync_close = requests_runs(server, ca_file, pod, args)
            sizes: dict[str, int] = {}

            def timed(name: str, run: Run) -> Callable[[], object]:
                def go() -> object:
                    sizes[name] = loop.run_until_complete(run())
                    return None

                return go

            get_cases = [
                Case(name, timed(f"{name} get", g)) for name, (g, _, _) in libraries.items()
            ]
            get_cases.append(Case("requests (threads)", sync_gets))
            list_cases = [
                Case(name, timed(f"{name} list", lst)) for name, (_, lst, _) in libraries.items()
            ]
            list_cases.append(Case("requests", lambda: sizes.__setitem__("list", sync_list())))
            run_round_robin(get_cases, args.reps)
            run_round_robin(list_cases, args.reps)
            list_bytes = sizes["httpx list"]
            assert sizes["aiohttp list"] == sizes["kgen AsyncRESTClient list"] == list_bytes
        finally:
            for _, _, close in libraries.values():
                loop.run_until_complete(close())
            sync_close()
            loop.close()
            parent.send("stop")
            process.join()

    print(
        f"server: kgen.testing.APIServer over TLS (HTTP/1.1), token auth, in its own process; "
        f"{args.reps} reps after a warm-up, medians [min-max]\n"
    )
    print(f"### {args.gets:,} GETs of one pod, {args.in_flight} in flight\n")
    print("| case | requests/s median [min-max] | x httpx |")
    print("|---|---|---|")
    base = statistics.median(get_cases[0].results)
    for case in get_cases:
        med = statistics.median(case.results)
        print(
            f"| {case.name} | {args.gets / med:,.0f} [{args.gets / max(case.results):,.0f}-"
            f"{args.gets / min(case.results):,.0f}] | {base / med:.2f} |"
        )
    print(f"\n### LIST of {args.pods:,} pods ({list_bytes / 1e6:.1f} MB)\n")
    print("| case | MB/s median [min-max] | ms median | x httpx |")
    print("|---|---|---|---|")
    base = statistics.median(list_cases[0].results)
    for case in list_cases:
        med = statistics.median(case.results)
        print(
            f"| {case.name} | {list_bytes / 1e6 / med:,.0f} [{list_bytes / 1e6 / max(case.results):,.0f}-"
            f"{list_bytes / 1e6 / min(case.results):,.0f}] | {med * 1000:,.0f} | {base / med:.2f} |"
        )
    print(
        "\nHTTP/2 (httpx http2=True): not measured; kgen.testing.APIServer serves HTTP/1.1 only, "
        "so the client would fall back to HTTP/1.1."
    )
