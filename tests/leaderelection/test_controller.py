"""A leader-elected, workqueue-driven controller built only from kgen's pieces, against the
kgen.testing API server: the leader runs workers over a rate-limited queue, retries a failing
item, records events through the API, and releases its Lease when stopped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.clock import FakeClock
from kgen.leaderelection import (
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElector,
    Lease,
    LeaseSpec,
    RESTLeaseLock,
)
from kgen.record import EventBroadcaster, EventRecorder, RESTEventSink
from kgen.rest import Config, Request, RESTClient
from kgen.spec import load
from kgen.spec.model import APIModel
from kgen.testing import APIServer
from kgen.workqueue import (
    ItemExponentialFailureRateLimiter,
    QueueShutDown,
    RateLimitingQueue,
)

NAMES = ("alpha", "beta", "gamma")


@pytest.fixture
def client(specs_dir: Path) -> Iterator[RESTClient]:
    model: APIModel = load([specs_dir / "kubernetes" / "v1.30" / "swagger.json"], [])
    with (
        APIServer(model) as server,
        RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest,
    ):
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}
        rest.post().group_version("", "v1").resource("namespaces").body(namespace).do()
        for name in NAMES:
            cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            configmaps(rest.post()).body(cm).do()
        yield rest


def configmaps(request: Request) -> Request:
    return request.group_version("", "v1").namespace("ops").resource("configmaps")


class Reconciler:
    """Labels each ConfigMap ``reconciled=yes``; the first attempt at "beta" fails."""

    def __init__(self, client: RESTClient, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(
            ItemExponentialFailureRateLimiter(0.001, 0.01), name="configmaps"
        )
        self.failed_once: set[str] = set()
        self.reconciled = threading.Semaphore(0)

    def reconcile(self, name: str) -> None:
        cm: dict[str, Any] = configmaps(self.client.get()).name(name).do().json()
        if name == "beta" and name not in self.failed_once:
            self.failed_once.add(name)
            self.recorder.event(cm, "Warning", "SyncFailed", "transient failure, will retry")
            raise RuntimeError("transient")
        cm["metadata"].setdefault("labels", {})["reconciled"] = "yes"
        configmaps(self.client.put()).name(name).body(cm).do()
        self.recorder.eventf(cm, "Normal", "Reconciled", "labelled %s", name)

    def worker(self) -> None:
        while True:
            try:
                key = self.queue.get()
            except QueueShutDown:
                return
            try:
                self.reconcile(key)
            except RuntimeError:
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
                self.reconciled.release()
            finally:
                self.queue.done(key)

    def lead(self, stop: threading.Event) -> None:
        workers = [threading.Thread(target=self.worker) for _ in range(2)]
        for w in workers:
            w.start()
        for name in NAMES:
            self.queue.add(name)
        stop.wait()
        self.queue.shut_down_with_drain()
        for w in workers:
            w.join()


def test_leader_elected_reconciler(client: RESTClient) -> None:
    clock = FakeClock()
    with EventBroadcaster() as broadcaster:
        broadcaster.start_recording_to_sink(RESTEventSink(client))
        recorder = broadcaster.new_recorder("configmap-controller")
        reconciler = Reconciler(client, recorder)
        elector = LeaderElector(
            LeaderElectionConfig(
                lock=RESTLeaseLock(client, "ops", "configmap-controller", "replica-1"),
                callbacks=LeaderCallbacks(
                    on_started_leading=reconciler.lead, on_stopped_leading=lambda: None
                ),
                release_on_cancel=True,
                clock=clock,
            )
        )
        runner = threading.Thread(target=elector.run)
        runner.start()
        for _ in NAMES:
            assert reconciler.reconciled.acquire(timeout=10)
        elector.stop()
        runner.join()

    for name in NAMES:
        cm = configmaps(client.get()).name(name).do().json()
        assert cm["metadata"]["labels"] == {"reconciled": "yes"}
    assert reconciler.queue.num_requeues("beta") == 0  # forgotten after success
    events = client.get().group_version("", "v1").namespace("ops").resource("events").do().json()
    reasons = sorted((e["involvedObject"]["name"], e["reason"]) for e in events["items"])
    assert reasons == [
        ("alpha", "Reconciled"),
        ("beta", "Reconciled"),
        ("beta", "SyncFailed"),
        ("gamma", "Reconciled"),
    ]
    lease = (
        client.get()
        .group_version("coordination.k8s.io", "v1")
        .namespace("ops")
        .resource("leases")
        .name("configmap-controller")
        .do()
        .into(Lease)
    )
    assert isinstance(lease.spec, LeaseSpec) and lease.spec.holder_identity == ""
