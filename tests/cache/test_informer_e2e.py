"""Informers against the kgen.testing API server under fault injection.

A seeded writer creates, patches and deletes ConfigMaps over HTTP while the server cuts
watches, corrupts and stalls watch streams, throttles, fails lists and compacts its history.
Afterwards the informer's cache must equal the server's state, and every handler (one of them
slow) must have seen a consistent sequence that ends in that same state: no add of a present
object, no update or delete of an absent one, each update starting from the previous state.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

from kgen.cache import (
    Backoff,
    DeletedFinalStateUnknown,
    ListWatch,
    SharedIndexInformer,
    deletion_handling_meta_namespace_key,
    meta_namespace_key,
)
from kgen.client import GroupVersionResource, PatchType, ResourceClient
from kgen.meta import UNSET, ListMeta, Model, ObjectMeta, UnsetType, meta_resource_version
from kgen.rest import Config, RESTClient
from kgen.spec.model import APIModel, GroupVersion, Resource
from kgen.testing import APIServer, Fault, Faults

from .helpers import eventually, thread_stacks

CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NS = "e2e"
TURNOVER_EVENTS = 5


class ConfigMap(Model):
    metadata: ObjectMeta
    data: dict[str, str] | None | UnsetType = UNSET


class ConfigMapList(Model):
    items: tuple[ConfigMap, ...] = ()
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)


def api_model() -> APIModel:
    meta = {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        }
        | {"managedFields": {"type": "array", "items": {"type": "object"}}},
    }

    def kind(extra: dict[str, Any]) -> dict[str, Any]:
        props = {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
        }
        return {"type": "object", "properties": props | extra}

    schemas = {
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": meta,
        "io.k8s.api.core.v1.ConfigMap": kind(
            {"data": {"type": "object", "additionalProperties": {"type": "string"}}}
        ),
        "io.k8s.api.core.v1.Namespace": kind({}),
    }
    core = GroupVersion(
        "",
        "v1",
        {
            "configmaps": Resource(
                "configmaps",
                "configmap",
                "ConfigMap",
                True,
                VERBS,
                "ConfigMapList",
                "io.k8s.api.core.v1.ConfigMap",
            ),
            "namespaces": Resource(
                "namespaces",
                "namespace",
                "Namespace",
                False,
                VERBS,
                "NamespaceList",
                "io.k8s.api.core.v1.Namespace",
            ),
        },
        preferred=True,
    )
    return APIModel(group_versions={("", "v1"): core}, schemas=schemas)


class ConsistencyChecker:
    """A handler replaying notifications onto its own view and noting every inconsistency."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.view: dict[str, str] = {}
        self.problems: list[str] = []
        self.stop = threading.Event()

    def _pause(self) -> None:
        if self.delay:
            self.stop.wait(self.delay)

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self._pause()
        key = meta_namespace_key(obj)
        with self.lock:
            if key in self.view:
                self.problems.append(f"add of present {key}")
            self.view[key] = meta_resource_version(obj)

    def on_update(self, old: Any, new: Any) -> None:
        self._pause()
        key = meta_namespace_key(new)
        with self.lock:
            if self.view.get(key) != meta_resource_version(old):
                self.problems.append(f"update of {key} from {self.view.get(key)} not {old}")
            self.view[key] = meta_resource_version(new)

    def on_delete(self, obj: Any) -> None:
        self._pause()
        key = deletion_handling_meta_namespace_key(obj)
        with self.lock:
            if key not in self.view:
                self.problems.append(f"delete of absent {key}")
            self.view.pop(key, None)
        if isinstance(obj, DeletedFinalStateUnknown):
            assert obj.key == key

    def snapshot(self) -> dict[str, str]:
        with self.lock:
            return dict(self.view)


@pytest.fixture()
def server() -> Iterator[APIServer]:
    with APIServer(api_model(), window=200, bookmark_interval=0.2) as running:
        with RESTClient(Config(host=running.url, bearer_token=running.token, qps=-1)) as rest:
            ResourceClient(rest, NAMESPACES, dict, dict).create({"metadata": {"name": NS}})
        yield running


def server_state(client: ResourceClient[ConfigMap, ConfigMapList]) -> dict[str, str]:
    return {meta_namespace_key(o): meta_resource_version(o) for o in client.list().items}


class Writer:
    """Creates, patches and deletes random ConfigMaps, pausing a little between writes."""

    def __init__(
        self, rng: random.Random, client: ResourceClient[dict[str, Any], dict[str, Any]]
    ) -> None:
        self.rng = rng
        self.client = client
        self.present: set[str] = set()
        self.count = 0

    def step(self) -> None:
        self.count += 1
        name = f"cm-{self.rng.randrange(12)}"
        if name not in self.present:
            self.client.create({"metadata": {"name": name}, "data": {"v": str(self.count)}})
            self.present.add(name)
        elif self.rng.random() < 0.7:
            self.client.patch(name, {"data": {"v": str(self.count)}}, PatchType.MERGE)
        else:
            self.client.delete(name)
            self.present.discard(name)
        time.sleep(0.003)


