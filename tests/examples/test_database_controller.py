"""examples/database_controller.py against the kgen.testing API server: clusters reconciled
into owned ConfigMaps and status, events recorded, failures retried with rate limiting and
forgotten on success, owned objects restored, and a clean shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from msgspec.structs import replace

from kgen.meta import ObjectMeta
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer
from kgen.workqueue import ItemExponentialFailureRateLimiter

from .helpers import ExampleProcess, core, event_summary, eventually, new_cluster, status_of

if TYPE_CHECKING:
    from database_controller import DatabaseController
    from kgen_databases.clientset import Clientset


@contextmanager
def running(config: Config, namespace: str) -> Iterator[DatabaseController]:
    """The example controller, watching ``namespace``, running on a thread meanwhile."""
    from database_controller import controller_for

    stop = threading.Event()
    retries = ItemExponentialFailureRateLimiter[str](0.01, 0.2)  # fast, for tests
    with controller_for(config, namespace=namespace, rate_limiter=retries) as controller:
        runner = threading.Thread(target=controller.run, args=(2, stop), name="test-controller")
        runner.start()
        try:
            yield controller
        finally:
            stop.set()
            runner.join()


def configmap_data(rest: RESTClient, namespace: str, name: str) -> Any:
    items = core(rest, "get", namespace, "configmaps")["items"]
    return next((c.get("data") for c in items if c["metadata"]["name"] == name), None)


def test_clusters_become_configmaps_status_and_events(
    server: APIServer, config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    from kgen_databases.models.databases_v1 import PostgresClusterStatus

    clusters = clientset.databases_v1.postgres_clusters(namespace)
    created = clusters.create(new_cluster("orders", version="16", parameters={"work_mem": "8MB"}))
    billing = clusters.create(new_cluster("billing", version="15", replicas=3))
    # Status written by someone else (the instances' own reporting) must survive reconciling.
    clusters.update_status(replace(billing, status=PostgresClusterStatus(ready_instances=2)))

    served_before = len(server.requests)
    with running(config, namespace) as controller:
        eventually(lambda: status_of(clientset, namespace, "billing").phase, "billing synced")
        eventually(lambda: status_of(clientset, namespace, "orders"), "orders has a status")
        assert status_of(clientset, namespace, "billing") == PostgresClusterStatus(
            phase="Running",
            replicas=3,
            ready_instances=2,
            selector="databases.kgen.dev/cluster=billing",
            observed_generation=1,
        )
        configmap = core(rest, "get", namespace, "configmaps", "orders-config")
        assert configmap["data"] == {"postgresql.conf": "work_mem = '8MB'\n", "PG_MAJOR": "16"}
        assert configmap["metadata"]["labels"] == {
            "app.kubernetes.io/managed-by": "postgrescluster-controller",
            "databases.kgen.dev/cluster": "orders",
        }
        [owner] = configmap["metadata"]["ownerReferences"]
        assert created.metadata and owner["uid"] == created.metadata.uid
        assert (owner["kind"], owner["name"], owner["controller"]) == (
            "PostgresCluster",
            "orders",
            True,
        )

        # A change of spec reaches the ConfigMap and the status (a new generation).
        current = clusters.get("orders")
        assert current.spec
        current.spec.parameters = {"work_mem": "16MB", "max_connections": "200"}
        current.spec.replicas = 2
        clusters.update(current)
        eventually(
            lambda: (status_of(clientset, namespace, "orders").observed_generation == 2),
            "orders observed generation 2",
        )
        assert status_of(clientset, namespace, "orders").replicas == 2
        assert configmap_data(rest, namespace, "orders-config")["postgresql.conf"] == (
            "max_connections = '200'\nwork_mem = '16MB'\n"
        )

        # A deleted cluster needs nothing: the key is processed without failing.
        clusters.delete("billing")
        eventually(lambda: len(controller.queue) == 0, "queue drained")
        assert controller.queue.num_requeues(f"{namespace}/billing") == 0

    # The informers' lists and watches stayed in the namespace, ConfigMaps label-filtered.
    informer_reads = [
        (url.path, parse_qs(url.query))
        for url in (urlsplit(path) for method, path in server.requests[served_before:])
        if "limit=" in url.query or "watch=" in url.query
    ]
    by_resource = {path.rsplit("/", 1)[1] for path, _ in informer_reads}
    assert by_resource == {"configmaps", "postgresclusters", "storageprofiles"}
    for path, query in informer_reads:
        if path.endswith("/configmaps"):
            assert path == f"/api/v1/namespaces/{namespace}/configmaps"
            assert query["labelSelector"] == [
                "app.kubernetes.io/managed-by=postgrescluster-controller"
            ]
        elif path.endswith("/postgresclusters"):
            assert path == f"/apis/databases.kgen.dev/v1/namespaces/{namespace}/postgresclusters"

    synced = {
        (name, reason)
        for name, kind, reason, _ in event_summary(rest, namespace)
        if kind == "Normal"
    }
    assert synced == {("orders", "Synced"), ("billing", "Synced")}
    messages = sorted(
        e["message"]
        for e in core(rest, "get", namespace, "events")["items"]
        if e["involvedObject"]["name"] == "orders"
    )
    assert "updated ConfigMap orders-config (created), status" in messages


def test_missing_profile_is_retried_then_forgotten(
    config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    from kgen_databases.models import databases_v1 as m

    profile = f"{namespace}-fast"
    clusters = clientset.databases_v1.postgres_clusters(namespace)
    clusters.create(new_cluster("ledger", version="17", profile=profile))
    key = f"{namespace}/ledger"

    with running(config, namespace) as controller:
        eventually(lambda: controller.queue.num_requeues(key) >= 2, "ledger retried twice")
        warning = ("ledger", "Warning", "ProfileNotFound", "")
        eventually(lambda: warning in event_summary(rest, namespace), "ProfileNotFound recorded")
        assert not status_of(clientset, namespace, "ledger")

        clientset.databases_v1.storage_profiles().create(
            m.StorageProfile(
                metadata=ObjectMeta(name=profile), spec=m.StorageProfileSpec(provisioner="csi.fast")
            )
        )
        eventually(lambda: status_of(clientset, namespace, "ledger"), "ledger has a status")
        assert configmap_data(rest, namespace, "ledger-config")["STORAGE_PROVISIONER"] == "csi.fast"
        eventually(lambda: controller.queue.num_requeues(key) == 0, "ledger forgotten")


def test_owned_configmap_is_restored_and_a_foreign_one_left_alone(
    config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    foreign = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "taken-config"}}
    rest.post().group_version("", "v1").namespace(namespace).resource("configmaps").body(
        foreign
    ).do()
    clusters = clientset.databases_v1.postgres_clusters(namespace)
    clusters.create(new_cluster("taken", version="16"))
    clusters.create(new_cluster("kept", version="16"))

    with running(config, namespace) as controller:
        eventually(lambda: configmap_data(rest, namespace, "kept-config"), "kept-config exists")
        core(rest, "delete", namespace, "configmaps", "kept-config")
        eventually(lambda: configmap_data(rest, namespace, "kept-config"), "kept-config restored")

        configmap = core(rest, "get", namespace, "configmaps", "kept-config")
        configmap["data"] = {"PG_MAJOR": "9"}
        rest.put().group_version("", "v1").namespace(namespace).resource("configmaps").name(
            "kept-config"
        ).body(configmap).do()
        eventually(
            lambda: configmap_data(rest, namespace, "kept-config").get("PG_MAJOR") == "16",
            "kept-config data restored",
        )

        eventually(
            lambda: controller.queue.num_requeues(f"{namespace}/taken") >= 1, "taken retried"
        )
        warning = ("taken", "Warning", "ErrResourceExists", "")
        eventually(lambda: warning in event_summary(rest, namespace), "ErrResourceExists recorded")
        taken = core(rest, "get", namespace, "configmaps", "taken-config")  # left untouched
        assert "data" not in taken and "ownerReferences" not in taken["metadata"]
        assert not status_of(clientset, namespace, "taken")


def test_converges_despite_server_faults(
    server: APIServer, config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    names = [f"db{i}" for i in range(5)]
    clusters = clientset.databases_v1.postgres_clusters(namespace)
    for name in names:
        clusters.create(new_cluster(name, version="16"))
    faults = server.faults
    faults.fail(500, verb="create", resource="configmaps", times=2)
    faults.fail(503, verb="update", resource="postgresclusters", times=2)
    faults.close_watch(0, resource="postgresclusters", times=2)
    try:
        with running(config, namespace) as controller:
            eventually(
                lambda: all(status_of(clientset, namespace, n) for n in names),
                "every cluster reconciled",
            )
            assert all(configmap_data(rest, namespace, f"{name}-config") for name in names)
            eventually(
                lambda: all(controller.queue.num_requeues(f"{namespace}/{n}") == 0 for n in names),
                "every key forgotten",
            )
    finally:
        faults.clear()
    fired = {(kind, verb, resource) for kind, verb, resource in faults.fired}
    assert fired >= {
        ("status", "create", "configmaps"),
        ("status", "update", "postgresclusters"),
        ("close_watch", "watch", "postgresclusters"),
    }
    synced = {name for name, _, reason, _ in event_summary(rest, namespace) if reason == "Synced"}
    assert synced == set(names)


def test_main_runs_from_the_kubeconfig_until_sigterm(
    server: APIServer, clientset: Clientset, namespace: str, tmp_path: Path
) -> None:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    clientset.databases_v1.postgres_clusters(namespace).create(new_cluster("cli", version="14"))
    with ExampleProcess(
        "database_controller.py", "--namespace", namespace, kubeconfig=kubeconfig
    ) as example:
        eventually(lambda: status_of(clientset, namespace, "cli"), "cli has a status", timeout=60)
        code, stderr = example.stop()
        assert code == 0, stderr
        assert "Traceback" not in stderr and "workers stopped" in stderr


def test_main_reports_a_bad_kubeconfig(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from database_controller import main

    missing = tmp_path / "nowhere" / "kubeconfig"
    assert main(["--kubeconfig", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot load the cluster configuration") and str(missing) in err

    with pytest.raises(SystemExit) as exited:
        main(["--workers", "0"])
    assert exited.value.code == 2
    assert "--workers: must be at least 1, got 0" in capsys.readouterr().err
