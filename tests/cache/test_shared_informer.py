"""SharedIndexInformer and handlers (scenarios S49-S54), over a scripted ListerWatcher."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

from kgen.cache import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    FilteringResourceEventHandler,
    InformerStateError,
    Lister,
    ResourceEventHandlerDetailedFuncs,
    ResourceEventHandlerFuncs,
    SharedIndexInformer,
    drop_managed_fields,
    meta_namespace_index_func,
    wait_for_cache_sync,
)
from kgen.clock import FakeClock
from kgen.meta import UNSET, ManagedFieldsEntry, ObjectMeta, meta_name, meta_resource_version

from .helpers import CountingBackoff, eventually
from .objects import Pod, pod
from .scripted import ScriptedListerWatcher, pod_list

T = TypeVar("T")


class Recorder:
    """A handler that records what it receives as (kind, name, rv) tuples."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str, str]] = []
        self.objects: list[Any] = []
        self.initial_flags: list[bool] = []

    def _record(self, kind: str, obj: Any) -> None:
        target = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        with self.lock:
            self.events.append((kind, meta_name(target), meta_resource_version(target)))
            self.objects.append(obj)

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        with self.lock:
            self.initial_flags.append(is_in_initial_list)
        self._record("add", obj)

    def on_update(self, old: Any, new: Any) -> None:
        self._record("update", new)

    def on_delete(self, obj: Any) -> None:
        self._record("delete", obj)

    def count(self) -> int:
        with self.lock:
            return len(self.events)

    def snapshot(self) -> list[tuple[str, str, str]]:
        with self.lock:
            return list(self.events)


def informer(lw: ScriptedListerWatcher, **kwargs: Any) -> SharedIndexInformer[Pod]:
    kwargs.setdefault("backoff", CountingBackoff())
    return SharedIndexInformer(lw, Pod, name="pods", **kwargs)


@contextmanager
def started(inf: SharedIndexInformer[T]) -> Iterator[SharedIndexInformer[T]]:
    inf.start()
    try:
        yield inf
    finally:
        inf.stop()


def test_add_while_active_s49() -> None:
    lw = ScriptedListerWatcher([pod_list("1")])
    inf = informer(lw)
    first = Recorder()
    reg1 = inf.add_event_handler(first)
    with started(inf):
        w = lw.next_watch()
        assert wait_for_cache_sync(inf.has_synced, timeout=5)
        w.send("ADDED", pod("pod1", rv="2"))
        eventually(lambda: first.count() == 1)
        assert first.snapshot() == [("add", "pod1", "2")]
        assert reg1.has_synced()

        release = threading.Event()
        second = Recorder()

        def slow_add(obj: Any, initial: bool) -> None:
            release.wait(5)
            second.on_add(obj, initial)

        reg2 = inf.add_event_handler(
            ResourceEventHandlerDetailedFuncs(add_func=slow_add, update_func=second.on_update)
        )
        assert not reg2.has_synced()
        w.send("ADDED", pod("pod2", rv="3"))
        eventually(lambda: first.count() == 2)
        assert not reg2.has_synced()
        release.set()
        eventually(lambda: second.count() == 2)
        assert second.snapshot() == [("add", "pod1", "2"), ("add", "pod2", "3")]
        assert second.initial_flags == [True, False]
        eventually(reg2.has_synced)


def test_resync_check_period_s50() -> None:
    inf = informer(ScriptedListerWatcher(), resync_period=12 * 3600)
    periods = []
    regs = []
    for requested in (0, 60, 55, 5):
        regs.append(inf.add_event_handler(Recorder(), resync_period=requested))
        periods.append(inf.resync_check_period)
    assert periods == [12 * 3600, 60, 55, 5]
    assert [r.resync_period for r in regs] == [0, 60, 55, 5]
    # Below the minimum is raised to one second.
    assert inf.add_event_handler(Recorder(), resync_period=0.2).resync_period == 1.0
    inf.stop()


