"""A workqueue-driven controller for ``PostgresCluster`` objects (databases.kgen.dev/v1).

For every PostgresCluster it keeps a ConfigMap ``<name>-config`` (``postgresql.conf`` rendered
from ``spec.parameters``, the major version, and the provisioner of the StorageProfile the
cluster names) owned by the cluster, and writes the cluster's status subresource (phase,
replicas, scale selector, observed generation). What it did is recorded as Events about the
cluster.

The pieces, all from kgen and the package kgen generated from ``openapi-specs``:

* a ``SharedInformerFactory`` (generated) with informers on PostgresClusters and
  StorageProfiles, plus one on the ConfigMaps this controller owns, registered with the same
  factory through the dynamic client;
* event handlers that turn every notification into a ``namespace/name`` key in a
  ``RateLimitingQueue``: a cluster's own key, or the key of the cluster owning a ConfigMap;
* worker threads that take a key, read the cluster from the lister (never from the API),
  reconcile, then ``forget`` the key on success or ``add_rate_limited`` it on failure;
* an ``EventRecorder`` writing core/v1 Events through the API.

Run it against a cluster (the current kubeconfig context) with
``PYTHONPATH=generated python examples/database_controller.py``; tests call
:func:`controller_for` / :func:`run` with a :class:`kgen.rest.Config`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from functools import partial
from types import FrameType
from typing import Any

import msgspec
from kgen_databases.clientset import Clientset
from kgen_databases.informers import SharedInformerFactory
from kgen_databases.listers.databases_v1 import PostgresClusterLister, StorageProfileLister
from kgen_databases.models.databases_v1 import (
    PostgresCluster,
    PostgresClusterSpec,
    PostgresClusterStatus,
    StorageProfileSpec,
)

from kgen.cache import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    ResourceEventHandlerFuncs,
    ResourceEventHandlerRegistration,
    SharedIndexInformer,
    deletion_handling_meta_namespace_key,
    meta_namespace_index_func,
    meta_namespace_key,
    new_filtered_informer,
    split_meta_namespace_key,
    wait_for_cache_sync,
)
from kgen.client import GroupVersionResource
from kgen.config import ConfigError, load
from kgen.dynamic import DynamicClient, DynamicResourceClient, Unstructured
from kgen.meta import UNSET, ObjectMeta, OwnerReference
from kgen.record import (
    EVENT_TYPE_NORMAL,
    EVENT_TYPE_WARNING,
    EventBroadcaster,
    EventRecorder,
    EventSource,
    RESTEventSink,
)
from kgen.rest import Config, StatusError, is_not_found
from kgen.workqueue import (
    QueueShutDown,
    RateLimiter,
    RateLimitingQueue,
    default_controller_rate_limiter,
)

__all__ = [
    "CONTROLLER_NAME",
    "DatabaseController",
    "ReconcileError",
    "argument_parser",
    "configmap_name",
    "controlled_by",
    "controller_for",
    "desired_data",
    "desired_status",
    "load_config",
    "main",
    "new_configmap",
    "owner_keys",
    "run",
    "stop_on_signals",
]

CONTROLLER_NAME = "postgrescluster-controller"
"""Event source component, queue name, and the ``managed-by`` label of owned ConfigMaps."""

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
CLUSTER_LABEL = "databases.kgen.dev/cluster"
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
OWNED_SELECTOR = f"{MANAGED_BY_LABEL}={CONTROLLER_NAME}"
"""Label selector of the ConfigMaps this controller creates (and watches)."""

log = logging.getLogger(CONTROLLER_NAME)


class ReconcileError(Exception):
    """A reconcile failed for a reason already reported as a Warning event; retried later."""


def configmap_name(cluster_name: str) -> str:
    """The name of the ConfigMap owned by the cluster ``cluster_name``."""
    return f"{cluster_name}-config"


class DatabaseController:
    """Reconciles PostgresClusters; see the module docstring.

    Construction registers the event handlers (and the owned-ConfigMap informer) with
    ``factory``; the caller starts the factory, then calls :meth:`run`, which blocks. Handlers
    run on the informers' delivery threads and only enqueue keys; every API write happens on a
    worker thread. Objects read from the listers are the cache's shared objects: this class
    never mutates them (it builds changed copies with ``msgspec.structs.replace``).
    """

    def __init__(
        self,
        clientset: Clientset,
        factory: SharedInformerFactory,
        recorder: EventRecorder,
        *,
        rate_limiter: RateLimiter[str] | None = None,
    ) -> None:
        self._clientset = clientset
        self._recorder = recorder
        self._configmaps = DynamicClient(clientset.rest_client).resource(CONFIGMAPS)
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(
            rate_limiter if rate_limiter is not None else default_controller_rate_limiter(),
            name=CONTROLLER_NAME,
        )

        clusters = factory.databases_v1.postgres_clusters()
        profiles = factory.databases_v1.storage_profiles()
        self._clusters: PostgresClusterLister = clusters.lister()
        self._profiles: StorageProfileLister = profiles.lister()
        owned = factory.informer_for(
            (CONFIGMAPS, OWNED_SELECTOR), partial(_owned_configmap_informer, factory.namespace)
        )
        self._registrations: list[ResourceEventHandlerRegistration] = [
            clusters.informer().add_event_handler(
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
        self._profiles_synced = profiles.informer().has_synced

    # -- event handlers: informer delivery threads, enqueue only ------------------------------

    def _enqueue(self, cluster: Any) -> None:
        self.queue.add(meta_namespace_key(cluster))

    def _enqueue_deleted(self, cluster: Any) -> None:
        self.queue.add(deletion_handling_meta_namespace_key(cluster))

    def _enqueue_owner(self, configmap: Any) -> None:
        """Enqueue the PostgresCluster controlling ``configmap`` (a dict, or a tombstone)."""
        for key in owner_keys(configmap):
            self.queue.add(key)

    # -- workers -------------------------------------------------------------------------------

    def run(self, workers: int, stop: threading.Event) -> None:
        """Wait for the caches to sync, run ``workers`` worker threads until ``stop`` is set,
        then shut the queue down and join the workers. Blocks; call once."""
        synced = [r.has_synced for r in self._registrations] + [self._profiles_synced]
        threads = [
            threading.Thread(
                target=self._worker, args=(stop,), name=f"{CONTROLLER_NAME}-worker-{i}"
            )
            for i in range(workers)
        ]
        try:
            if not wait_for_cache_sync(*synced, stop=stop):
                log.info("stopped before the caches synced")
                return
            for thread in threads:
                thread.start()
            log.info("started %d workers", workers)
            stop.wait()
        finally:
            self.queue.shut_down()
            for thread in threads:
                if thread.is_alive():
                    thread.join()
            log.info("workers stopped")

    def _worker(self, stop: threading.Event) -> None:
        """Process keys until the queue is shut down. Once ``stop`` is set, keys still queued
        are dropped rather than processed: a replica that lost its Lease must stop writing."""
        while True:
            try:
                key = self.queue.get()
            except QueueShutDown:
                return
            try:
                if not stop.is_set():
                    self._process(key)
            finally:
                self.queue.done(key)

    def _process(self, key: str) -> None:
        """Sync ``key``; forget its failures on success, retry it rate-limited on error."""
        try:
            self.sync(key)
        except Exception as err:
            retries = self.queue.num_requeues(key)
            log.warning("syncing %s failed (retry %d): %s", key, retries, err)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)

    # -- reconcile -----------------------------------------------------------------------------

    def sync(self, key: str) -> None:
        """Bring the cluster under ``key`` (``namespace/name``) to its desired state.

        Raises on failure (the worker retries with rate limiting). A cluster gone from the
        cache needs nothing: its ConfigMap is garbage collected through its owner reference.
        """
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
        changes = self._sync_configmap(cluster, meta, self._desired_data(cluster, spec))
        if self._sync_status(cluster, meta, spec):
            changes.append("status")
        if changes:
            self._recorder.eventf(
                cluster, EVENT_TYPE_NORMAL, "Synced", "updated %s", ", ".join(changes)
            )

    def _desired_data(self, cluster: PostgresCluster, spec: PostgresClusterSpec) -> dict[str, str]:
        """The ConfigMap's data. Raises :class:`ReconcileError` (after a Warning event) when
        the StorageProfile the cluster names does not exist (yet)."""
        return desired_data(cluster, spec, self._profiles, self._recorder)

    def _sync_configmap(
        self, cluster: PostgresCluster, meta: ObjectMeta, data: dict[str, str]
    ) -> list[str]:
        """Create or update the owned ConfigMap; the changes made (none or one)."""
        name = configmap_name(str(meta.name))
        client: DynamicResourceClient = self._configmaps.namespace(str(meta.namespace))
        try:
            existing = client.get(name)
        except StatusError as err:
            if not is_not_found(err):
                raise
            client.create(new_configmap(cluster, meta, name, data))
            return [f"ConfigMap {name} (created)"]
        if not controlled_by(existing, str(meta.uid)):
            message = f"ConfigMap {name} exists and is not managed by this PostgresCluster"
            self._recorder.event(cluster, EVENT_TYPE_WARNING, "ErrResourceExists", message)
            raise ReconcileError(message)
        if existing.get("data") == data:
            return []
        existing["data"] = data
        client.update(existing)
        return [f"ConfigMap {name}"]

    def _sync_status(
        self, cluster: PostgresCluster, meta: ObjectMeta, spec: PostgresClusterSpec
    ) -> bool:
        """Write the status subresource if the fields this controller owns differ (others,
        such as ``readyInstances``, are kept as they are); True if written."""
        current = cluster.status
        desired = desired_status(cluster, meta, spec)
        if current == desired:
            return False
        self._clientset.databases_v1.postgres_clusters(str(meta.namespace)).update_status(
            msgspec.structs.replace(cluster, status=desired)
        )
        return True


def owner_keys(configmap: Any) -> list[str]:
    """The keys of the PostgresClusters controlling ``configmap`` (a dict, or a tombstone)."""
    if isinstance(configmap, DeletedFinalStateUnknown):
        configmap = configmap.obj
    if not isinstance(configmap, Mapping):
        return []
    metadata = configmap.get("metadata") or {}
    return [
        f"{metadata.get('namespace', '')}/{ref.get('name', '')}"
        for ref in metadata.get("ownerReferences") or ()
        if ref.get("controller") and ref.get("kind") == "PostgresCluster"
    ]


def desired_data(
    cluster: PostgresCluster,
    spec: PostgresClusterSpec,
    profiles: StorageProfileLister,
    recorder: EventRecorder,
) -> dict[str, str]:
    """The data of ``cluster``'s ConfigMap, reading its StorageProfile from ``profiles`` (a
    plain cache read, from any thread or task). Raises :class:`ReconcileError` (after a
    Warning event) when the StorageProfile the cluster names does not exist (yet)."""
    parameters = spec.parameters if isinstance(spec.parameters, dict) else {}
    conf = "".join(f"{k} = '{v}'\n" for k, v in sorted(parameters.items()))
    data = {"postgresql.conf": conf, "PG_MAJOR": spec.version}
    profile_name = spec.storage.profile
    if not isinstance(profile_name, str) or not profile_name:
        return data
    try:
        profile = profiles.get(profile_name)
    except StatusError as err:
        if not is_not_found(err):
            raise
        recorder.eventf(
            cluster,
            EVENT_TYPE_WARNING,
            "ProfileNotFound",
            "StorageProfile %s does not exist",
            profile_name,
        )
        raise ReconcileError(f"StorageProfile {profile_name} not found") from None
    if isinstance(profile.spec, StorageProfileSpec):
        data["STORAGE_PROVISIONER"] = profile.spec.provisioner
    return data


def desired_status(
    cluster: PostgresCluster, meta: ObjectMeta, spec: PostgresClusterSpec
) -> PostgresClusterStatus:
    """``cluster``'s status with the fields this controller owns set (a new object; others,
    such as ``readyInstances``, kept as they are)."""
    current = cluster.status
    return msgspec.structs.replace(
        current if isinstance(current, PostgresClusterStatus) else PostgresClusterStatus(),
        phase="Running",
        replicas=spec.replicas if isinstance(spec.replicas, int) else 1,
        selector=f"{CLUSTER_LABEL}={meta.name}",
        observed_generation=meta.generation,
    )


def _owned_configmap_informer(
    namespace: str, clientset: Clientset, resync: float
) -> SharedIndexInformer[Unstructured]:
    """An informer on the ConfigMaps this controller manages in ``namespace`` (``""``: all),
    for the shared factory (``informer_for`` passes the clientset and the resync period)."""
    client = DynamicClient(clientset.rest_client).resource(CONFIGMAPS).namespace(namespace)
    return new_filtered_informer(
        client,
        dict,
        resync,
        {NAMESPACE_INDEX: meta_namespace_index_func},
        lambda options: replace(options, label_selector=OWNED_SELECTOR),
        name="owned-configmaps",
    )


def new_configmap(
    cluster: PostgresCluster, meta: ObjectMeta, name: str, data: dict[str, str]
) -> Unstructured:
    """The ConfigMap ``name`` owned (controlled) by ``cluster``, holding ``data``."""
    owner = OwnerReference(
        api_version=cluster.api_version,
        kind=cluster.kind,
        name=str(meta.name),
        uid=str(meta.uid),
        controller=True,
        block_owner_deletion=True,
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": meta.namespace,
            "labels": {MANAGED_BY_LABEL: CONTROLLER_NAME, CLUSTER_LABEL: meta.name},
            "ownerReferences": [msgspec.to_builtins(owner)],
        },
        "data": data,
    }


def controlled_by(obj: Unstructured, uid: str) -> bool:
    """Whether ``obj`` has a controller owner reference to the object of ``uid``."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return any(ref.get("controller") and ref.get("uid") == uid for ref in refs)


