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
    Indexer,
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
TURNOVER_EVENTS = 5
SEEDS = 20
"""Fault schedules, one per seed."""
WRITES = 40
CALM_WRITES = 15
BOOKMARK_INTERVAL = 0.05
WATCH_READ_TIMEOUT = 0.5
"""Ten bookmark intervals: a silent (half-open) stream is noticed within half a second."""


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
    """A handler replaying notifications onto its own view and noting every inconsistency.

    No add of a present key (a duplicated final state), no update or delete of an absent one,
    every update starting from the state the handler last saw. An update to the same state is
    allowed: as in client-go, handlers start out due for resync, so a relist hands them its
    unchanged objects as updates.
    """

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
        old_rv, new_rv = meta_resource_version(old), meta_resource_version(new)
        with self.lock:
            if self.view.get(key) != old_rv:
                self.problems.append(f"update of {key} from {self.view.get(key)} not {old_rv}")
            self.view[key] = new_rv

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


@pytest.fixture(scope="module")
def server() -> Iterator[APIServer]:
    """One server for the module; each test works in a namespace of its own."""
    with APIServer(api_model(), window=200, bookmark_interval=BOOKMARK_INTERVAL) as running:
        yield running


@pytest.fixture()
def namespace(server: APIServer, request: pytest.FixtureRequest) -> str:
    name = "e2e-" + "".join(c if c.isalnum() else "-" for c in request.node.name.lower())
    name = name.strip("-")[:63]
    with RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest:
        ResourceClient(rest, NAMESPACES, dict, dict).create({"metadata": {"name": name}})
    return name


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
        name = f"cm-{self.rng.randrange(10)}"
        if name not in self.present:
            self.client.create({"metadata": {"name": name}, "data": {"v": str(self.count)}})
            self.present.add(name)
        elif self.rng.random() < 0.7:
            self.client.patch(name, {"data": {"v": str(self.count)}}, PatchType.MERGE)
        else:
            self.client.delete(name)
            self.present.discard(name)
        time.sleep(0.002)


def turnover(faults: Faults) -> None:
    """End every watch cleanly after a few events (bookmarks count), so that new watches keep
    coming and pick up whatever fault is armed next."""
    faults.close_watch(TURNOVER_EVENTS, resource="configmaps", times=None)


Group = Callable[[], list[Fault]]
"""Arms a group of faults and returns them; the next group is armed once all have fired."""


def fault_schedule(
    server: APIServer, rng: random.Random, writer: Writer
) -> tuple[list[Group], Group]:
    """A seeded schedule: two stream faults (cut, half open, corrupted), one error answer
    (429, 5xx, or a slow server) and a history compaction that forces a 410 relist, in a
    seeded order; returned with the compaction group, so the caller knows when it ran."""
    faults = server.faults

    def after() -> int:
        return rng.randint(1, TURNOVER_EVENTS - 1)

    streams: list[Group] = [
        lambda: [faults.close_watch(after(), resource="configmaps")],
        lambda: [faults.half_open(after(), resource="configmaps")],
        lambda: [faults.corrupt_watch(after(), resource="configmaps", mode="truncated")],
        lambda: [faults.corrupt_watch(after(), resource="configmaps")],
    ]
    answers: list[Group] = [
        lambda: [faults.fail(429, retry_after=0, verb="watch", resource="configmaps", times=2)],
        lambda: [faults.fail(503, verb="watch", resource="configmaps")],
        lambda: [faults.fail(504, verb="watch", resource="configmaps")],
        lambda: [
            faults.fail(500, verb="list", resource="configmaps"),
            faults.corrupt_watch(after(), resource="configmaps"),
        ],
        lambda: [
            faults.delay(0.1, verb="list", resource="configmaps"),
            faults.corrupt_watch(after(), resource="configmaps", mode="truncated"),
        ],
    ]

    def hold_next_watch() -> list[Fault]:
        return [faults.delay(0.2, verb="watch", resource="configmaps")]

    def compact() -> list[Fault]:
        # The informer's next watch is held back at its last resourceVersion: one more write,
        # then compaction, make that version too old (410) and the informer must relist.
        writer.step()
        server.compact()
        return []

    schedule = [rng.choice(streams), rng.choice(streams), rng.choice(answers)]
    rng.shuffle(schedule)
    at = rng.randint(0, len(schedule))
    schedule[at:at] = [hold_next_watch, compact]
    return schedule, compact


def informer_requests(server: APIServer, namespace: str, *, watch: bool) -> int:
    """How many lists (or watches) the informer sent in ``namespace`` (its requests carry a
    resourceVersion; the test's own lists do not)."""
    prefix = f"/api/v1/namespaces/{namespace}/configmaps?"
    return sum(
        1
        for method, path in server.requests
        if method == "GET"
        and path.startswith(prefix)
        and "resourceVersion=" in path
        and ("watch=" in path) == watch
    )


