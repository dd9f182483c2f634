"""The PostgresCluster controller of ``database_controller.py`` on asyncio, under leader election.

It does what the thread controller does (for every PostgresCluster a ConfigMap
``<name>-config`` owned by the cluster, and the cluster's status subresource; Events about what
it did), with the same rules (the functions of ``database_controller``), and the leader
election of ``leader_elected.py``, all in one event loop:

* informers from an :class:`~kgen.cache.aio.AsyncSharedInformerFactory` over the generated
  :class:`kgen_databases.aio.AsyncClientset`: PostgresClusters and StorageProfiles listed and
  watched through the async typed clients, the owned ConfigMaps through the async dynamic
  client, each wrapped by :meth:`~kgen.cache.aio.AsyncListWatch.from_client`;
* plain event handlers that only enqueue ``namespace/name`` keys in an
  :class:`~kgen.workqueue.aio.AsyncRateLimitingQueue`;
* ``workers`` worker tasks that reconcile a key (reading the cluster from the cache, writing
  through the async clients), then ``forget`` it on success or ``add_rate_limited`` it on error;
* an :class:`~kgen.leaderelection.aio.AsyncLeaderElector` on a ``coordination.k8s.io/v1`` Lease:
  only the holder runs the informers, queue and workers (started when leadership is gained,
  cancelled and awaited when it ends);
* an :class:`~kgen.record.aio.AsyncEventBroadcaster` writing the Events (the controller's and
  the election's) through the API.

Run it with ``PYTHONPATH=generated python examples/async_database_controller.py --id replica-1``
(and ``--id replica-2`` elsewhere). SIGTERM or SIGINT stops it cleanly: the controller's tasks are
cancelled and awaited, the Lease released, queued Events written, connections closed; exit
status 0. It exits 1 when the configuration cannot be loaded or leadership is lost. Tests use
:class:`AsyncReplica` and :func:`run_controller` with a :class:`kgen.rest.Config`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import msgspec
from database_controller import (
    CONFIGMAPS,
    CONTROLLER_NAME,
    OWNED_SELECTOR,
    ReconcileError,
    argument_parser,
    configmap_name,
    controlled_by,
    desired_data,
    desired_status,
    load_config,
    new_configmap,
    owner_keys,
)
from kgen_databases.aio import AsyncClientset
from kgen_databases.listers.databases_v1 import PostgresClusterLister, StorageProfileLister
from kgen_databases.models.databases_v1 import PostgresCluster, PostgresClusterSpec, StorageProfile

from kgen.cache import (
    NAMESPACE_INDEX,
    ResourceEventHandlerFuncs,
    ResourceEventHandlerRegistration,
    deletion_handling_meta_namespace_key,
    meta_namespace_index_func,
    meta_namespace_key,
    split_meta_namespace_key,
)
from kgen.cache.aio import (
    AsyncListWatch,
    AsyncSharedIndexInformer,
    AsyncSharedInformerFactory,
    wait_for_cache_sync,
)
from kgen.dynamic.aio import AsyncDynamicClient
from kgen.leaderelection.aio import (
    AsyncLeaderCallbacks,
    AsyncLeaderElectionConfig,
    AsyncLeaderElector,
    AsyncRESTLeaseLock,
)
from kgen.meta import UNSET, ObjectMeta
from kgen.record import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING, EventRecorder, EventSource
from kgen.record.aio import AsyncEventBroadcaster, AsyncRESTEventSink
from kgen.rest import Config, ListOptions, StatusError, is_not_found
from kgen.workqueue import QueueShutDown, RateLimiter, default_controller_rate_limiter
from kgen.workqueue.aio import AsyncRateLimitingQueue

__all__ = ["LEASE_NAME", "AsyncDatabaseController", "AsyncReplica", "main", "run_controller"]

LEASE_NAME = CONTROLLER_NAME
"""The Lease the replicas compete for (in ``lease_namespace``)."""

log = logging.getLogger(f"{CONTROLLER_NAME}.async")


class AsyncDatabaseController:
    """Reconciles PostgresClusters with worker tasks; see the module docstring.

    Construction asks ``factory`` for the three informers and registers the event handlers;
    the caller starts the factory, then awaits :meth:`run`. Everything runs on one event loop:
    handlers only enqueue keys, every API write is awaited by a worker task. Objects read from
    the listers are the cache's shared objects: never mutated (changed copies are built with
    ``msgspec.structs.replace``). ``queue`` may be read by the loop's tasks (tests do).
    """

    def __init__(
        self,
        clientset: AsyncClientset,
        factory: AsyncSharedInformerFactory,
        recorder: EventRecorder,
        *,
        rate_limiter: RateLimiter[str] | None = None,
    ) -> None:
        self._clientset = clientset
        self._recorder = recorder
        self._configmaps = AsyncDynamicClient(clientset.rest_client).resource(CONFIGMAPS)
        self.queue: AsyncRateLimitingQueue[str] = AsyncRateLimitingQueue(
            rate_limiter if rate_limiter is not None else default_controller_rate_limiter()
        )
        namespace = factory.namespace
        clusters = factory.informer_for(
            "postgresclusters", lambda cs, resync: _cluster_informer(cs, namespace, resync)
        )
        profiles = factory.informer_for("storageprofiles", _profile_informer)
        owned = factory.informer_for(
            (CONFIGMAPS, OWNED_SELECTOR), lambda cs, resync: _owned_informer(cs, namespace, resync)
        )
        self._clusters = PostgresClusterLister(clusters.get_indexer())
        self._profiles = StorageProfileLister(profiles.get_indexer())
        self._registrations: list[ResourceEventHandlerRegistration] = [
            clusters.add_event_handler(
                ResourceEventHandlerFuncs(
                    add_func=self._enqueue,
                    update_func=lambda old, new: self._enqueue(new),
                    delete_func=self._enqueue_deleted,
                )
            ),
            owned.add_event_handler(
                ResourceEventHandlerFuncs(
                    add_func=self._enqueue_owner,
                    update_func=lambda old, new: self._enqueue_owner(new),
                    delete_func=self._enqueue_owner,
                )
            ),
        ]
        self._profiles_synced = profiles.has_synced

    # -- event handlers: plain functions on the loop, enqueue only -----------------------------

    def _enqueue(self, cluster: Any) -> None:
        self.queue.add(meta_namespace_key(cluster))

    def _enqueue_deleted(self, cluster: Any) -> None:
        self.queue.add(deletion_handling_meta_namespace_key(cluster))

    def _enqueue_owner(self, configmap: Any) -> None:
        for key in owner_keys(configmap):
            self.queue.add(key)

    # -- workers -------------------------------------------------------------------------------

    async def run(self, workers: int) -> None:
        """Wait for the caches to sync, then run ``workers`` worker tasks until cancelled.
        On the way out (a cancellation) the workers are cancelled, a reconcile in progress
        with them, and awaited, and the queue is shut down: no write after return. Call once."""
        synced = [r.has_synced for r in self._registrations] + [self._profiles_synced]
        tasks: list[asyncio.Task[None]] = []
        try:
            await wait_for_cache_sync(*synced)
            tasks = [
                asyncio.create_task(self._worker(), name=f"{CONTROLLER_NAME}-worker-{i}")
                for i in range(workers)
            ]
            log.info("started %d workers", workers)
            await asyncio.gather(*tasks)  # the workers return only once the queue shuts down
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.queue.shut_down()
            log.info("workers stopped")

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except QueueShutDown:
                return
            try:
                await self._process(key)
            finally:
                self.queue.done(key)

    async def _process(self, key: str) -> None:
        """Sync ``key``; forget its failures on success, retry it rate-limited on error."""
        try:
            await self.sync(key)
        except Exception as err:
            retries = self.queue.num_requeues(key)
            log.warning("syncing %s failed (retry %d): %s", key, retries, err)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)

    # -- reconcile -----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """Bring the cluster under ``key`` (``namespace/name``) to its desired state; raises on
        failure. A cluster gone from the cache needs nothing (its ConfigMap is garbage
        collected through its owner reference)."""
        namespace, name = split_meta_namespace_key(key)
        try:
            cluster = self._clusters.namespace(namespace).get(name)
        except StatusError as err:
            if is_not_found(err):
                log.info("%s is gone", key)
                return
            raise
        meta, spec = cluster.metadata, cluster.spec
        if not isinstance(meta, ObjectMeta) or not isinstance(spec, PostgresClusterSpec):
            self._recorder.event(cluster, EVENT_TYPE_WARNING, "InvalidSpec", "spec is missing")
            return
        data = desired_data(cluster, spec, self._profiles, self._recorder)
        changes = await self._sync_configmap(cluster, meta, data)
        if await self._sync_status(cluster, meta, spec):
            changes.append("status")
        if changes:
            self._recorder.eventf(
                cluster, EVENT_TYPE_NORMAL, "Synced", "updated %s", ", ".join(changes)
            )

    async def _sync_configmap(
        self, cluster: PostgresCluster, meta: ObjectMeta, data: dict[str, str]
    ) -> list[str]:
        """Create or update the owned ConfigMap; the changes made (none or one)."""
        name = configmap_name(str(meta.name))
        client = self._configmaps.namespace(str(meta.namespace))
        try:
            existing = await client.get(name)
        except StatusError as err:
            if not is_not_found(err):
                raise
            await client.create(new_configmap(cluster, meta, name, data))
            return [f"ConfigMap {name} (created)"]
        if not controlled_by(existing, str(meta.uid)):
            message = f"ConfigMap {name} exists and is not managed by this PostgresCluster"
            self._recorder.event(cluster, EVENT_TYPE_WARNING, "ErrResourceExists", message)
            raise ReconcileError(message)
        if existing.get("data") == data:
            return []
        existing["data"] = data
        await client.update(existing)
        return [f"ConfigMap {name}"]

    async def _sync_status(
        self, cluster: PostgresCluster, meta: ObjectMeta, spec: PostgresClusterSpec
    ) -> bool:
        """Write the status subresource if the fields this controller owns differ."""
        desired = desired_status(cluster, meta, spec)
        if cluster.status == desired:
            return False
        clusters = self._clientset.databases_v1.postgres_clusters(str(meta.namespace))
        await clusters.update_status(msgspec.structs.replace(cluster, status=desired))
        return True


def _cluster_informer(
    clientset: AsyncClientset, namespace: str, resync: float
) -> AsyncSharedIndexInformer[PostgresCluster]:
    client = clientset.databases_v1.postgres_clusters(namespace)
    return AsyncSharedIndexInformer(
        AsyncListWatch.from_client(client),
        PostgresCluster,
        resync,
        {NAMESPACE_INDEX: meta_namespace_index_func},
        name="postgresclusters",
    )


def _profile_informer(
    clientset: AsyncClientset, resync: float
) -> AsyncSharedIndexInformer[StorageProfile]:
    client = clientset.databases_v1.storage_profiles()
    return AsyncSharedIndexInformer(
        AsyncListWatch.from_client(client), StorageProfile, resync, name="storageprofiles"
    )


def _owned_informer(
    clientset: AsyncClientset, namespace: str, resync: float
) -> AsyncSharedIndexInformer[Any]:
    """The ConfigMaps this controller manages in ``namespace`` (``""``: all), as dicts."""
    client = AsyncDynamicClient(clientset.rest_client).resource(CONFIGMAPS).namespace(namespace)

    def owned(options: ListOptions) -> ListOptions:
        return replace(options, label_selector=OWNED_SELECTOR)

    return AsyncSharedIndexInformer(
        AsyncListWatch.from_client(client, owned),
        dict,
        resync,
        {NAMESPACE_INDEX: meta_namespace_index_func},
        name="owned-configmaps",
    )


async def run_controller(
    clientset: AsyncClientset,
    recorder: EventRecorder,
    *,
    workers: int = 2,
    namespace: str = "",
    rate_limiter: RateLimiter[str] | None = None,
    started: asyncio.Future[AsyncDatabaseController] | None = None,
) -> None:
    """Run a controller until cancelled: informers (``namespace``: ``""`` for all) and workers;
    every task it started has ended when the cancellation propagates. ``started`` (if given)
    receives the controller once its informers are started."""
    async with AsyncSharedInformerFactory(clientset, namespace=namespace) as factory:
        controller = AsyncDatabaseController(
            clientset, factory, recorder, rate_limiter=rate_limiter
        )
        factory.start()
        if started is not None and not started.done():
            started.set_result(controller)
        await controller.run(workers)


class AsyncReplica:
    """One candidate replica: :meth:`run` leads the controller while it holds the Lease, until
    :meth:`stop` is called (from any task), the task awaiting it is cancelled, or leadership is
    lost. Durations are the elector's (15 s / 10 s / 2 s by default). ``release_on_cancel``:
    hand the Lease back when stopped or cancelled. :meth:`run` may be awaited once; it opens
    the connections and closes them, and every task it started has ended on return.
    ``controller`` is the running controller while leading (None otherwise)."""

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
        self.controller: AsyncDatabaseController | None = None
        self._workers = workers
        self._namespace = namespace
        self._rate_limiter = rate_limiter
        self._clientset = AsyncClientset(config)  # opens nothing before the first request
        self._broadcaster = AsyncEventBroadcaster()
        self._recorder = self._broadcaster.new_recorder(
            EventSource(component=CONTROLLER_NAME, host=identity or UNSET)
        )
        self.elector = AsyncLeaderElector(
            AsyncLeaderElectionConfig(
                lock=AsyncRESTLeaseLock(
                    self._clientset.rest_client,
                    lease_namespace,
                    lease_name,
                    identity,
                    event_recorder=self._recorder,
                ),
                callbacks=AsyncLeaderCallbacks(
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

    async def run(self) -> None:
        """Campaign, lead while elected; return when stopped or when leadership is lost."""
        async with self._clientset, self._broadcaster:
            self._broadcaster.start_recording_to_sink(
                AsyncRESTEventSink(self._clientset.rest_client)
            )
            await self.elector.run()

    def stop(self) -> None:
        """Make :meth:`run` return soon (after releasing the Lease with ``release_on_cancel``)."""
        self.elector.stop()

    def is_leader(self) -> bool:
        """Whether this replica holds the Lease (as last observed)."""
        return self.elector.is_leader()

    async def _lead(self) -> None:
        log.info("%s: became leader, starting the controller", self.identity)
        started: asyncio.Future[AsyncDatabaseController] = (
            asyncio.get_running_loop().create_future()
        )
        started.add_done_callback(self._started)
        try:
            await run_controller(
                self._clientset,
                self._recorder,
                workers=self._workers,
                namespace=self._namespace,
                rate_limiter=self._rate_limiter,
                started=started,
            )
        finally:
            self.controller = None
            started.cancel()

    def _started(self, started: asyncio.Future[AsyncDatabaseController]) -> None:
        if not started.cancelled():
            self.controller = started.result()

    def _stopped_leading(self) -> None:
        log.info("%s: not leading (any more)", self.identity)

    def _new_leader(self, identity: str) -> None:
        if identity and identity != self.identity:
            log.info("%s: the leader is %s", self.identity, identity)


_DURATIONS = (
    ("--lease-duration", 15.0, "seconds a Lease not renewed stays taken"),
    ("--renew-deadline", 10.0, "seconds the leader keeps trying to renew before giving up"),
    ("--retry-period", 2.0, "seconds between attempts to acquire or renew"),
)
"""The election's timing flags, as kube-controller-manager's ``--leader-elect-*`` ones."""


async def _serve(replica: AsyncReplica) -> bool:
    """Run ``replica`` until SIGINT/SIGTERM (True) or the loss of leadership (False)."""
    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()

    def handle(signum: int) -> None:
        log.info("received signal %d, shutting down", signum)
        signalled.set()
        replica.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, handle, signum)
    try:
        await replica.run()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return signalled.is_set()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one replica against the cluster of the kubeconfig until SIGINT/SIGTERM (exit 0);
    1 if the configuration cannot be loaded or leadership is lost (let the supervisor restart
    it, as Kubernetes restarts a pod)."""
    parser = argument_parser(
        "Reconcile PostgresClusters on asyncio; only the elected replica works."
    )
    parser.add_argument(
        "--id",
        default=f"{socket.gethostname()}_{uuid.uuid4()}",
        help="identity of this replica (default: hostname_<random uuid>)",
    )
    parser.add_argument("--lease-namespace", default="default", help="namespace of the Lease")
    parser.add_argument("--lease-name", default=LEASE_NAME, help="name of the Lease")
    for flag, default, what in _DURATIONS:
        parser.add_argument(flag, type=float, default=default, help=f"{what} (default: {default})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = load_config(args)
    if config is None:
        return 1

    async def serve() -> bool | str:
        try:
            replica = AsyncReplica(
                config,
                args.id,
                lease_namespace=args.lease_namespace,
                lease_name=args.lease_name,
                lease_duration=args.lease_duration,
                renew_deadline=args.renew_deadline,
                retry_period=args.retry_period,
                workers=args.workers,
                namespace=args.namespace,
            )
        except ValueError as err:  # timings the elector refuses (nothing opened yet)
            return str(err)
        return await _serve(replica)

    signalled = asyncio.run(serve())
    if isinstance(signalled, str):
        parser.error(signalled)
    if not signalled:
        print(f"error: {args.id} lost leadership of the Lease", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
