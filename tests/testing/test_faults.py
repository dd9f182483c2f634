"""Fault injection over real HTTP: error statuses, delays, broken watch streams, determinism."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from kgen.testing import APIServer, Faults
from tests.testing.conftest import Client


@pytest.fixture
def faulty(server: APIServer, client: Client) -> Iterator[Client]:
    for i in range(3):
        client.request(
            "POST", "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": f"f{i}"}}
        )
    yield client
    server.faults.clear()
    client.request("DELETE", "/api/v1/namespaces/default/configmaps")


PATH = "/api/v1/namespaces/default/configmaps"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (429, "TooManyRequests"),
        (500, "InternalError"),
        (503, "ServiceUnavailable"),
        (504, "Timeout"),
    ],
)
def test_status_faults(server: APIServer, faulty: Client, code: int, reason: str) -> None:
    server.faults.fail(
        code, retry_after=3 if code == 429 else None, verb="list", resource="configmaps"
    )
    failed = faulty.request("GET", PATH)
    assert failed.status_code == code
    assert failed.json()["reason"] == reason
    if code == 429:
        assert failed.headers["Retry-After"] == "3"
        assert failed.json()["details"]["retryAfterSeconds"] == 3
    assert faulty.request("GET", PATH).status_code == 200
    assert faulty.request("GET", f"{PATH}/f0").status_code == 200


def _request_threads_end(before: set[threading.Thread]) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not [t for t in threading.enumerate() if t not in before and t.is_alive()]:
            return True
        time.sleep(0.05)
    return False


def test_delay_fault_makes_a_client_time_out(server: APIServer, faulty: Client) -> None:
    server.faults.delay(60.0, verb="get", resource="configmaps")
    faulty.session.close()  # the next request opens a new connection, served by a new thread
    before = set(threading.enumerate())
    with pytest.raises(requests.exceptions.ReadTimeout):
        faulty.request("GET", f"{PATH}/f0", timeout=0.2)
    assert ("delay", "get", "configmaps") in server.faults.fired
    faulty.session.close()
    assert _request_threads_end(before), "the delayed request ends when its client leaves"


def _lines(client: Client, timeout: float = 5.0) -> list[bytes]:
    response = client.request("GET", PATH, params={"watch": "1"}, stream=True, timeout=timeout)
    with response:
        return [line for line in response.iter_lines() if line]


def test_close_watch_after_n_events(server: APIServer, faulty: Client) -> None:
    server.faults.close_watch(2)
    lines = _lines(faulty)
    assert [json.loads(line)["object"]["metadata"]["name"] for line in lines] == ["f0", "f1"]


def test_malformed_and_truncated_watch_lines(server: APIServer, faulty: Client) -> None:
    server.faults.corrupt_watch(1, mode="malformed")
    lines = _lines(faulty)
    assert json.loads(lines[0])["type"] == "ADDED"
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[1])
    server.faults.corrupt_watch(2, mode="truncated")
    lines = _lines(faulty)
    assert len(lines) == 3
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[2])


def test_half_open_watch_stalls_until_client_timeout(server: APIServer, faulty: Client) -> None:
    server.faults.half_open(1)
    faulty.session.close()
    before = set(threading.enumerate())
    response = faulty.request("GET", PATH, params={"watch": "1"}, stream=True, timeout=0.5)
    with response:
        lines = response.iter_lines()
        assert json.loads(next(lines))["type"] == "ADDED"
        with pytest.raises(requests.exceptions.ConnectionError):
            next(lines)
    faulty.session.close()
    assert _request_threads_end(before), "the stalled connection ends when its client leaves"


def test_random_faults_are_deterministic_for_a_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        faults = Faults(seed)
        faults.fail(500, probability=0.5, times=None)
        return [bool(faults.take("get", "pods")) for _ in range(40)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    assert 5 < sum(pattern(7)) < 35


def test_discovery_and_openapi_faults(server: APIServer, client: Client) -> None:
    server.faults.fail(503, resource="discovery")
    server.faults.fail(500, resource="openapi")
    assert client.request("GET", "/apis").status_code == 503
    assert client.request("GET", "/apis").status_code == 200
    assert client.request("GET", "/openapi/v3").status_code == 500
    assert client.request("GET", "/openapi/v3").status_code == 200
    server.faults.fail(429, retry_after=1, verb="get", times=None)
    assert client.request("GET", "/version").status_code == 429
    assert client.request("GET", "/api/v1/namespaces/default").status_code == 429
    server.faults.clear()
