"""examples/async_database_controller.py against the kgen.testing API server: clusters
reconciled into owned ConfigMaps and status on asyncio, failures retried with rate limiting and
forgotten, convergence through server faults, leader election between two replicas (a killed
leader replaced), and ``main()`` stopped by SIGTERM. Every test's coroutine runs in asyncio
debug mode and fails on tasks left pending and on ResourceWarnings (``tests/aio_helpers.run``).
The test's own reads and writes use the sync clients, from a thread (``asyncio.to_thread``), so
that the loop keeps running the controller meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from msgspec.structs import replace

from kgen.leaderelection import LeaseSpec
from kgen.meta import ObjectMeta
from kgen.rest import Config, RESTClient, StatusError
from kgen.testing import APIServer
from kgen.workqueue import ItemExponentialFailureRateLimiter
from tests.aio_helpers import run

from . import helpers
from .helpers import (
    ExampleProcess,
    core,
    event_summary,
    events,
    informer_lists,
    new_cluster,
    status_of,
)

if TYPE_CHECKING:
    from async_database_controller import AsyncDatabaseController, AsyncReplica
    from kgen_databases.clientset import Clientset

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

T = TypeVar("T")
LEASE = "pg-controller"


async def eventually(check: Callable[[], T], what: str, timeout: float = helpers.WAIT) -> T:
    """:func:`helpers.eventually` on a thread: the loop keeps running meanwhile."""
    return await asyncio.to_thread(helpers.eventually, check, what, timeout)


def fast_retries() -> ItemExponentialFailureRateLimiter[str]:
    return ItemExponentialFailureRateLimiter[str](0.01, 0.2)


@contextlib.asynccontextmanager
async def running(config: Config, namespace: str) -> AsyncIterator[AsyncDatabaseController]:
    """The example's controller (no election) watching ``namespace``, run as a task of the
    test's loop; cancelled and awaited on leaving, recorded events flushed."""
    from async_database_controller import run_controller
    from database_controller import CONTROLLER_NAME
    from kgen_databases.aio import AsyncClientset

    from kgen.record import EventSource
    from kgen.record.aio import AsyncEventBroadcaster, AsyncRESTEventSink

    async with AsyncClientset(config) as clientset, AsyncEventBroadcaster() as broadcaster:
        broadcaster.start_recording_to_sink(AsyncRESTEventSink(clientset.rest_client))
        recorder = broadcaster.new_recorder(EventSource(component=CONTROLLER_NAME))
        started: asyncio.Future[AsyncDatabaseController] = (
            asyncio.get_running_loop().create_future()
        )
        task = asyncio.create_task(
            run_controller(
                clientset,
                recorder,
                namespace=namespace,
                rate_limiter=fast_retries(),
                started=started,
            )
        )
        try:
            waited: list[asyncio.Future[Any]] = [started, task]
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()  # raises what ended it
            yield started.result()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            assert task.cancelled()


def configmap_data(rest: RESTClient, namespace: str, name: str) -> Any:
    items = core(rest, "get", namespace, "configmaps")["items"]
    return next((c.get("data") for c in items if c["metadata"]["name"] == name), None)


def synced_names(rest: RESTClient, namespace: str) -> set[str]:
    """The names of the objects of ``namespace`` with a ``Synced`` event."""
    return {name for name, _, reason, _ in event_summary(rest, namespace) if reason == "Synced"}


def lease(rest: RESTClient, namespace: str, name: str = LEASE) -> LeaseSpec:
    return helpers.lease(rest, namespace, name)