def test_listener_resync_periods_s51() -> None:
    clock = FakeClock()
    lw = ScriptedListerWatcher([pod_list("1", pod("pod1", rv="1"), pod("pod2", rv="1"))])
    inf = informer(lw, resync_period=1.0, clock=clock)
    never, every2, every3 = Recorder(), Recorder(), Recorder()
    inf.add_event_handler(never, resync_period=0)
    inf.add_event_handler(every2, resync_period=2)
    inf.add_event_handler(every3, resync_period=3)
    adds = [("add", "pod1", "1"), ("add", "pod2", "1")]
    resyncs = [("update", "pod1", "1"), ("update", "pod2", "1")]

    def tick() -> None:
        before = clock.wait_calls()
        clock.step(1.0)
        eventually(lambda: clock.wait_calls() > before)

    with started(inf):
        w = lw.next_watch()
        for rec in (never, every2, every3):
            eventually(lambda rec=rec: rec.count() == 2)  # type: ignore[misc]
            assert sorted(rec.snapshot()) == adds
        eventually(lambda: clock.wait_calls() >= 1)
        tick()  # t=1: nobody is due
        w.send("MODIFIED", pod("pod1", rv="1"))  # same RV, nobody due: delivered to none
        w.send("MODIFIED", pod("pod2", rv="7"))  # a real change: delivered to all
        for rec in (never, every2, every3):
            eventually(lambda rec=rec: rec.count() == 3)  # type: ignore[misc]
            assert rec.snapshot()[-1] == ("update", "pod2", "7")
        tick()  # t=2: only the 2 s handler
        eventually(lambda: every2.count() == 5)
        assert sorted(every2.snapshot()[3:]) == [("update", "pod1", "1"), ("update", "pod2", "7")]
        assert every3.count() == 3 and never.count() == 3
        tick()  # t=3: only the 3 s handler
        eventually(lambda: every3.count() == 5)
        assert every2.count() == 5 and never.count() == 3
    assert resyncs[0] in every3.snapshot()


def test_state_errors_and_remove_handler_s52() -> None:
    lw = ScriptedListerWatcher([pod_list("1")])
    inf = informer(lw)
    rec = Recorder()
    reg = inf.add_event_handler(rec)
    with started(inf):
        w = lw.next_watch()
        with pytest.raises(InformerStateError, match="informer has already started"):
            inf.set_transform(lambda obj: obj)
        with pytest.raises(InformerStateError, match="informer has already started"):
            inf.set_watch_error_handler(lambda r, e: None)
        w.send("ADDED", pod("a", rv="2"))
        eventually(lambda: rec.count() == 1)
        inf.remove_event_handler(reg, wait=True)
        inf.remove_event_handler(reg)
        w.send("ADDED", pod("b", rv="3"))
        eventually(lambda: "default/b" in inf.get_indexer())
    assert rec.snapshot() == [("add", "a", "2")]
    with pytest.raises(InformerStateError, match="stopped already"):
        inf.add_event_handler(Recorder())
    with pytest.raises(InformerStateError, match="stopped already"):
        inf.add_indexers({"x": lambda obj: []})


def test_relist_replace_events_s53() -> None:
    first = pod_list(
        "3",
        pod("pod-1", rv="1"),
        pod("pod-2", rv="2", labels={"ver": "1"}),
        pod("pod-3", rv="3"),
    )
    second = pod_list(
        "6",
        pod("pod-1", rv="4"),
        pod("pod-2", rv="5", labels={"ver": "2"}),
        pod("pod-4", rv="6"),
    )
    lw = ScriptedListerWatcher([first, second, pod_list("7")])
    inf = informer(lw)
    rec = Recorder()
    inf.add_event_handler(rec)
    with started(inf):
        lw.next_watch().error(410, "Expired")
        eventually(lambda: rec.count() == 7)
        relist = rec.snapshot()[3:]
        assert sorted(relist) == [
            ("add", "pod-4", "6"),
            ("delete", "pod-3", "3"),
            ("update", "pod-1", "4"),
            ("update", "pod-2", "5"),
        ]
        tombstone = rec.objects[relist.index(("delete", "pod-3", "3")) + 3]
        assert isinstance(tombstone, DeletedFinalStateUnknown)
        assert tombstone.key == "default/pod-3"
        assert sorted(inf.get_indexer().list_keys()) == [
            "default/pod-1",
            "default/pod-2",
            "default/pod-4",
        ]
        lw.next_watch().error(410, "Expired")
        eventually(lambda: rec.count() == 10)
        assert sorted(k for k, _, _ in rec.snapshot()[7:]) == ["delete"] * 3
        assert inf.get_indexer().list_keys() == []
        lw.next_watch()