def turnover(faults: Faults) -> None:
    """End every watch cleanly after a few events (bookmarks count), so that new watches keep
    coming and pick up whatever fault is armed next."""
    faults.close_watch(TURNOVER_EVENTS, resource="configmaps", times=None)


def fault_schedule(server: APIServer, rng: random.Random) -> list[Callable[[], list[Fault]]]:
    """Faults to arm one group after another, each once the previous group has fired."""
    faults = server.faults

    def compact_and_cut() -> list[Fault]:
        server.compact()
        return [faults.close_watch(0, resource="configmaps")]

    def after() -> int:
        return rng.randint(1, TURNOVER_EVENTS - 1)

    schedule: list[Callable[[], list[Fault]]] = [
        lambda: [faults.close_watch(after(), resource="configmaps")],
        lambda: [faults.corrupt_watch(after(), resource="configmaps", mode="truncated")],
        lambda: [faults.corrupt_watch(after(), resource="configmaps")],
        lambda: [faults.half_open(after(), resource="configmaps")],
        lambda: [faults.fail(429, retry_after=0, verb="watch", resource="configmaps")],
        lambda: [
            faults.fail(500, verb="list", resource="configmaps"),
            faults.corrupt_watch(after(), resource="configmaps"),
        ],
        compact_and_cut,
        lambda: [faults.fail(503, verb="watch", resource="configmaps")],
    ]
    rng.shuffle(schedule)
    return schedule


def informer_lists(server: APIServer) -> int:
    """How many lists the informer sent (they carry a resourceVersion; the test's do not)."""
    return sum(
        1
        for method, path in server.requests
        if method == "GET" and "resourceVersion=" in path and "watch=" not in path
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_informer_converges_under_faults(server: APIServer, seed: int) -> None:
    rng = random.Random(seed)
    server.faults.clear()
    with (
        RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as writer_rest,
        RESTClient(
            Config(host=server.url, bearer_token=server.token, qps=-1, watch_read_timeout=1.0)
        ) as informer_rest,
    ):
        writer_client: ResourceClient[dict[str, Any], dict[str, Any]] = ResourceClient(
            writer_rest, CONFIGMAPS, dict, dict, NS
        )
        reader = ResourceClient(informer_rest, CONFIGMAPS, ConfigMap, ConfigMapList, NS)
        for item in writer_client.list()["items"]:
            writer_client.delete(item["metadata"]["name"])
        informer: SharedIndexInformer[ConfigMap] = SharedIndexInformer(
            ListWatch.from_client(reader),
            ConfigMap,
            name=f"configmaps-{seed}",
            backoff=Backoff(initial=0.01, cap=0.05, jitter=0.0),
        )
        fast, slow = ConsistencyChecker(), ConsistencyChecker(delay=0.002)
        informer.add_event_handler(fast)
        informer.add_event_handler(slow)
        faults = server.faults
        schedule = fault_schedule(server, rng)
        turnover(faults)
        armed = schedule.pop(0)()
        informer.start()
        try:
            writer = Writer(rng, writer_client)
            while schedule or writer.count < 60:
                writer.step()
                if schedule and all(fault.times == 0 for fault in armed):
                    armed = schedule.pop(0)()
                if writer.count >= 2000:
                    raise AssertionError(f"faults stuck: {faults.fired}\n{thread_stacks()}")

            def converged() -> bool:
                want = server_state(reader)
                cached = {
                    key: meta_resource_version(informer.get_indexer().get_by_key(key))
                    for key in informer.get_indexer().list_keys()
                }
                return cached == want and fast.snapshot() == want and slow.snapshot() == want

            eventually(converged, timeout=30)
            # Then a calm phase: these changes can only arrive through a healthy watch.
            faults.clear()
            turnover(faults)
            time.sleep(1.5)  # let faults bound to open streams, and any backoff, play out
            relists = informer_lists(server)
            for _ in range(30):
                writer.step()
            eventually(converged, timeout=30)
            assert informer_lists(server) == relists
        finally:
            slow.stop.set()
            informer.stop()
    assert fast.problems == [] and slow.problems == []
    assert faults.fired, "no fault fired: the test did not test anything"


def test_streaming_list_against_the_server(server: APIServer) -> None:
    with RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest:
        writer: ResourceClient[dict[str, Any], dict[str, Any]] = ResourceClient(
            rest, CONFIGMAPS, dict, dict, NS
        )
        for name in ("a", "b"):
            writer.create({"metadata": {"name": name}})
        reader = ResourceClient(rest, CONFIGMAPS, ConfigMap, ConfigMapList, NS)
        informer: SharedIndexInformer[ConfigMap] = SharedIndexInformer(
            ListWatch.from_client(reader), ConfigMap, use_watch_list=True
        )
        checker = ConsistencyChecker()
        informer.add_event_handler(checker)
        with informer:
            eventually(informer.has_synced)
            writer.delete("a")
            writer.create({"metadata": {"name": "c"}})
            eventually(lambda: checker.snapshot() == server_state(reader))
    assert checker.problems == []
    lists = [path for method, path in server.requests if "configmaps?" in path]
    assert lists and all("watch=true" in path for path in lists)
    assert "sendInitialEvents=true" in lists[0]
    assert "resourceVersionMatch=NotOlderThan" in lists[0]
