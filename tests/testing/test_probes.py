"""Readiness probes in kgen.testing's kubelet: a probed container is ready only while what the
test registered answers its probe (exec, httpGet, tcpSocket), and the pod's Ready condition and
its Service's EndpointSlices follow."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.client import GroupVersionResource, ResourceClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer, ContainerProcess, PortConnection

from .test_controllers import eventually

Objects = ResourceClient[dict[str, Any], dict[str, Any]]


@pytest.fixture(scope="module")
def server(specs_dir: Path) -> Iterator[APIServer]:
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"], controllers=True
    ) as running:
        yield running


@pytest.fixture(scope="module")
def rest(server: APIServer) -> Iterator[RESTClient]:
    with RESTClient(Config(host=server.url, bearer_token=server.token)) as client:
        yield client


def _objects(rest: RESTClient, group: str, plural: str) -> Objects:
    gvr = GroupVersionResource(group, "v1", plural)
    return ResourceClient(rest, gvr, dict, dict, "default")


def _pod(name: str, *containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"image": "nginx:1.25", **c} for c in containers]},
    }


def _ready(pods: Objects, name: str) -> dict[str, bool]:
    status = pods.get(name).get("status") or {}
    return {c["name"]: c["ready"] for c in status.get("containerStatuses") or []}


def _condition(pods: Objects, name: str, kind: str) -> dict[str, Any]:
    conditions = pods.get(name).get("status", {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == kind), {})


def test_an_exec_probe_follows_the_handlers_exit_code_into_the_endpointslice(
    server: APIServer, rest: RESTClient
) -> None:
    healthy = threading.Event()
    commands: list[tuple[str, ...]] = []

    def check(process: ContainerProcess) -> int:
        commands.append(process.command)
        return 0 if healthy.is_set() else 1

    server.containers.on_exec(check, pod="probed")
    pods, services = _objects(rest, "", "pods"), _objects(rest, "", "services")
    probe = {"exec": {"command": ["cat", "/ready"]}, "periodSeconds": 1, "failureThreshold": 1}
    pods.create(_pod("probed", {"name": "web", "readinessProbe": probe}))
    services.create(
        {
            "metadata": {"name": "probed"},
            "spec": {"selector": {"app": "probed"}, "ports": [{"port": 80}]},
        }
    )
    eventually(lambda: commands, "the probe runs")
    # The kubelet writes the Running status and starts probing side by side: wait for both.
    eventually(lambda: pods.get("probed")["status"]["phase"] == "Running", "the pod runs")
    assert _ready(pods, "probed") == {"web": False}
    ready = _condition(pods, "probed", "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False",
        "ContainersNotReady",
        "containers with unready status: [web]",
    )
    assert commands[0] == ("cat", "/ready")
    assert _endpoint_ready(rest, "probed") is False
    healthy.set()
    eventually(lambda: _ready(pods, "probed") == {"web": True}, "the container gets ready")
    assert _condition(pods, "probed", "Ready")["status"] == "True"
    assert _condition(pods, "probed", "ContainersReady")["status"] == "True"
    eventually(lambda: _endpoint_ready(rest, "probed"), "the endpoint gets ready")
    healthy.clear()
    eventually(lambda: _ready(pods, "probed") == {"web": False}, "the container fails again")
    eventually(lambda: _endpoint_ready(rest, "probed") is False, "the endpoint is unready")


def _endpoint_ready(rest: RESTClient, service: str) -> bool | None:
    slices = rest.get().abs_path("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")
    items = slices.param("labelSelector", f"kubernetes.io/service-name={service}").do().json()
    endpoints = [e for s in items["items"] for e in s.get("endpoints") or []]
    return bool(endpoints[0]["conditions"]["ready"]) if endpoints else None


def test_an_http_probe_succeeds_on_2xx_and_3xx_from_the_port_handler(
    server: APIServer, rest: RESTClient
) -> None:
    seen: list[bytes] = []

    def answer(connection: PortConnection) -> None:
        request = b""
        while b"\r\n\r\n" not in request and (chunk := connection.socket.recv(4096)):
            request += chunk
        seen.append(request)
        path = request.split(b" ")[1]
        code = {b"/healthz": b"200 OK", b"/moved": b"302 Found"}.get(path, b"500 Oops")
        connection.socket.sendall(b"HTTP/1.1 " + code + b"\r\nContent-Length: 0\r\n\r\n")

    server.containers.on_port(answer, pod="http", port=8080)
    pods = _objects(rest, "", "pods")

    def http(path: str) -> dict[str, Any]:
        get = {"path": path, "port": "web", "httpHeaders": [{"name": "X-Probe", "value": "1"}]}
        return {"httpGet": get, "periodSeconds": 1}

    pods.create(
        _pod(
            "http",
            {
                "name": "ok",
                "ports": [{"name": "web", "containerPort": 8080}],
                "readinessProbe": http("/healthz"),
            },
            {
                "name": "moved",
                "ports": [{"name": "web", "containerPort": 8080}],
                "readinessProbe": http("/moved"),
            },
            {
                "name": "broken",
                "ports": [{"name": "web", "containerPort": 8080}],
                "readinessProbe": http("/broken"),
            },
        )
    )
    eventually(
        lambda: _ready(pods, "http") == {"ok": True, "moved": True, "broken": False}, "probed"
    )
    assert (
        _condition(pods, "http", "Ready")["message"] == "containers with unready status: [broken]"
    )
    request = next(r for r in seen if b"/healthz" in r)
    assert request.startswith(b"GET /healthz HTTP/1.1\r\n")
    assert b"X-Probe: 1\r\n" in request and b"User-Agent: kube-probe/" in request


def test_a_tcp_probe_needs_something_on_the_port_and_waits_its_initial_delay(
    server: APIServer, rest: RESTClient
) -> None:
    pods = _objects(rest, "", "pods")
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        tcp = {"tcpSocket": {"port": 5432}, "periodSeconds": 1}
        pods.create(
            _pod(
                "tcp",
                {"name": "db", "readinessProbe": tcp},
                {"name": "late", "readinessProbe": {**tcp, "initialDelaySeconds": 3600}},
                {"name": "plain"},
            )
        )
        eventually(
            lambda: _ready(pods, "tcp") == {"db": False, "late": False, "plain": True}, "run"
        )
        server.containers.forward(pod="tcp", port=5432, to=listener.getsockname())
        eventually(lambda: _ready(pods, "tcp")["db"], "the port answers")
        assert _ready(pods, "tcp")["late"] is False  # its first probe is an hour away
        assert (
            _condition(pods, "tcp", "Ready")["message"] == "containers with unready status: [late]"
        )
    finally:
        listener.close()


def _status_of(pods: Objects, name: str) -> dict[str, Any]:
    status = pods.get(name).get("status") or {}
    return dict((status.get("containerStatuses") or [{}])[0])


def _events(rest: RESTClient, name: str) -> dict[tuple[str, str, str], int]:
    """The pod's events by (type, reason, message): how many times each happened."""
    events = _objects(rest, "", "events").list()
    return {
        (e["type"], e["reason"], e["message"]): e["count"]
        for e in events["items"]
        if e["involvedObject"].get("name") == name
        and e["involvedObject"].get("fieldPath", "spec.containers{web}") == "spec.containers{web}"
    }


