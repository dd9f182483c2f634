"""The PostgresCluster controller of ``database_controller.py``, run under leader election.

Run several replicas: they compete for one ``coordination.k8s.io/v1`` Lease, and only the
holder runs the controller (informers, queue and workers are started when leadership is gained
and torn down when it ends). When the leader stops, it releases the Lease and another replica
takes over at its next retry; when the leader dies without releasing, the others take over once
the lease has not been renewed for ``lease_duration`` seconds. Leadership changes are recorded
as ``LeaderElection`` Events about the Lease.

Run it against a cluster with
``PYTHONPATH=generated python examples/leader_elected.py --id replica-1`` (and ``--id
replica-2`` in another terminal); tests use :class:`Replica` with a :class:`kgen.rest.Config`.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import uuid
from collections.abc import Sequence

from database_controller import (
    CONTROLLER_NAME,
    argument_parser,
    load_config,
    run,
    stop_on_signals,
)

from kgen.leaderelection import LeaderCallbacks, LeaderElectionConfig, LeaderElector, RESTLeaseLock
from kgen.record import EventBroadcaster, EventSource, RESTEventSink
from kgen.rest import Config, RESTClient
from kgen.workqueue import RateLimiter

__all__ = ["LEASE_NAME", "Replica", "main"]

LEASE_NAME = CONTROLLER_NAME
"""The Lease the replicas compete for (in ``lease_namespace``)."""

log = logging.getLogger(f"{CONTROLLER_NAME}.election")


class Replica:
    """One candidate replica: :meth:`run` blocks, leading the controller while it holds the
    Lease, until :meth:`stop` is called (from any thread) or leadership is lost.

    Durations are the elector's (15 s / 10 s / 2 s by default, as Kubernetes components use).
    ``release_on_cancel``: hand the Lease back on :meth:`stop`, so another replica takes over
    at once instead of after ``lease_duration``. ``workers``, ``namespace`` and
    ``rate_limiter`` are the controller's. :meth:`run` may be called once; every thread it
    starts has ended when it returns.
    """

    def __init__(
        self,
        config: Config,
        identity: str,
        *,
        lease_namespace: str = "default",
        lease_name: str = LEASE_NAME,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        release_on_cancel: bool = True,
        workers: int = 2,
        namespace: str = "",
        rate_limiter: RateLimiter[str] | None = None,
    ) -> None:
        self.identity = identity
        self._config = config
        self._workers = workers
        self._namespace = namespace
        self._rate_limiter = rate_limiter
        self._rest = RESTClient(config)
        self._broadcaster = EventBroadcaster()
        recorder = self._broadcaster.new_recorder(
            EventSource(component=CONTROLLER_NAME, host=identity)
        )
        self.elector = LeaderElector(
            LeaderElectionConfig(
                lock=RESTLeaseLock(
                    self._rest, lease_namespace, lease_name, identity, event_recorder=recorder
                ),
                callbacks=LeaderCallbacks(
                    on_started_leading=self._lead,
                    on_stopped_leading=self._stopped_leading,
                    on_new_leader=self._new_leader,
                ),
                lease_duration=lease_duration,
                renew_deadline=renew_deadline,
                retry_period=retry_period,
                release_on_cancel=release_on_cancel,
                name=identity,
            )
        )

    def run(self) -> None:
        """Campaign, lead while elected, return when stopped or when leadership is lost."""
        self._broadcaster.start_recording_to_sink(RESTEventSink(self._rest))
        try:
            self.elector.run()
        finally:
            self._broadcaster.shutdown()
            self._rest.close()

    def stop(self) -> None:
        """Make :meth:`run` return soon (after releasing the Lease with ``release_on_cancel``)."""
        self.elector.stop()

    def is_leader(self) -> bool:
        """Whether this replica holds the Lease (as last observed)."""
        return self.elector.is_leader()

    def _lead(self, stop: threading.Event) -> None:
        log.info("%s: became leader, starting the controller", self.identity)
        run(
            self._config,
            stop,
            workers=self._workers,
            namespace=self._namespace,
            rate_limiter=self._rate_limiter,
            identity=self.identity,
        )

    def _stopped_leading(self) -> None:
        log.info("%s: not leading (any more)", self.identity)

    def _new_leader(self, identity: str) -> None:
        if identity and identity != self.identity:
            log.info("%s: the leader is %s", self.identity, identity)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one replica against the cluster of the kubeconfig until SIGINT/SIGTERM.

    Exits 1 if the configuration cannot be loaded or leadership is lost (let the process
    supervisor restart it, as Kubernetes restarts a pod), 0 when stopped by a signal.
    """
    parser = argument_parser("Reconcile PostgresClusters; only the elected replica works.")
    parser.add_argument(
        "--id",
        default=f"{socket.gethostname()}_{uuid.uuid4()}",
        help="identity of this replica (default: hostname_<random uuid>)",
    )
    parser.add_argument("--lease-namespace", default="default", help="namespace of the Lease")
    parser.add_argument("--lease-name", default=LEASE_NAME, help="name of the Lease")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = load_config(args)
    if config is None:
        return 1
    replica = Replica(
        config,
        args.id,
        lease_namespace=args.lease_namespace,
        lease_name=args.lease_name,
        workers=args.workers,
        namespace=args.namespace,
    )
    stop = threading.Event()
    stop_on_signals(stop)
    runner = threading.Thread(target=replica.run, name="elector")
    runner.start()
    while runner.is_alive() and not stop.wait(0.5):
        pass
    replica.stop()
    runner.join()
    if not stop.is_set():
        print(f"error: {args.id} lost leadership of the Lease", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