def test_clusters_are_created_updated_and_deleted_into_configmaps_and_status(
    config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    from kgen_databases.models.databases_v1 import PostgresClusterStatus

    clusters = clientset.databases_v1.postgres_clusters(namespace)
    created = clusters.create(new_cluster("orders", version="16", parameters={"work_mem": "8MB"}))
    billing = clusters.create(new_cluster("billing", version="15", replicas=3))
    clusters.update_status(replace(billing, status=PostgresClusterStatus(ready_instances=2)))

    async def scenario() -> None:
        async with running(config, namespace) as controller:
            await eventually(
                lambda: status_of(clientset, namespace, "billing").phase, "billing synced"
            )
            await eventually(lambda: status_of(clientset, namespace, "orders"), "orders synced")
            assert status_of(clientset, namespace, "billing") == PostgresClusterStatus(
                phase="Running",
                replicas=3,
                ready_instances=2,
                selector="databases.kgen.dev/cluster=billing",
                observed_generation=1,
            )
            configmap = core(rest, "get", namespace, "configmaps", "orders-config")
            assert configmap["data"] == {
                "postgresql.conf": "work_mem = '8MB'\n",
                "PG_MAJOR": "16",
            }
            [owner] = configmap["metadata"]["ownerReferences"]
            assert created.metadata and owner["uid"] == created.metadata.uid
            assert (owner["kind"], owner["controller"]) == ("PostgresCluster", True)

            # An update of the spec reaches the ConfigMap and the status.
            def update() -> None:
                current = clusters.get("orders")
                assert current.spec
                current.spec.parameters = {"work_mem": "16MB", "max_connections": "200"}
                current.spec.replicas = 2
                clusters.update(current)

            await asyncio.to_thread(update)
            await eventually(
                lambda: status_of(clientset, namespace, "orders").observed_generation == 2,
                "orders observed generation 2",
            )
            assert status_of(clientset, namespace, "orders").replicas == 2
            assert configmap_data(rest, namespace, "orders-config")["postgresql.conf"] == (
                "max_connections = '200'\nwork_mem = '16MB'\n"
            )
            await eventually(
                lambda: "updated ConfigMap orders-config, status"
                in {e["message"] for e in events(rest, namespace)},
                "the update recorded",
            )

            # An owned ConfigMap deleted by someone is restored.
            await asyncio.to_thread(core, rest, "delete", namespace, "configmaps", "orders-config")
            await eventually(
                lambda: configmap_data(rest, namespace, "orders-config"), "orders-config restored"
            )

            # A deleted cluster needs nothing: its key is processed without failing.
            await asyncio.to_thread(clusters.delete, "billing")
            await asyncio.sleep(0.5)
            assert controller.queue.num_requeues(f"{namespace}/billing") == 0
            assert len(controller.queue) == 0

    run(scenario)
    synced = {(n, r) for n, kind, r, _ in event_summary(rest, namespace) if kind == "Normal"}
    assert synced == {("orders", "Synced"), ("billing", "Synced")}
    messages = {e["message"] for e in events(rest, namespace)}
    assert "updated ConfigMap orders-config (created), status" in messages
    assert "updated ConfigMap orders-config, status" in messages


def test_a_missing_profile_is_retried_then_forgotten(
    config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    from kgen_databases.models import databases_v1 as m

    profile = f"{namespace}-fast"
    clientset.databases_v1.postgres_clusters(namespace).create(
        new_cluster("ledger", version="17", profile=profile)
    )
    key = f"{namespace}/ledger"

    async def scenario() -> None:
        async with running(config, namespace) as controller:
            await eventually(lambda: controller.queue.num_requeues(key) >= 2, "ledger retried")
            warning = ("ledger", "Warning", "ProfileNotFound", "")
            await eventually(
                lambda: warning in event_summary(rest, namespace), "ProfileNotFound recorded"
            )
            assert not status_of(clientset, namespace, "ledger")
            await asyncio.to_thread(
                clientset.databases_v1.storage_profiles().create,
                m.StorageProfile(
                    metadata=ObjectMeta(name=profile),
                    spec=m.StorageProfileSpec(provisioner="csi.fast"),
                ),
            )
            await eventually(lambda: status_of(clientset, namespace, "ledger"), "ledger synced")
            data = configmap_data(rest, namespace, "ledger-config")
            assert data["STORAGE_PROVISIONER"] == "csi.fast"
            await eventually(lambda: controller.queue.num_requeues(key) == 0, "ledger forgotten")

    run(scenario)


def test_converges_despite_server_errors_and_cut_watches(
    server: APIServer, config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    names = [f"db{i}" for i in range(5)]
    clusters = clientset.databases_v1.postgres_clusters(namespace)
    for name in names:
        clusters.create(new_cluster(name, version="16"))
    faults = server.faults
    faults.fail(500, verb="create", resource="configmaps", times=2)
    faults.fail(429, retry_after=0, verb="update", resource="postgresclusters", times=3)
    faults.fail(500, verb="list", resource="configmaps", times=1)
    faults.close_watch(0, resource="postgresclusters", times=2)
    faults.close_watch(0, resource="configmaps", times=2)

    async def scenario() -> None:
        async with running(config, namespace) as controller:
            await eventually(
                lambda: all(status_of(clientset, namespace, n) for n in names),
                "every cluster reconciled",
            )
            assert all(configmap_data(rest, namespace, f"{n}-config") for n in names)
            await eventually(
                lambda: all(controller.queue.num_requeues(f"{namespace}/{n}") == 0 for n in names),
                "every key forgotten",
            )
            # The watches were cut; a change made now still arrives through the new ones.
            await asyncio.to_thread(clusters.create, new_cluster("late", version="16"))
            await eventually(lambda: status_of(clientset, namespace, "late"), "late reconciled")
            # (the event follows the status write: wait for it before cancelling the workers)
            await eventually(lambda: synced_names(rest, namespace) >= {"late"}, "late Synced")

    try:
        run(scenario)
    finally:
        faults.clear()
    fired = set(faults.fired)
    assert fired >= {
        ("status", "create", "configmaps"),
        ("status", "update", "postgresclusters"),
        ("status", "list", "configmaps"),
        ("close_watch", "watch", "postgresclusters"),
        ("close_watch", "watch", "configmaps"),
    }
    assert synced_names(rest, namespace) == {*names, "late"}


def new_replica(config: Config, namespace: str, identity: str) -> AsyncReplica:
    from async_database_controller import AsyncReplica

    return AsyncReplica(
        config,
        identity,
        lease_namespace=namespace,
        lease_name=LEASE,
        lease_duration=3.0,  # short, valid timings (lease > renew deadline > 1.2 x retry)
        renew_deadline=2.0,
        retry_period=0.2,
        release_on_cancel=True,
        namespace=namespace,
        rate_limiter=fast_retries(),
    )


def test_only_the_leader_reconciles_and_a_killed_leader_is_replaced(
    server: APIServer, config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    clusters = clientset.databases_v1.postgres_clusters(namespace)

    async def scenario() -> None:
        first = new_replica(config, namespace, "replica-1")
        second = new_replica(config, namespace, "replica-2")
        first_task = asyncio.create_task(first.run())
        second_task: asyncio.Task[None] | None = None
        try:
            await eventually(first.is_leader, "replica-1 leads")
            second_task = asyncio.create_task(second.run())
            await eventually(
                lambda: second.elector.get_leader() == "replica-1", "replica-2 sees replica-1"
            )
            await asyncio.to_thread(clusters.create, new_cluster("alpha", version="16"))
            await eventually(lambda: status_of(clientset, namespace, "alpha"), "alpha reconciled")
            await eventually(lambda: "alpha" in synced_names(rest, namespace), "alpha Synced")
            assert not second.is_leader() and second.controller is None
            assert first.controller is not None
            # Only the leader's informers run: one list of the namespace's clusters so far.
            assert informer_lists(server, namespace) == 1

            first_task.cancel()  # the leader is killed
            with contextlib.suppress(asyncio.CancelledError):
                await first_task
            assert first.controller is None and not first.is_leader()
            await eventually(second.is_leader, "replica-2 takes over")
            await asyncio.to_thread(clusters.create, new_cluster("beta", version="16"))
            await eventually(lambda: status_of(clientset, namespace, "beta"), "beta reconciled")
            await eventually(lambda: "beta" in synced_names(rest, namespace), "beta Synced")
            assert informer_lists(server, namespace) == 2
            spec = lease(rest, namespace)
            assert (spec.holder_identity, spec.lease_transitions) == ("replica-2", 1)
        finally:
            first_task.cancel()
            second.stop()
            await asyncio.gather(
                first_task, *([second_task] if second_task else []), return_exceptions=True
            )

    run(scenario)
    summary = event_summary(rest, namespace)
    assert {e for e in summary if e[2] == "Synced"} == {
        ("alpha", "Normal", "Synced", "replica-1"),
        ("beta", "Normal", "Synced", "replica-2"),
    }
    leadership = {
        e["message"]
        for e in events(rest, namespace)
        if e["reason"] == "LeaderElection" and e["message"].endswith("became leader")
    }
    assert leadership == {"replica-1 became leader", "replica-2 became leader"}
    assert lease(rest, namespace).holder_identity == ""  # released by the stopped replica-2


def test_a_leader_that_cannot_renew_stops_its_controller(
    server: APIServer, config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    clusters = clientset.databases_v1.postgres_clusters(namespace)

    async def scenario() -> None:
        leader = new_replica(config, namespace, "replica-1")
        task = asyncio.create_task(leader.run())
        try:
            await eventually(leader.is_leader, "replica-1 leads")
            await asyncio.to_thread(clusters.create, new_cluster("early", version="16"))
            await eventually(lambda: status_of(clientset, namespace, "early"), "early reconciled")
            server.faults.fail(500, verb="update", resource="leases", times=None)
            # Leadership lost: run() returns by itself, the controller's tasks are gone.
            await asyncio.wait_for(task, helpers.WAIT)
            assert leader.controller is None
        finally:
            server.faults.clear()
            leader.stop()
            await asyncio.gather(task, return_exceptions=True)

    run(scenario)
    messages = {e["message"] for e in events(rest, namespace) if e["reason"] == "LeaderElection"}
    assert messages == {"replica-1 became leader", "replica-1 stopped leading"}


def test_main_leads_from_the_kubeconfig_and_releases_on_sigterm(
    server: APIServer, clientset: Clientset, rest: RESTClient, namespace: str, tmp_path: Path
) -> None:
    from async_database_controller import LEASE_NAME

    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    clientset.databases_v1.postgres_clusters(namespace).create(new_cluster("solo", version="16"))
    options = ["--id", "cli-async", "--namespace", namespace, "--lease-namespace", namespace]
    with ExampleProcess("async_database_controller.py", *options, kubeconfig=kubeconfig) as example:
        helpers.eventually(
            lambda: status_of(clientset, namespace, "solo"), "solo reconciled", timeout=60
        )
        assert lease(rest, namespace, LEASE_NAME).holder_identity == "cli-async"
        code, stderr = example.stop()
        assert code == 0, stderr
        assert "Traceback" not in stderr and "workers stopped" in stderr
        assert lease(rest, namespace, LEASE_NAME).holder_identity == ""  # released on the way out
    assert ("solo", "Normal", "Synced", "cli-async") in event_summary(rest, namespace)


def test_main_exits_1_when_leadership_is_lost(
    server: APIServer, rest: RESTClient, namespace: str, tmp_path: Path
) -> None:
    from async_database_controller import LEASE_NAME

    def holder() -> str:
        try:
            return str(lease(rest, namespace, LEASE_NAME).holder_identity or "")
        except StatusError:
            return ""  # no Lease yet

    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    options = ["--id", "cli-lost", "--namespace", namespace, "--lease-namespace", namespace]
    options += ["--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.2"]
    try:
        with ExampleProcess(
            "async_database_controller.py", *options, kubeconfig=kubeconfig
        ) as example:
            helpers.eventually(lambda: holder() == "cli-lost", "cli-lost leads", timeout=60)
            server.faults.fail(500, verb="update", resource="leases", times=None)
            code, stderr = example.wait(timeout=60)
    finally:
        server.faults.clear()
    assert code == 1, stderr
    assert "error: cli-lost lost leadership of the Lease" in stderr and "Traceback" not in stderr


def test_main_reports_a_bad_kubeconfig_and_bad_timings(
    server: APIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from async_database_controller import main

    missing = tmp_path / "nowhere" / "kubeconfig"
    assert main(["--kubeconfig", str(missing), "--id", "r"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot load the cluster configuration") and str(missing) in err

    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    with pytest.raises(SystemExit) as exited:
        main(["--kubeconfig", str(kubeconfig), "--id", "r", "--renew-deadline", "20"])
    assert exited.value.code == 2
    assert "lease_duration (15.0 s) must be greater than renew_deadline" in capsys.readouterr().err