@contextlib.contextmanager
def controller_for(
    config: Config,
    *,
    namespace: str = "",
    rate_limiter: RateLimiter[str] | None = None,
    identity: str = "",
) -> Iterator[DatabaseController]:
    """Wire a :class:`DatabaseController` to the cluster of ``config`` and start its informers.

    ``namespace`` limits the informers to one namespace (``""``: all); ``identity`` goes into
    the recorded events' ``source.host``. On exit the informers are stopped, recorded events
    flushed and the connections closed (the caller must have returned from ``run`` first).
    """
    clientset = Clientset(config)
    broadcaster = EventBroadcaster()
    try:
        broadcaster.start_recording_to_sink(RESTEventSink(clientset.rest_client))
        recorder = broadcaster.new_recorder(
            EventSource(component=CONTROLLER_NAME, host=identity or UNSET)
        )
        factory = SharedInformerFactory(clientset, 0.0, namespace=namespace)
        try:
            controller = DatabaseController(clientset, factory, recorder, rate_limiter=rate_limiter)
            factory.start()
            yield controller
        finally:
            factory.shutdown()
    finally:
        broadcaster.shutdown()
        clientset.rest_client.close()


def run(
    config: Config,
    stop: threading.Event,
    *,
    workers: int = 2,
    namespace: str = "",
    rate_limiter: RateLimiter[str] | None = None,
    identity: str = "",
) -> None:
    """Run the controller until ``stop`` is set; every thread it started has ended on return."""
    with controller_for(
        config, namespace=namespace, rate_limiter=rate_limiter, identity=identity
    ) as controller:
        controller.run(workers, stop)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The command line shared by the examples: where the cluster is, and how many workers."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--kubeconfig", help="kubeconfig file (default: KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument("--context", help="kubeconfig context to use (default: current)")
    parser.add_argument("--namespace", default="", help="watch one namespace (default: all)")
    parser.add_argument("--workers", type=_positive, default=2, help="worker threads (default: 2)")
    return parser


def load_config(args: argparse.Namespace) -> Config | None:
    """The REST config from the kubeconfig (or in-cluster); None after printing why not."""
    try:
        return load(args.kubeconfig, args.context)
    except ConfigError as err:
        print(f"error: cannot load the cluster configuration: {err}", file=sys.stderr)
        return None


def stop_on_signals(stop: threading.Event) -> None:
    """Set ``stop`` on SIGINT or SIGTERM (call from the main thread)."""

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("received signal %d, shutting down", signum)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the controller against the cluster of the kubeconfig until SIGINT/SIGTERM."""
    parser = argument_parser("Reconcile PostgresClusters into ConfigMaps and status.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = load_config(args)
    if config is None:
        return 1
    stop = threading.Event()
    stop_on_signals(stop)
    run(config, stop, workers=args.workers, namespace=args.namespace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
