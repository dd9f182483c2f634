"""examples/leader_elected.py against the kgen.testing API server: of two replicas only the
Lease holder reconciles, and the other takes over when the leader stops, whether it releases
the Lease or just disappears."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kgen.leaderelection import LeaseSpec
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer
from kgen.workqueue import ItemExponentialFailureRateLimiter

from . import helpers
from .helpers import (
    WAIT,
    ExampleProcess,
    event_summary,
    events,
    eventually,
    informer_lists,
    new_cluster,
    status_of,
)

if TYPE_CHECKING:
    from kgen_databases.clientset import Clientset
    from leader_elected import Replica

LEASE = "pg-controller"


class Replicas:
    """Replicas of the example, each run on its own thread; all stopped at the end."""

    def __init__(self, config: Config, namespace: str, release_on_cancel: bool) -> None:
        self.config = config
        self.namespace = namespace
        self.release_on_cancel = release_on_cancel
        self.threads: dict[str, tuple[Replica, threading.Thread]] = {}

    def start(self, identity: str) -> Replica:
        from leader_elected import Replica

        replica = Replica(
            self.config,
            identity,
            lease_namespace=self.namespace,
            lease_name=LEASE,
            # Short, valid timings (lease > renew deadline > 1.2 x retry period).
            lease_duration=3.0,
            renew_deadline=2.0,
            retry_period=0.2,
            release_on_cancel=self.release_on_cancel,
            namespace=self.namespace,
            rate_limiter=ItemExponentialFailureRateLimiter[str](0.01, 0.2),
        )
        thread = threading.Thread(target=replica.run, name=f"replica-{identity}")
        thread.start()
        self.threads[identity] = (replica, thread)
        return replica

    def stop(self, identity: str) -> None:
        replica, thread = self.threads.pop(identity)
        replica.stop()
        thread.join()

    def stop_all(self) -> None:
        for identity in list(self.threads):
            self.stop(identity)


def lease(rest: RESTClient, namespace: str, name: str = LEASE) -> LeaseSpec:
    return helpers.lease(rest, namespace, name)


@pytest.mark.parametrize("release_on_cancel", [True, False], ids=["released", "expired"])
def test_only_the_leader_reconciles_and_the_other_takes_over(
    server: APIServer,
    config: Config,
    clientset: Clientset,
    rest: RESTClient,
    namespace: str,
    release_on_cancel: bool,
) -> None:
    clusters = clientset.databases_v1.postgres_clusters(namespace)
    with ExitStack() as cleanup:
        replicas = Replicas(config, namespace, release_on_cancel)
        cleanup.callback(replicas.stop_all)

        first = replicas.start("replica-1")
        eventually(first.is_leader, "replica-1 leads")
        second = replicas.start("replica-2")
        eventually(lambda: second.elector.get_leader() == "replica-1", "replica-2 sees replica-1")

        clusters.create(new_cluster("alpha", version="16"))
        eventually(lambda: status_of(clientset, namespace, "alpha"), "alpha reconciled")
        assert not second.is_leader()
        # Only the leader's informers run: one list of the namespace's clusters so far.
        assert informer_lists(server, namespace) == 1

        replicas.stop("replica-1")
        eventually(second.is_leader, "replica-2 takes over")
        clusters.create(new_cluster("beta", version="16"))
        eventually(lambda: status_of(clientset, namespace, "beta"), "beta reconciled")
        assert informer_lists(server, namespace) == 2

        spec = lease(rest, namespace)
        assert (spec.holder_identity, spec.lease_transitions) == ("replica-2", 1)
        replicas.stop("replica-2")

    # Every write was made by the replica leading at the time: alpha by replica-1, beta by
    # replica-2 (which found alpha already in its desired state when it took over).
    summary = event_summary(rest, namespace)
    assert {e for e in summary if e[2] == "Synced"} == {
        ("alpha", "Normal", "Synced", "replica-1"),
        ("beta", "Normal", "Synced", "replica-2"),
    }
    leadership = {  # (whether "stopped leading" is also recorded on a clean stop is not asserted)
        (e["involvedObject"]["kind"], e["message"])
        for e in events(rest, namespace)
        if e["reason"] == "LeaderElection" and e["message"].endswith("became leader")
    }
    assert leadership == {
        ("Lease", "replica-1 became leader"),
        ("Lease", "replica-2 became leader"),
    }
    holder = lease(rest, namespace).holder_identity
    assert holder == ("" if release_on_cancel else "replica-2")


def test_a_leader_that_cannot_renew_stops_its_controller(
    server: APIServer, config: Config, clientset: Clientset, rest: RESTClient, namespace: str
) -> None:
    clusters = clientset.databases_v1.postgres_clusters(namespace)
    replicas = Replicas(config, namespace, release_on_cancel=True)
    try:
        leader = replicas.start("replica-1")
        eventually(leader.is_leader, "replica-1 leads")
        clusters.create(new_cluster("early", version="16"))
        eventually(lambda: status_of(clientset, namespace, "early"), "early reconciled")

        server.faults.fail(500, verb="update", resource="leases", times=None)
        _, runner = replicas.threads["replica-1"]
        runner.join(timeout=WAIT)
        # Leadership lost: run() returned by itself, the controller and its threads are gone.
        assert not runner.is_alive()
    finally:
        server.faults.clear()
        replicas.stop_all()
    messages = {e["message"] for e in events(rest, namespace) if e["reason"] == "LeaderElection"}
    assert messages == {"replica-1 became leader", "replica-1 stopped leading"}


def test_main_leads_from_the_kubeconfig_and_releases_on_sigterm(
    server: APIServer, clientset: Clientset, rest: RESTClient, namespace: str, tmp_path: Path
) -> None:
    from leader_elected import LEASE_NAME

    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    clientset.databases_v1.postgres_clusters(namespace).create(new_cluster("solo", version="16"))
    options = ["--id", "cli-replica", "--namespace", namespace, "--lease-namespace", namespace]
    with ExampleProcess("leader_elected.py", *options, kubeconfig=kubeconfig) as example:
        eventually(lambda: status_of(clientset, namespace, "solo"), "solo reconciled", timeout=60)
        assert lease(rest, namespace, LEASE_NAME).holder_identity == "cli-replica"
        code, stderr = example.stop()
        assert code == 0, stderr
        assert "Traceback" not in stderr
        assert lease(rest, namespace, LEASE_NAME).holder_identity == ""  # released on the way out


def test_main_reports_a_bad_kubeconfig(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from leader_elected import main

    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n")
    assert main(["--kubeconfig", str(broken), "--id", "r"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot load the cluster configuration") and "nowhere" in err
