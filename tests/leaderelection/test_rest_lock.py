"""Leader election over real Leases: RESTLeaseLock through RESTClient against kgen.testing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgen.clock import FakeClock
from kgen.leaderelection import (
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElectionRecord,
    LeaderElector,
    Lease,
    LeaseSpec,
    RESTLeaseLock,
)
from kgen.record import FakeRecorder
from kgen.rest import Config, RESTClient, StatusError, is_conflict, is_not_found
from kgen.spec import load
from kgen.spec.model import APIModel
from kgen.testing import APIServer


@pytest.fixture(scope="module")
def model(specs_dir: Path) -> APIModel:
    return load([specs_dir / "kubernetes" / "v1.30" / "swagger.json"], [])


@pytest.fixture
def client(model: APIModel) -> Iterator[RESTClient]:
    with (
        APIServer(model) as server,
        RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest,
    ):
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}
        rest.post().group_version("", "v1").resource("namespaces").body(namespace).do()
        yield rest


def read_spec(client: RESTClient) -> LeaseSpec:
    request = client.get().group_version("coordination.k8s.io", "v1").namespace("ops")
    spec = request.resource("leases").name("ctl").do().into(Lease).spec
    assert isinstance(spec, LeaseSpec)
    return spec


def test_lock_round_trips_the_record_and_uses_resource_versions(client: RESTClient) -> None:
    a = RESTLeaseLock(client, "ops", "ctl", "a")
    b = RESTLeaseLock(client, "ops", "ctl", "b")
    with pytest.raises(StatusError) as missing:
        a.get()
    assert is_not_found(missing.value)
    record = LeaderElectionRecord(
        holder_identity="a",
        lease_duration_seconds=15,
        acquire_time="2023-11-14T22:13:20.000000Z",
        renew_time="2023-11-14T22:13:20.000000Z",
    )
    a.create(record)
    assert b.get() == record
    a.update(LeaderElectionRecord(holder_identity="a", lease_duration_seconds=15))
    with pytest.raises(StatusError) as stale:  # b still holds the version before a's update
        b.update(LeaderElectionRecord(holder_identity="b", lease_duration_seconds=15))
    assert is_conflict(stale.value)
    assert read_spec(client).holder_identity == "a"
    assert b.get().holder_identity == "a"
    with pytest.raises(RuntimeError, match="call get or create first"):
        RESTLeaseLock(client, "ops", "ctl", "c").update(record)


def test_two_candidates_hand_over_through_the_api(client: RESTClient) -> None:
    clock = FakeClock()
    recorder = FakeRecorder(10, include_object=True)
    started = {"a": threading.Event(), "b": threading.Event()}
    stopped: list[str] = []

    def candidate(identity: str, release: bool) -> LeaderElector:
        def lead(stop: threading.Event) -> None:
            started[identity].set()
            stop.wait()

        return LeaderElector(
            LeaderElectionConfig(
                lock=RESTLeaseLock(client, "ops", "ctl", identity, event_recorder=recorder),
                callbacks=LeaderCallbacks(
                    on_started_leading=lead, on_stopped_leading=lambda: stopped.append(identity)
                ),
                release_on_cancel=release,
                clock=clock,
            )
        )

    a, b = candidate("a", True), candidate("b", False)
    ta = threading.Thread(target=a.run)
    ta.start()
    assert started["a"].wait(10)
    clock.block_until_waiters(1)
    tb = threading.Thread(target=b.run)
    tb.start()
    clock.block_until_waiters(2)
    spec = read_spec(client)
    assert spec.holder_identity == "a" and spec.lease_transitions == 0

    a.stop()
    ta.join()
    spec = read_spec(client)
    assert spec.holder_identity == "" and spec.lease_duration_seconds == 1

    clock.step(4.4)
    assert started["b"].wait(10)
    b.stop()
    tb.join()
    spec = read_spec(client)
    assert (spec.holder_identity, spec.lease_transitions, spec.lease_duration_seconds) == (
        "b",
        1,
        15,
    )
    assert stopped == ["a", "b"]
    lease_ref = " involvedObject{kind=Lease,apiVersion=coordination.k8s.io/v1}"
    recorded = [recorder.events.get_nowait() for _ in range(recorder.events.qsize())]
    assert recorded == [
        f"Normal LeaderElection {message}{lease_ref}"
        for message in (
            "a became leader",
            "a stopped leading",
            "b became leader",
            "b stopped leading",
        )
    ]