def test_filtering_handler_s54() -> None:
    rec = Recorder()
    handler = FilteringResourceEventHandler(
        lambda obj: (obj.metadata.labels or {}).get("x") == "1", rec
    )
    with_x, without = pod("p", rv="2", labels={"x": "1"}), pod("p", rv="1")
    handler.on_update(without, with_x)
    handler.on_update(with_x, without)
    handler.on_update(without, without)
    handler.on_update(with_x, with_x)
    handler.on_add(without, False)
    handler.on_delete(without)
    handler.on_delete(with_x)
    assert rec.snapshot() == [
        ("add", "p", "2"),
        ("delete", "p", "2"),
        ("update", "p", "2"),
        ("delete", "p", "2"),
    ]
    assert rec.initial_flags == [False]


def test_handler_funcs_call_only_given_functions() -> None:
    added: list[str] = []
    funcs = ResourceEventHandlerFuncs(add_func=lambda obj: added.append(meta_name(obj)))
    funcs.on_add(pod("a"), True)
    funcs.on_update(pod("a"), pod("a"))
    funcs.on_delete(pod("a"))
    assert added == ["a"]


def test_transform_drops_managed_fields() -> None:
    heavy = Pod(
        metadata=ObjectMeta(
            name="a",
            namespace="default",
            resource_version="1",
            managed_fields=(ManagedFieldsEntry(manager="kubectl"),),
        )
    )
    lw = ScriptedListerWatcher([pod_list("1", heavy)])
    inf = informer(lw)
    seen = Recorder()
    inf.add_event_handler(seen)

    inf.set_transform(drop_managed_fields)
    with started(inf):
        w = lw.next_watch()
        w.send("MODIFIED", Pod(metadata=heavy.metadata))
        eventually(lambda: seen.count() == 2)
        cached = inf.get_indexer().get_by_key("default/a")
        assert cached is not None and cached.metadata.managed_fields is UNSET
    assert all(o.metadata.managed_fields is UNSET for o in seen.objects)


def test_slow_handler_blocks_neither_cache_nor_other_handlers() -> None:
    lw = ScriptedListerWatcher([pod_list("1")])
    inf = informer(lw)
    gate = threading.Event()
    slow_seen: list[str] = []

    def slow(obj: Any, initial: bool) -> None:
        gate.wait(10)
        slow_seen.append(meta_name(obj))

    fast = Recorder()
    inf.add_event_handler(ResourceEventHandlerDetailedFuncs(add_func=slow))
    inf.add_event_handler(fast)
    with started(inf):
        w = lw.next_watch()
        for i in range(200):
            w.send("ADDED", pod(f"p{i}", rv=str(i + 2)))
        eventually(lambda: fast.count() == 200)
        eventually(lambda: len(inf.get_indexer()) == 200)
        assert slow_seen == []
        gate.set()
        eventually(lambda: len(slow_seen) == 200)
    assert slow_seen == [f"p{i}" for i in range(200)]


def test_failing_handler_does_not_stop_delivery() -> None:
    lw = ScriptedListerWatcher([pod_list("1")])
    inf = informer(lw)
    got: list[str] = []

    def flaky(obj: Any) -> None:
        got.append(meta_name(obj))
        if meta_name(obj) == "bad":
            raise RuntimeError("handler bug")

    inf.add_event_handler(ResourceEventHandlerFuncs(add_func=flaky))
    with started(inf):
        w = lw.next_watch()
        w.send("ADDED", pod("bad", rv="2"))
        w.send("ADDED", pod("good", rv="3"))
        eventually(lambda: got == ["bad", "good"])


