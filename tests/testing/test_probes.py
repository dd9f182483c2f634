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
    assert pods.get("probed")["status"]["phase"] == "Running"
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