def test_a_failing_liveness_probe_restarts_the_container(
    server: APIServer, rest: RESTClient
) -> None:
    """Two failures in a row (``failureThreshold: 2``): an Unhealthy event each, Killing, and
    the container runs again with ``restartCount`` 1 and its end (143, it exits on SIGTERM) as
    ``lastState``; the new instance, healthy, is not restarted again."""
    failures = [2]
    probed: list[str] = []

    def alive(process: ContainerProcess) -> int:
        probed.append(process.command[-1])
        if failures[0] > 0:
            failures[0] -= 1
            process.stdout.write("no heartbeat\n")
            return 1
        return 0

    server.containers.on_exec(alive, pod="lively")
    pods = _objects(rest, "", "pods")
    probe = {"exec": {"command": ["check", "alive"]}, "periodSeconds": 1, "failureThreshold": 2}
    pods.create(_pod("lively", {"name": "web", "livenessProbe": probe}))
    restarted = eventually(
        lambda: (s := _status_of(pods, "lively")).get("restartCount") == 1 and s, "a restart"
    )
    assert "running" in restarted["state"] and restarted["ready"] and restarted["started"]
    ended = restarted["lastState"]["terminated"]
    assert (ended["exitCode"], ended["reason"]) == (143, "Error")
    assert ended["containerID"] != restarted["containerID"]
    seen = len(probed)
    eventually(lambda: len(probed) >= seen + 2, "the new instance is probed", timeout=15)
    assert _status_of(pods, "lively")["restartCount"] == 1
    events = _events(rest, "lively")
    assert events[("Warning", "Unhealthy", "Liveness probe failed: no heartbeat\n")] == 2
    assert events[("Normal", "Killing", "Container web failed liveness probe, will be restarted")]
    assert events[("Normal", "Started", "Started container web")] == 2  # the second instance