def test_a_key_whose_cache_write_fails_is_skipped_and_the_rest_of_its_batch_applied() -> None:
    # One list is one batch for the processing thread: "bad" fails its index function, the
    # keys around it are cached and notified, in order, and "bad" neither (nor its update).
    def by_owner(obj: object) -> list[str]:
        if meta_name(obj) == "bad":
            raise ValueError("no owner")
        return ["owner"]

    lw = ScriptedListerWatcher(
        [pod_list("3", pod("a", rv="1"), pod("bad", rv="2"), pod("c", rv="3"))]
    )
    inf = informer(lw, indexers={NAMESPACE_INDEX: meta_namespace_index_func, "owner": by_owner})
    rec = Recorder()
    inf.add_event_handler(rec)
    with started(inf):
        eventually(lambda: rec.count() == 2)
        w = lw.next_watch()
        w.send("MODIFIED", pod("bad", rv="4"))
        w.send("MODIFIED", pod("a", rv="5"))
        eventually(lambda: rec.count() == 3)
        assert rec.events == [("add", "a", "1"), ("add", "c", "3"), ("update", "a", "5")]
        assert rec.initial_flags == [True, True]
        assert sorted(inf.get_indexer().list_keys()) == ["default/a", "default/c"]
        assert len(inf.get_indexer().by_index("owner", "owner")) == 2


def test_has_synced_and_wait_for_cache_sync() -> None:
    lw = ScriptedListerWatcher([pod_list("4", pod("a", rv="4"))])
    inf = informer(lw)
    assert not inf.has_synced()
    assert inf.last_sync_resource_version() == ""
    assert not wait_for_cache_sync(inf.has_synced, timeout=0.01)
    stop = threading.Event()
    stop.set()
    assert not wait_for_cache_sync(inf.has_synced, stop=stop)
    with started(inf):
        assert wait_for_cache_sync(inf.has_synced, timeout=5)
        assert inf.get_store().list_keys() == ["default/a"]
        eventually(lambda: inf.last_sync_resource_version() == "4")
        inf.start()  # a second start is ignored
    assert inf.is_stopped


def test_drop_managed_fields_on_dicts_and_models() -> None:
    entry = {"manager": "kubectl"}
    raw = {"metadata": {"name": "a", "managedFields": [entry]}, "spec": {}}
    trimmed = drop_managed_fields(raw)
    assert trimmed == {"metadata": {"name": "a"}, "spec": {}}
    assert raw["metadata"]["managedFields"] == [entry]  # the input is not mutated
    assert drop_managed_fields(trimmed) is trimmed
    plain = pod("p")
    assert drop_managed_fields(plain) is plain
    assert drop_managed_fields("not an object") == "not an object"


def test_unstructured_objects_and_their_lister() -> None:
    unstructured: Any = {
        "metadata": {"resourceVersion": "3"},
        "items": [{"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "web"}}}],
    }
    lw = ScriptedListerWatcher([unstructured])
    inf: SharedIndexInformer[dict[str, Any]] = SharedIndexInformer(
        lw, dict, indexers={NAMESPACE_INDEX: meta_namespace_index_func}, backoff=CountingBackoff()
    )
    rec = Recorder()
    inf.add_event_handler(rec)
    with started(inf):
        w = lw.next_watch()
        assert w.options.resource_version == "3"
        w.send("ADDED", {"metadata": {"name": "b", "namespace": "ns", "resourceVersion": "4"}})
        w.send("DELETED", {"metadata": {"name": "a", "namespace": "ns", "resourceVersion": "5"}})
        eventually(lambda: rec.count() == 3)
    assert rec.snapshot() == [("add", "a", ""), ("add", "b", "4"), ("delete", "a", "5")]
    lister = Lister(inf.get_indexer(), "widget", "example.com")
    assert [meta_name(o) for o in lister.namespace("ns").list()] == ["b"]
    assert lister.namespace("ns").list("app=web") == []
