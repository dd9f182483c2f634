"""kgen.watchtools: RetryWatcher, until, until_with_sync and until_without_retry against the
kgen.testing API server, with watches cut, throttled, failed and corrupted, and history
compacted."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cache.helpers import eventually
from client.apiserver import kube_model

from kgen.cache import ListWatch
from kgen.client import ResourceClient
from kgen.dynamic import DynamicClient, DynamicResourceClient
from kgen.meta import meta_name, meta_resource_version
from kgen.rest import Config, ListOptions, RESTClient, StatusError, WatchEvent, is_forbidden
from kgen.retry import Backoff
from kgen.testing import APIServer, Rule, User
from kgen.watchtools import (
    RetryWatcher,
    WaitTimeoutError,
    WatchClosedError,
    until,
    until_with_sync,
    until_without_retry,
)

from .conftest import CONFIGMAPS, NAMESPACES, ConfigMap, ConfigMapList, configmap

FAST = {"min_restart_delay": 0.01}


def fast_backoff() -> Backoff:
    return Backoff(initial=0.01, cap=0.05, jitter=0.0)


def current_rv(client: DynamicResourceClient) -> str:
    return str(client.list()["metadata"]["resourceVersion"])


def write_history(client: DynamicResourceClient, count: int) -> None:
    """Creates, updates and deletes, in a fixed order: ``3 * count`` changes."""
    for i in range(count):
        name = f"w-{i:02d}"
        client.create(configmap(name, step="created"))
        obj = client.get(name)
        obj["data"] = {"step": "updated"}
        client.update(obj)
        if i % 2:
            client.delete(name)
        else:
            client.create(configmap(f"x-{i:02d}"))


def event_key(event: WatchEvent[Any]) -> tuple[str, str, str]:
    return event.type, meta_name(event.object), meta_resource_version(event.object)


def reference_events(client: DynamicResourceClient, since: str, until_rv: str) -> list[Any]:
    """What one uninterrupted watch from ``since`` sees, up to ``until_rv``."""
    seen: list[tuple[str, str, str]] = []
    with client.watch(resource_version=since) as watch:
        for event in watch:
            seen.append(event_key(event))
            if meta_resource_version(event.object) == until_rv:
                break
    return seen


def consume(watcher: RetryWatcher[Any], last_rv: str) -> list[tuple[str, str, str]]:
    seen: list[tuple[str, str, str]] = []
    for event in watcher:
        seen.append(event_key(event))
        if meta_resource_version(event.object) == last_rv:
            break
    return seen


class FaultPlan:
    """A watcher client that, before each watch it opens, arms the next fault of a plan on
    the server (so each watch meets exactly one fault, in the planned order)."""

    def __init__(self, server: APIServer, client: DynamicResourceClient, plan: list[Any]):
        self.server = server
        self.inner = ListWatch.from_client(client)
        self.plan = plan
        self.options: list[ListOptions] = []

    def watch(self, options: ListOptions) -> Any:
        self.options.append(options)
        if self.plan:
            self.plan.pop(0)(self.server.faults)
        return self.inner.watch(options)


def test_retry_watcher_loses_and_repeats_nothing_across_cuts_throttling_and_errors(
    server: APIServer, configmaps: DynamicResourceClient
) -> None:
    start = current_rv(configmaps)
    write_history(configmaps, 12)
    last = current_rv(configmaps)
    cut = lambda after: lambda f: f.close_watch(after, resource="configmaps")  # noqa: E731
    fail = lambda code: lambda f: f.fail(code, verb="watch", resource="configmaps")  # noqa: E731
    plan = [
        cut(4),
        fail(429),
        cut(5),
        fail(500),
        lambda f: f.corrupt_watch(3, mode="malformed", resource="configmaps"),
        fail(429),
        fail(503),
        cut(1),
        lambda f: f.corrupt_watch(2, mode="truncated", resource="configmaps"),
        cut(6),
        fail(429),
        cut(0),
        cut(7),
    ]
    planned = len(plan)
    client = FaultPlan(server, configmaps, plan)
    watcher = RetryWatcher(start, client, backoff=fast_backoff(), **FAST)
    with watcher:
        seen = consume(watcher, last)
    assert seen == reference_events(configmaps, start, last)
    assert len(seen) == 36
    versions = [int(rv) for _, _, rv in seen]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert [kind for kind, _, _ in server.faults.fired] == [
        "close_watch",
        "status",
        "close_watch",
        "status",
        "corrupt_watch",
        "status",
        "status",
        "close_watch",
        "corrupt_watch",
        "close_watch",
        "status",
        "close_watch",
        "close_watch",
    ]
    # Every watch resumed from the last resourceVersion handed out (never going back).
    watch_rvs = [o.resource_version for o in client.options]
    assert len(watch_rvs) == planned + 1 and watch_rvs[0] == start
    assert all(int(a) <= int(b) for a, b in itertools.pairwise(watch_rvs))
    assert all(o.allow_watch_bookmarks for o in client.options)
    expected_resumes = [start]
    delivered = 0
    for sent in (4, 0, 5, 0, 3, 0, 0, 1, 2, 6, 0, 0):
        delivered += sent
        expected_resumes.append(seen[delivered - 1][2] if delivered else start)
    assert watch_rvs[:-1] == expected_resumes


def test_retry_watcher_follows_concurrent_writes_with_typed_objects(
    server: APIServer,
    configmaps: DynamicResourceClient,
    typed_configmaps: ResourceClient[ConfigMap, ConfigMapList],
) -> None:
    start = current_rv(configmaps)
    server.faults.close_watch(5, resource="configmaps", times=None)

    def writer() -> None:
        write_history(configmaps, 10)
        configmaps.create(configmap("end"))

    thread = threading.Thread(target=writer, name="writer")
    watcher = RetryWatcher(
        start, ListWatch.from_client(typed_configmaps), backoff=fast_backoff(), **FAST
    )
    thread.start()
    seen: list[WatchEvent[ConfigMap]] = []
    try:
        for event in watcher:
            seen.append(event)
            if meta_name(event.object) == "end":
                break
    finally:
        watcher.stop()
        thread.join()
    server.faults.clear()
    assert all(isinstance(event.object, ConfigMap) for event in seen)
    assert [event_key(e) for e in seen] == reference_events(
        configmaps, start, meta_resource_version(seen[-1].object)
    )
    assert len(seen) == 31


def test_retry_watcher_ends_with_410_when_history_is_compacted(
    server: APIServer, configmaps: DynamicResourceClient
) -> None:
    start = current_rv(configmaps)
    for i in range(3):
        configmaps.create(configmap(f"c-{i}"))
    server.faults.close_watch(2, resource="configmaps")
    watcher = RetryWatcher(start, ListWatch.from_client(configmaps), backoff=fast_backoff(), **FAST)
    seen: list[str] = []
    with pytest.raises(StatusError) as caught:
        for event in watcher:
            seen.append(meta_name(event.object))
            if len(seen) == 2:
                # The server cuts the watch here; before it is reopened, history is gone.
                configmaps.create(configmap("late"))
                server.compact()
    assert caught.value.code == 410
    assert "too old resource version" in str(caught.value)
    assert seen == ["c-0", "c-1"]
    assert list(watcher) == []  # over for good
    # Opening at a compacted version is just as final.
    with pytest.raises(StatusError) as again:
        next(iter(RetryWatcher(start, ListWatch.from_client(configmaps), **FAST)))
    assert again.value.code == 410


def test_retry_watcher_refuses_unsafe_starts_and_ends_on_403(specs_dir: Path) -> None:
    reader = {"reader-token": User("reader")}
    may_read = [Rule(verbs=("get", "list"), users=("reader",))]
    with (
        APIServer(kube_model(specs_dir), users=reader, rules=may_read) as server,
        RESTClient(Config(host=server.url, bearer_token="reader-token", qps=-1)) as rest,
    ):
        configmaps = DynamicClient(rest).resource(CONFIGMAPS).namespace("default")
        lw = ListWatch.from_client(configmaps)
        for rv in ("", "0"):
            with pytest.raises(ValueError, match="not supported"):
                RetryWatcher(rv, lw)
        # The user may list but not watch: a 403 is final, not retried.
        with pytest.raises(StatusError) as caught:
            next(iter(RetryWatcher(current_rv(configmaps), lw, **FAST)))
        assert is_forbidden(caught.value)
        assert sum("watch=true" in path for _, path in server.requests) == 1


def test_retry_watcher_passes_its_selectors_to_every_watch(
    server: APIServer, configmaps: DynamicResourceClient
) -> None:
    start = current_rv(configmaps)
    for name, app in (("a", "web"), ("b", "db"), ("c", "web")):
        configmaps.create({**configmap(name), "metadata": {"name": name, "labels": {"app": app}}})
    server.faults.close_watch(1, resource="configmaps")
    watcher = RetryWatcher(
        start, ListWatch.from_client(configmaps), label_selector="app=web", **FAST
    )
    with watcher:
        names = [meta_name(e.object) for e in itertools.islice(watcher, 2)]
    assert names == ["a", "c"]
    selectors = [
        parse_qs(urlsplit(path).query).get("labelSelector")
        for _, path in server.requests
        if "watch=true" in path and "/configmaps" in path
    ]
    assert selectors == [["app=web"], ["app=web"]]


def test_stop_from_another_thread_ends_a_blocked_iteration(
    configmaps: DynamicResourceClient,
) -> None:
    watcher = RetryWatcher(current_rv(configmaps), ListWatch.from_client(configmaps), **FAST)
    seen: list[WatchEvent[Any]] = []
    reading = threading.Thread(target=lambda: seen.extend(watcher), name="reader")
    reading.start()
    configmaps.create(configmap("one"))
    eventually(lambda: bool(seen), timeout=10)
    watcher.stop()
    reading.join(timeout=5)
    assert not reading.is_alive()
    assert [meta_name(e.object) for e in seen] == ["one"] and watcher.stopped
    watcher.stop()  # idempotent


@pytest.fixture
def bookmarking(specs_dir: Path) -> Iterator[tuple[APIServer, DynamicClient]]:
    with (
        APIServer(kube_model(specs_dir), bookmark_interval=0.05) as server,
        RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest,
    ):
        yield server, DynamicClient(rest)


def test_bookmarks_advance_the_resource_version_without_being_handed_out(
    bookmarking: tuple[APIServer, DynamicClient],
) -> None:
    server, dynamic = bookmarking
    configmaps = dynamic.resource(CONFIGMAPS).namespace("default")
    configmaps.create(configmap("before"))
    start = current_rv(configmaps)
    # A change elsewhere moves the server's revision; a bookmark carries it to the watcher,
    # and the server then cuts that watch.
    dynamic.resource(NAMESPACES).create({"metadata": {"name": "elsewhere"}})
    target = current_rv(dynamic.resource(NAMESPACES))
    server.faults.close_watch(1, resource="configmaps")
    watcher = RetryWatcher(start, ListWatch.from_client(configmaps), **FAST)
    seen: list[WatchEvent[Any]] = []
    reading = threading.Thread(target=lambda: seen.extend(watcher), name="reader")
    reading.start()
    try:
        eventually(lambda: watcher.resource_version == target, timeout=10)
        configmaps.create(configmap("after"))
        eventually(lambda: bool(seen), timeout=10)
    finally:
        watcher.stop()
        reading.join()
    assert [meta_name(e.object) for e in seen] == ["after"]
    watch_rvs = [
        parse_qs(urlsplit(path).query)["resourceVersion"][0]
        for _, path in server.requests
        if "watch=true" in path and "/configmaps" in path
    ]
    assert watch_rvs[:2] == [start, target]
    assert all("allowWatchBookmarks=true" in p for _, p in server.requests if "watch=true" in p)


def phase_is(value: str) -> Any:
    def condition(event: WatchEvent[Any]) -> bool:
        return event.type == "MODIFIED" and (event.object.get("data") or {}).get("phase") == value

    return condition


def has_phase(value: str) -> Any:
    """The object (added or modified) has reached ``value``."""

    def condition(event: WatchEvent[Any]) -> bool:
        return event.type != "DELETED" and (event.object.get("data") or {}).get("phase") == value

    return condition


def set_phases(client: DynamicResourceClient, name: str, *phases: str) -> threading.Thread:
    def run() -> None:
        for phase in phases:
            obj = client.get(name)
            obj["data"] = {"phase": phase}
            client.update(obj)

    thread = threading.Thread(target=run, name="phases")
    thread.start()
    return thread


def test_until_meets_conditions_in_order_and_times_out(
    configmaps: DynamicResourceClient,
) -> None:
    start = current_rv(configmaps)
    configmaps.create(configmap("job"))
    lw = ListWatch.from_client(configmaps)
    writer = set_phases(configmaps, "job", "pending", "running", "done")
    try:
        added = lambda e: e.type == "ADDED" and meta_name(e.object) == "job"  # noqa: E731
        last = until(start, lw, added, phase_is("running"), phase_is("done"), timeout=10)
    finally:
        writer.join()
    assert last is not None and last.object["data"] == {"phase": "done"}
    # The event that met a condition is offered to the next one first.
    again = until(start, lw, added, lambda e: e.type == "ADDED", timeout=10)
    assert again is not None and meta_name(again.object) == "job"
    assert until(start, lw, timeout=10) is None  # no conditions: nothing to wait for
    with pytest.raises(WaitTimeoutError) as caught:
        until(current_rv(configmaps), lw, phase_is("never"), timeout=0.2)
    assert caught.value.last_event is None
    with pytest.raises(ValueError):
        until("0", lw, added)


def test_until_without_retry_ends_with_the_watch(
    server: APIServer, configmaps: DynamicResourceClient
) -> None:
    start = current_rv(configmaps)
    configmaps.create(configmap("a"))
    configmaps.create(configmap("b"))
    server.faults.close_watch(1, resource="configmaps")
    with pytest.raises(WatchClosedError) as caught:
        until_without_retry(
            configmaps.watch(resource_version=start), lambda e: meta_name(e.object) == "b"
        )
    assert caught.value.last_event is not None and meta_name(caught.value.last_event.object) == "a"

    def fails(event: WatchEvent[Any]) -> bool:
        raise LookupError(meta_name(event.object))

    with pytest.raises(LookupError, match="a"):
        until_without_retry(configmaps.watch(resource_version=start), fails, timeout=10)


def test_until_with_sync_checks_the_precondition_on_the_synced_cache(
    configmaps: DynamicResourceClient,
) -> None:
    configmaps.create(configmap("ready", phase="done"))
    lw = ListWatch.from_client(configmaps)
    checked: list[list[str]] = []

    def already_done(store: Any) -> bool:
        checked.append(sorted(meta_name(o) for o in store.list()))
        return any((o.get("data") or {}).get("phase") == "done" for o in store.list())

    assert until_with_sync(lw, dict, already_done, phase_is("never"), timeout=10) is None
    assert checked == [["ready"]]
    # A precondition that does not hold leaves the conditions to the events, starting with
    # the initial list's ADDED events.
    configmaps.create(configmap("job"))
    writer = set_phases(configmaps, "job", "running", "done")
    try:
        first = until_with_sync(
            lw,
            dict,
            lambda store: False,
            lambda e: e.type == "ADDED" and meta_name(e.object) == "job",
            lambda e: meta_name(e.object) == "job" and has_phase("done")(e),
            timeout=10,
        )
    finally:
        writer.join()
    assert first is not None and first.object["data"] == {"phase": "done"}
    with pytest.raises(WaitTimeoutError):
        until_with_sync(lw, dict, None, phase_is("never"), timeout=0.3)


def test_until_with_sync_survives_expired_history(
    server: APIServer, dynamic: DynamicClient, configmaps: DynamicResourceClient
) -> None:
    configmaps.create(configmap("job"))
    lw = ListWatch.from_client(configmaps)
    # The informer's first watch is held by the server while another writer changes "job",
    # writes elsewhere and the history is compacted: the held watch then gets 410 and the
    # informer relists, the only way it can learn of the change.
    server.faults.delay(1.5, verb="watch", resource="configmaps")
    seen: list[tuple[str, str]] = []

    def record(event: WatchEvent[Any]) -> bool:
        seen.append((event.type, meta_name(event.object)))
        if len(seen) == 1:
            job = configmaps.get("job")
            job["data"] = {"phase": "done"}
            configmaps.update(job)
            dynamic.resource(NAMESPACES).create({"metadata": {"name": "elsewhere"}})
            server.compact()
        return has_phase("done")(event)

    def list_requests() -> int:
        return sum(
            "watch=true" not in path and path.split("?")[0].endswith("/configmaps")
            for _, path in server.requests
        )

    lists_before = list_requests()
    last = until_with_sync(lw, dict, None, record, timeout=15)
    assert last is not None and last.type == "MODIFIED" and last.object["data"] == {"phase": "done"}
    assert seen == [("ADDED", "job"), ("MODIFIED", "job")]
    assert list_requests() - lists_before == 2  # the first list, then the relist after the 410
    assert ("delay", "watch", "configmaps") in server.faults.fired
