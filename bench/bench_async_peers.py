"""kgen's async client against the Python peers' async clients, on typed objects.

Peers: the official client's ``kubernetes.aio`` and the older ``kubernetes_asyncio`` (both
aiohttp, OpenAPI-generated models), lightkube's ``AsyncClient`` (httpx2 since lightkube 1.0, dataclass models) and
kr8s (httpx, dict-backed objects). kgen is ``AsyncRESTClient`` decoding into the models kgen
generates for the 1.35 swagger (msgspec Structs).

Workload, against one ``kgen.testing.APIServer`` over TLS with token auth in its own process
(the server of ``bench_async_http``: realistic pods from ``bench-peers/make_pods.py``):

* ``get``: ``--gets`` GETs of one pod, ``--in-flight`` in flight, each decoded into the
  client's Pod type;
* ``list``: one LIST of ``--pods`` pods into the client's typed list (lightkube and kr8s
  iterate their own list; paging is left at each client's default).

Each object read is used: its name and its first container's image are read, so that a client
that decodes lazily (lightkube's models parse nested fields on first access) pays for it.

Every client is built once, with a pool of ``--in-flight`` connections where it has the
option, and kept across reps; cases run round-robin in one event loop; the first rep warms up.
Figures are medians [min-max] and ratios to kgen (above 1: slower than kgen), in wall time
and in the client process's CPU time (the server's work is in its own process, so CPU time is
each client's own cost, while wall time is bounded by the server).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml

from bench._support import Case, generated_core_v1, run_round_robin
from bench.bench_async_http import many, serve
from kgen.rest import Config
from kgen.rest.aio import AsyncRESTClient

Run = Callable[[], Awaitable[int]]
Close = Callable[[], Awaitable[object]]
Runs = tuple[Run, Run, Close]
Cell = Callable[[list[float]], str]


def _split(pod_path: str) -> tuple[str, str]:
    """``(namespace, name)`` of ``/api/v1/namespaces/<ns>/pods/<name>``."""
    parts = pod_path.strip("/").split("/")
    return parts[3], parts[5]


def _kgen_used(pod: Any) -> int:
    return 1 if pod.metadata.name and pod.spec.containers[0].image else 0


def _model_used(pod: Any) -> int:
    """The official clients' and lightkube's models: attributes all the way down."""
    return 1 if pod.metadata.name and pod.spec.containers[0].image else 0


def _kr8s_used(pod: Any) -> int:
    return 1 if pod.name and pod.raw["spec"]["containers"][0]["image"] else 0


def write_kubeconfig(folder: Path, url: str, token: str, ca_file: str) -> Path:
    path = folder / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "bench", "cluster": {"server": url, "certificate-authority": ca_file}}
                ],
                "users": [{"name": "bench", "user": {"token": token}}],
                "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}],
                "current-context": "bench",
            }
        )
    )
    return path


async def kgen_runs(url: str, token: str, ca_pem: bytes, pod: str, args: Any) -> Runs:
    core = generated_core_v1()
    client = AsyncRESTClient(
        Config(host=url, ca_data=ca_pem, bearer_token=token, qps=-1),
        connections=args.in_flight,
    )

    async def one() -> int:
        return _kgen_used((await client.get().abs_path(pod).do()).into(core.Pod))

    async def gets() -> int:
        return await many(one, args.gets, args.in_flight)

    async def list_pods() -> int:
        listed = (await client.get().abs_path("/api/v1/pods").do()).into(core.PodList)
        return sum(_kgen_used(p) for p in listed.items)

    return gets, list_pods, client.close


async def official_runs(
    module: str, url: str, token: str, ca_file: str, pod: str, args: Any
) -> Runs:
    """``kubernetes.aio`` or ``kubernetes_asyncio``: the same generated API, two packages."""
    import importlib

    client = importlib.import_module(f"{module}.client")
    configuration = client.Configuration(host=url)
    bearer = f"Bearer {token}"  # the key each package reads its bearer token under
    configuration.api_key = {"authorization": bearer, "BearerToken": bearer}
    configuration.ssl_ca_cert = ca_file
    configuration.connection_pool_maxsize = args.in_flight
    api_client = client.ApiClient(configuration)
    core = client.CoreV1Api(api_client)
    namespace, name = _split(pod)

    async def one() -> int:
        return _model_used(await core.read_namespaced_pod(name, namespace))

    async def gets() -> int:
        return await many(one, args.gets, args.in_flight)

    async def list_pods() -> int:
        return sum(_model_used(p) for p in (await core.list_pod_for_all_namespaces()).items)

    async def close() -> None:
        closed = api_client.close()
        if asyncio.iscoroutine(closed):
            await closed

    return gets, list_pods, close


async def lightkube_runs(kubeconfig: Path, pod: str, args: Any) -> Runs:
    from lightkube import AsyncClient, KubeConfig
    from lightkube.resources.core_v1 import Pod

    client = AsyncClient(KubeConfig.from_file(str(kubeconfig)))
    namespace, name = _split(pod)

    async def one() -> int:
        return _model_used(await client.get(Pod, name, namespace=namespace))

    async def gets() -> int:
        return await many(one, args.gets, args.in_flight)

    async def list_pods() -> int:
        return sum([_model_used(p) async for p in client.list(Pod, namespace="*")])

    return gets, list_pods, client.close


async def kr8s_runs(kubeconfig: Path, pod: str, args: Any) -> Runs:
    import kr8s.asyncio
    from kr8s.asyncio.objects import Pod

    api = await kr8s.asyncio.api(kubeconfig=str(kubeconfig))
    namespace, name = _split(pod)

    async def one() -> int:
        return _kr8s_used(await Pod.get(name, namespace=namespace, api=api))

    async def gets() -> int:
        return await many(one, args.gets, args.in_flight)

    async def list_pods() -> int:
        found = kr8s.asyncio.get("pods", namespace=kr8s.ALL, api=api)
        if hasattr(found, "__aiter__"):
            return sum([_kr8s_used(p) async for p in found])
        return sum(_kr8s_used(p) for p in await found)

    async def close() -> None:
        return None  # kr8s keeps its httpx client for the process; nothing to close per api

    return gets, list_pods, close


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gets", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=100)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--peers",
        default="kubernetes.aio,kubernetes_asyncio,lightkube,kr8s",
        help="comma-separated peers to run beside kgen",
    )
    args = parser.parse_args(argv)
    peers = [p for p in args.peers.split(",") if p]

    fork = multiprocessing.get_context("fork")
    parent, child = fork.Pipe()
    process = fork.Process(target=serve, args=(args.pods, child))
    process.start()
    url, token, ca_pem, pod = parent.recv()
    loop = asyncio.new_event_loop()
    clients: dict[str, Runs] = {}
    counts: dict[str, int] = {}
    spent: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            ca_file = str(Path(folder, "ca.pem"))
            Path(ca_file).write_bytes(ca_pem)
            kubeconfig = write_kubeconfig(Path(folder), url, token, ca_file)
            clients["kgen"] = loop.run_until_complete(kgen_runs(url, token, ca_pem, pod, args))
            builders: dict[str, Callable[[], Awaitable[Runs]]] = {
                "kubernetes.aio": lambda: official_runs(
                    "kubernetes.aio", url, token, ca_file, pod, args
                ),
                "kubernetes_asyncio": lambda: official_runs(
                    "kubernetes_asyncio", url, token, ca_file, pod, args
                ),
                "lightkube": lambda: lightkube_runs(kubeconfig, pod, args),
                "kr8s": lambda: kr8s_runs(kubeconfig, pod, args),
            }
            for peer in peers:
                clients[peer] = loop.run_until_complete(builders[peer]())

            def timed(key: str, run: Run) -> Callable[[], object]:
                def go() -> object:
                    start = time.process_time()
                    counts[key] = loop.run_until_complete(run())
                    spent.setdefault(key, []).append(time.process_time() - start)
                    return None

                return go

            get_cases = [Case(n, timed(f"{n} get", g)) for n, (g, _, _) in clients.items()]
            list_cases = [Case(n, timed(f"{n} list", lst)) for n, (_, lst, _) in clients.items()]
            run_round_robin(get_cases, args.reps)
            run_round_robin(list_cases, args.reps)
    finally:
        for _, _, close in clients.values():
            with contextlib.suppress(Exception):
                loop.run_until_complete(close())
        loop.close()
        parent.send("stop")
        process.join()

    for name in clients:
        assert counts[f"{name} get"] == args.gets, (name, counts[f"{name} get"])
        assert counts[f"{name} list"] == args.pods, (name, counts[f"{name} list"])
    print(
        "server: kgen.testing.APIServer over TLS (HTTP/1.1), token auth, in its own process; "
        f"{args.reps} reps after a warm-up, medians [min-max]; typed decode in every client\n"
    )

    def table(
        title: str, header: str, cases: list[Case], kind: str, value: Cell, cpu: Cell
    ) -> None:
        """One Markdown table: each client's ``value`` of its times, the ratio of its median
        time to kgen's, then the same for the CPU time of this process."""
        print(f"{title}\n")
        print(f"| client | {header} | x kgen time | client CPU | x kgen CPU |")
        print("|---|---|---|---|---|")
        base = statistics.median(cases[0].results)
        base_cpu = statistics.median(spent[f"kgen {kind}"][1:])
        for case in cases:
            used = spent[f"{case.name} {kind}"][1:]  # the warm-up rep left out, as for wall time
            ratio = statistics.median(case.results) / base
            print(
                f"| {case.name} | {value(case.results)} | {ratio:.2f} | {cpu(used)} | "
                f"{statistics.median(used) / base_cpu:.2f} |"
            )

    def rate(times: list[float]) -> str:
        med, low, high = statistics.median(times), max(times), min(times)
        return f"{args.gets / med:,.0f} [{args.gets / low:,.0f}-{args.gets / high:,.0f}]"

    def millis(times: list[float]) -> str:
        med, low, high = statistics.median(times), min(times), max(times)
        return f"{med * 1000:,.0f} [{low * 1000:,.0f}-{high * 1000:,.0f}]"

    def seconds(times: list[float]) -> str:
        return f"{statistics.median(times):.2f} s"

    def cpu_millis(times: list[float]) -> str:
        return f"{statistics.median(times) * 1000:,.0f} ms"

    title = f"### {args.gets:,} GETs of one pod, {args.in_flight} in flight"
    table(title, "GETs/s median [min-max]", get_cases, "get", rate, seconds)
    title = f"\n### LIST of {args.pods:,} pods, typed"
    table(title, "ms median [min-max]", list_cases, "list", millis, cpu_millis)
    print(
        "\nClient CPU is the benchmark process's CPU time (the server runs in another process):"
        " what each client itself costs, where wall time also holds the server's share."
    )