def test_with_restart_policy_never_a_dead_container_fails_the_pod(
    server: APIServer, rest: RESTClient
) -> None:
    server.containers.on_exec(lambda process: 1, pod="once")
    pods = _objects(rest, "", "pods")
    probe = {"exec": {"command": ["check"]}, "periodSeconds": 1, "failureThreshold": 1}
    manifest = _pod("once", {"name": "web", "livenessProbe": probe})
    manifest["spec"]["restartPolicy"] = "Never"
    pods.create(manifest)
    eventually(lambda: pods.get("once")["status"].get("phase") == "Failed", "the pod fails")
    status = _status_of(pods, "once")
    assert status["restartCount"] == 0 and status["state"]["terminated"]["exitCode"] == 143


def test_a_startup_probe_holds_back_readiness_and_liveness_until_it_passes(
    server: APIServer, rest: RESTClient
) -> None:
    booted = threading.Event()
    commands: list[str] = []

    def check(process: ContainerProcess) -> int:
        commands.append(process.command[0])
        if process.command[0] == "booted":
            return 0 if booted.is_set() else 1
        return 0

    server.containers.on_exec(check, pod="slow")
    pods = _objects(rest, "", "pods")
    every_second = {"periodSeconds": 1, "failureThreshold": 30}
    pods.create(
        _pod(
            "slow",
            {
                "name": "web",
                "startupProbe": {"exec": {"command": ["booted"]}, **every_second},
                "livenessProbe": {"exec": {"command": ["alive"]}, **every_second},
                "readinessProbe": {"exec": {"command": ["ready"]}, **every_second},
            },
        )
    )
    eventually(lambda: commands.count("booted") >= 2, "the startup probe runs again")
    status = _status_of(pods, "slow")
    assert "running" in status["state"] and (status["started"], status["ready"]) == (False, False)
    assert set(commands) == {"booted"}  # neither liveness nor readiness has run yet
    booted.set()
    eventually(lambda: _status_of(pods, "slow")["ready"], "ready once started")
    assert _status_of(pods, "slow")["started"] is True
    eventually(lambda: {"alive", "ready"} <= set(commands), "liveness and readiness run")
    count = commands.count("booted")
    eventually(lambda: commands.count("ready") >= 3, "readiness is probed on")
    assert commands.count("booted") == count  # a passed startup probe is not run again


def test_a_startup_probe_that_never_passes_restarts_the_container(
    server: APIServer, rest: RESTClient
) -> None:
    server.containers.on_exec(lambda process: 1, pod="stuck")
    pods = _objects(rest, "", "pods")
    probe = {"exec": {"command": ["booted"]}, "periodSeconds": 1, "failureThreshold": 2}
    pods.create(_pod("stuck", {"name": "web", "startupProbe": probe}))
    eventually(lambda: _status_of(pods, "stuck").get("restartCount"), "a restart")
    events = _events(rest, "stuck")
    assert ("Normal", "Killing", "Container web failed startup probe, will be restarted") in events
    assert ("Warning", "Unhealthy", "Startup probe failed: ") in events
