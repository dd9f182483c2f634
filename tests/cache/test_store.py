"""Keys, ThreadSafeStore and Indexer (scenarios S26-S29)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from kgen.cache import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    ExplicitKey,
    IndexConflictError,
    Indexer,
    ObjectKeyError,
    ThreadSafeStore,
    UnknownIndexError,
    deletion_handling_meta_namespace_key,
    meta_namespace_index_func,
    meta_namespace_key,
    split_meta_namespace_key,
)
from kgen.meta import UNSET, ObjectMeta

from .objects import Pod, pod


def test_keys_s26() -> None:
    assert meta_namespace_key(pod("x", namespace="a")) == "a/x"
    assert meta_namespace_key(pod("y", namespace="")) == "y"
    assert meta_namespace_key({"metadata": {"namespace": "a", "name": "x"}}) == "a/x"
    assert meta_namespace_key(ExplicitKey("any/thing")) == "any/thing"
    assert split_meta_namespace_key("a/x") == ("a", "x")
    assert split_meta_namespace_key("y") == ("", "y")
    with pytest.raises(ValueError, match='unexpected key format: "a/b/c"'):
        split_meta_namespace_key("a/b/c")
    with pytest.raises(ObjectKeyError, match="object has no meta"):
        meta_namespace_key({"spec": {}})
    with pytest.raises(ObjectKeyError, match="object has no meta"):
        meta_namespace_key(42)


def test_deletion_handling_key_uses_tombstone_key() -> None:
    tombstone = DeletedFinalStateUnknown("ns/gone", None)
    assert deletion_handling_meta_namespace_key(tombstone) == "ns/gone"
    assert deletion_handling_meta_namespace_key(pod("p", namespace="ns")) == "ns/p"


def label_index(obj: object) -> Sequence[str]:
    assert isinstance(obj, Pod)
    labels = obj.metadata.labels or {}
    assert isinstance(labels, dict)
    return [labels["foo"]] if "foo" in labels else []


def users_index(obj: object) -> Sequence[str]:
    assert isinstance(obj, Pod)
    annotations = obj.metadata.annotations or {}
    assert isinstance(annotations, dict)
    return annotations["users"].split(",") if "users" in annotations else []


def test_list_index_func_values_s27() -> None:
    indexer: Indexer[Pod] = Indexer(indexers={"testmodes": label_index})
    indexer.add(pod("one", labels={"foo": "bar"}))
    indexer.add(pod("two", labels={"foo": "bar"}))
    indexer.add(pod("tre", labels={"foo": "biz"}))
    assert sorted(indexer.list_index_func_values("testmodes")) == ["bar", "biz"]
    assert indexer.list_index_func_values("nope") == []


def names(objs: Sequence[Pod]) -> set[str]:
    return {o.metadata.name for o in objs if isinstance(o.metadata.name, str)}


def test_multi_index_keys_s28() -> None:
    indexer: Indexer[Pod] = Indexer(indexers={"byUser": users_index})
    one = pod("one", annotations={"users": "ernie,bert"})
    two = pod("two", annotations={"users": "bert,oscar"})
    tre = pod("tre", annotations={"users": "ernie,elmo"})
    for p in (one, two, tre):
        indexer.add(p)
    expected = {
        "ernie": {"one", "tre"},
        "bert": {"one", "two"},
        "elmo": {"tre"},
        "oscar": {"two"},
        "elmo1": set(),
    }
    for user, want in expected.items():
        assert names(indexer.by_index("byUser", user)) == want
        assert indexer.index_keys("byUser", user) == sorted(f"default/{n}" for n in want)
    indexer.delete(tre)
    assert names(indexer.by_index("byUser", "ernie")) == {"one"}
    assert names(indexer.by_index("byUser", "elmo")) == set()
    indexer.update(pod("two", annotations={"users": "oscar"}))
    assert names(indexer.by_index("byUser", "bert")) == {"one"}
    assert names(indexer.index("byUser", pod("q", annotations={"users": "ernie,oscar"}))) == {
        "one",
        "two",
    }


def test_index_bookkeeping_s29() -> None:
    store: ThreadSafeStore[str] = ThreadSafeStore({"single": lambda obj: ["testKey"]})
    store.add("key1", "obj")
    assert store.list_index_func_values("single") == ["testKey"]
    store.delete("key1")
    assert store.list_index_func_values("single") == []
    store.delete("key1")  # missing key: no-op
    with pytest.raises(UnknownIndexError, match="Index with name missing does not exist"):
        store.by_index("missing", "v")
    with pytest.raises(UnknownIndexError):
        store.index_keys("missing", "v")
    with pytest.raises(IndexConflictError, match="indexer conflict: single"):
        store.add_indexers({"single": lambda obj: []})


def test_add_indexers_on_populated_store_indexes_existing_items() -> None:
    indexer: Indexer[Pod] = Indexer()
    indexer.add(pod("a", namespace="ns1"))
    indexer.add(pod("b", namespace="ns2"))
    indexer.add_indexers({NAMESPACE_INDEX: meta_namespace_index_func})
    assert names(indexer.by_index(NAMESPACE_INDEX, "ns1")) == {"a"}
    assert set(indexer.get_indexers()) == {NAMESPACE_INDEX}


def test_replace_rebuilds_indices_and_get() -> None:
    indexer: Indexer[Pod] = Indexer(indexers={NAMESPACE_INDEX: meta_namespace_index_func})
    indexer.add(pod("old", namespace="ns1"))
    indexer.replace([pod("a", namespace="ns2"), pod("b", namespace="ns2")], "7")
    assert indexer.list_index_func_values(NAMESPACE_INDEX) == ["ns2"]
    assert sorted(indexer.list_keys()) == ["ns2/a", "ns2/b"]
    assert indexer.get_by_key("ns1/old") is None
    got = indexer.get(pod("a", namespace="ns2"))
    assert got is not None and got.metadata.name == "a"
    assert len(indexer) == 2 and "ns2/b" in indexer


def test_failing_index_func_leaves_store_unchanged() -> None:
    def picky(obj: object) -> Sequence[str]:
        if obj == "bad":
            raise RuntimeError("cannot index")
        return [str(obj)]

    store: ThreadSafeStore[str] = ThreadSafeStore({"picky": picky})
    store.add("k", "good")
    with pytest.raises(RuntimeError):
        store.update("k", "bad")
    assert store.get("k") == "good"
    assert store.by_index("picky", "good") == ["good"]


def test_indexer_transform_applies_on_writes() -> None:
    def strip(obj: object) -> object:
        assert isinstance(obj, Pod)
        return Pod(metadata=ObjectMeta(name=obj.metadata.name, namespace=obj.metadata.namespace))

    indexer: Indexer[Pod] = Indexer(transform=strip)
    indexer.add(pod("a", labels={"x": "1"}))
    stored = indexer.get_by_key("default/a")
    assert stored is not None
    assert stored.metadata.labels is UNSET


def test_concurrent_readers_and_writer_see_consistent_indices() -> None:
    indexer: Indexer[Pod] = Indexer(indexers={"testmodes": label_index})
    stop = threading.Event()
    problems: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            for value in indexer.list_index_func_values("testmodes"):
                for obj in indexer.by_index("testmodes", value):
                    if label_index(obj) != [value]:
                        problems.append(f"{obj.metadata.name} under {value}")

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for i in range(3000):
            indexer.update(pod(f"p{i % 50}", labels={"foo": f"v{i % 7}"}))
            if i % 11 == 0:
                indexer.delete(pod(f"p{i % 50}"))
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert problems == []
    for value in indexer.list_index_func_values("testmodes"):
        assert indexer.by_index("testmodes", value)