@pytest.mark.parametrize("seed", range(1, SEEDS + 1))
def test_informer_converges_under_faults(server: APIServer, namespace: str, seed: int) -> None:
    rng = random.Random(seed)
    faults = server.faults
    faults.clear()
    fired_before = len(faults.fired)
    with (
        RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as writer_rest,
        RESTClient(
            Config(
                host=server.url,
                bearer_token=server.token,
                qps=-1,
                watch_read_timeout=WATCH_READ_TIMEOUT,
            )
        ) as informer_rest,
    ):
        writer_client: ResourceClient[dict[str, Any], dict[str, Any]] = ResourceClient(
            writer_rest, CONFIGMAPS, dict, dict, namespace
        )
        reader = ResourceClient(informer_rest, CONFIGMAPS, ConfigMap, ConfigMapList, namespace)
        informer: SharedIndexInformer[ConfigMap] = SharedIndexInformer(
            ListWatch.from_client(reader),
            ConfigMap,
            name=f"configmaps-{seed}",
            backoff=Backoff(initial=0.01, cap=0.05, jitter=0.0),
        )
        fast, slow = ConsistencyChecker(), ConsistencyChecker(delay=0.002)
        informer.add_event_handler(fast)
        informer.add_event_handler(slow)
        writer = Writer(rng, writer_client)
        schedule, compaction = prepare(server, rng, writer)
        informer.start()
        try:
            exercise(
                server,
                namespace,
                writer,
                schedule,
                compaction,
                converger(reader, informer.get_indexer(), [fast, slow]),
            )
        finally:
            slow.stop.set()
            informer.stop()
            faults.clear()
    assert fast.problems == [] and slow.problems == []
    check_fired(faults, fired_before)


def prepare(server: APIServer, rng: random.Random, writer: Writer) -> tuple[list[Group], Group]:
    """Some objects for the initial list, the seeded fault schedule, the turnover fault."""
    for _ in range(5):
        writer.step()
    schedule, compaction = fault_schedule(server, rng, writer)
    turnover(server.faults)
    return schedule, compaction


def converger(
    reader: ResourceClient[ConfigMap, ConfigMapList],
    cache: Indexer[ConfigMap],
    checkers: list[ConsistencyChecker],
) -> Callable[[], bool]:
    """Whether the cache and every handler's view equal the server's list now."""

    def converged() -> bool:
        want = server_state(reader)
        cached = {key: meta_resource_version(cache.get_by_key(key)) for key in cache.list_keys()}
        return cached == want and all(checker.snapshot() == want for checker in checkers)

    return converged


def exercise(
    server: APIServer,
    namespace: str,
    writer: Writer,
    schedule: list[Group],
    compaction: Group,
    converged: Callable[[], bool],
) -> None:
    """Write while the schedule's fault groups fire one after the other; the informer must
    relist after the compaction and converge; then, in a calm phase with healthy watches only,
    converge again without any relist. Blocks (run it in a thread beside an asyncio informer)."""
    faults = server.faults
    armed: list[Fault] = []
    compacted_after = -1
    while schedule or writer.count < WRITES:
        writer.step()
        if schedule and all(fault.times == 0 for fault in armed):
            group = schedule.pop(0)
            if group is compaction:
                compacted_after = informer_requests(server, namespace, watch=False)
            armed = group()
        if writer.count >= 2000:
            raise AssertionError(f"faults stuck: {faults.fired}\n{thread_stacks()}")
    # The held watch met the compacted history: the informer must have relisted.
    eventually(
        lambda: informer_requests(server, namespace, watch=False) > compacted_after,
        timeout=30,
    )
    eventually(converged, timeout=30)

    # Then a calm phase: once the informer has opened a watch under no fault but the
    # turnover, changes can only arrive through healthy watches, never by a relist.
    faults.clear()
    turnover(faults)
    watches = informer_requests(server, namespace, watch=True)
    eventually(lambda: informer_requests(server, namespace, watch=True) > watches, timeout=30)
    relists = informer_requests(server, namespace, watch=False)
    for _ in range(CALM_WRITES):
        writer.step()
    eventually(converged, timeout=30)
    assert informer_requests(server, namespace, watch=False) == relists


def check_fired(faults: Faults, fired_before: int) -> None:
    """The schedule fired a delay and at least one stream fault."""
    fired = {kind for kind, _, _ in faults.fired[fired_before:]}
    assert "delay" in fired and fired & {"close_watch", "half_open", "corrupt_watch"}, fired


def test_streaming_list_against_the_server(server: APIServer, namespace: str) -> None:
    with RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest:
        writer: ResourceClient[dict[str, Any], dict[str, Any]] = ResourceClient(
            rest, CONFIGMAPS, dict, dict, namespace
        )
        for name in ("a", "b"):
            writer.create({"metadata": {"name": name}})
        reader = ResourceClient(rest, CONFIGMAPS, ConfigMap, ConfigMapList, namespace)
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
    prefix = f"/api/v1/namespaces/{namespace}/configmaps?"
    lists = [path for method, path in server.requests if path.startswith(prefix)]
    assert lists and all("watch=true" in path for path in lists)
    assert "sendInitialEvents=true" in lists[0]
    assert "resourceVersionMatch=NotOlderThan" in lists[0]
