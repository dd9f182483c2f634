"""DeltaFIFO (scenarios S30-S39)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from kgen.cache import (
    DeletedFinalStateUnknown,
    Delta,
    DeltaFIFO,
    Deltas,
    DeltaType,
    FIFOClosedError,
    Indexer,
    ObjectKeyError,
    RequeueError,
)

from .helpers import eventually

ADDED, UPDATED, DELETED = DeltaType.ADDED, DeltaType.UPDATED, DeltaType.DELETED
REPLACED, SYNC = DeltaType.REPLACED, DeltaType.SYNC


@dataclass(frozen=True)
class Obj:
    name: str
    val: int = 0


def key(obj: object) -> str:
    assert isinstance(obj, Obj)
    return obj.name


def known(*objs: Obj) -> Indexer[Obj]:
    indexer: Indexer[Obj] = Indexer(key_func=key)
    for o in objs:
        indexer.add(o)
    return indexer


def fifo(known_objects: Indexer[Obj] | None = None, **kwargs: object) -> DeltaFIFO:
    return DeltaFIFO(key_func=key, known_objects=known_objects, **kwargs)  # type: ignore[arg-type]


def pop(f: DeltaFIFO) -> Deltas:
    return f.pop(lambda deltas, initial: None)


def newest_val(deltas: Deltas) -> int:
    assert deltas.newest is not None
    obj = deltas.newest.object
    assert isinstance(obj, Obj)
    return obj.val


def shape(deltas: Deltas) -> list[tuple[DeltaType, object]]:
    return [(d.type, d.object) for d in deltas]


def test_add_update_delete_one_key_s30() -> None:
    f = fifo()
    f.add(Obj("foo", 10))
    f.update(Obj("foo", 12))
    f.delete(Obj("foo", 15))
    assert f.list_keys() == ["foo"]
    assert shape(pop(f)) == [
        (ADDED, Obj("foo", 10)),
        (UPDATED, Obj("foo", 12)),
        (DELETED, Obj("foo", 15)),
    ]
    assert len(f) == 0 and f.list() == []


def test_enqueueing_without_and_with_known_objects_s31() -> None:
    f = fifo()
    f.add(Obj("foo", 10))
    f.update(Obj("bar", 15))
    f.add(Obj("qux", 17))
    f.delete(Obj("qux", 18))
    f.delete(Obj("baz", 20))
    assert [newest_val(pop(f)) for _ in range(3)] == [10, 15, 18]
    assert len(f) == 0

    f = fifo(known(Obj("foo", 5), Obj("bar", 6), Obj("baz", 7)))
    f.add(Obj("foo", 10))
    f.update(Obj("bar", 15))
    f.delete(Obj("baz", 20))
    assert [newest_val(pop(f)) for _ in range(3)] == [10, 15, 20]
    assert len(f) == 0


def test_consecutive_deletes_dedup_s32() -> None:
    f = fifo(known(Obj("k", 0)))
    f.delete(Obj("k", 1))
    f.delete(Obj("k", 2))
    assert shape(pop(f)) == [(DELETED, Obj("k", 1))]

    f = fifo(known(Obj("k", 0)))
    f.replace([], "1")  # tombstone for the known key
    f.delete(Obj("k", 2))
    assert shape(pop(f)) == [(DELETED, Obj("k", 2))]

    f = fifo()
    f.add(Obj("k", 1))
    f.update(Obj("k", 2))
    f.update(Obj("k", 2))
    assert [d.type for d in pop(f)] == [ADDED, UPDATED, UPDATED]


@pytest.mark.parametrize("with_known", [False, True])
def test_replace_makes_deletions_for_objects_only_in_queue_s33(with_known: bool) -> None:
    foo, foo3 = Obj("foo", 2), Obj("foo", 3)
    tomb = DeletedFinalStateUnknown("foo", foo)

    def run(steps: list[str], emit_replaced: bool = False) -> list[tuple[DeltaType, object]]:
        f = fifo(known() if with_known else None, emit_delta_type_replaced=emit_replaced)
        for step in steps:
            if step == "add":
                f.add(foo)
            elif step == "add3":
                f.add(foo3)
            elif step == "delete":
                f.delete(foo)
            elif step == "replace-foo":
                f.replace([foo], "")
            else:
                f.replace([], "")
        result = shape(pop(f))
        assert len(f) == 0
        return result

    assert run(["add", "replace-none"]) == [(ADDED, foo), (DELETED, tomb)]
    assert run(["add", "replace-foo", "replace-none"], emit_replaced=True) == [
        (ADDED, foo),
        (REPLACED, foo),
        (DELETED, tomb),
    ]
    assert run(["add", "delete", "replace-none"]) == [(ADDED, foo), (DELETED, foo)]
    assert run(["add", "replace-foo", "replace-foo", "replace-none"]) == [
        (ADDED, foo),
        (SYNC, foo),
        (SYNC, foo),
        (DELETED, tomb),
    ]
    assert run(["add", "replace-none", "replace-none"]) == [(ADDED, foo), (DELETED, tomb)]
    assert run(["add", "delete", "add3", "replace-none"]) == [
        (ADDED, foo),
        (DELETED, foo),
        (ADDED, foo3),
        (DELETED, DeletedFinalStateUnknown("foo", foo3)),
    ]


def test_replace_with_known_objects_s34() -> None:
    f = fifo(known(Obj("foo", 5), Obj("bar", 6), Obj("baz", 7)))
    f.delete(Obj("baz", 10))
    f.replace([Obj("foo", 5)], "0")
    assert shape(pop(f)) == [(DELETED, Obj("baz", 10))]
    assert shape(pop(f)) == [(SYNC, Obj("foo", 5))]
    assert shape(pop(f)) == [(DELETED, DeletedFinalStateUnknown("bar", Obj("bar", 6)))]
    assert len(f) == 0

    old, new = Obj("foo", 1), Obj("foo", 2)
    f = fifo(known(old))
    f.delete(old)
    f.replace([new], "0")
    assert shape(pop(f)) == [(DELETED, old), (SYNC, new)]

    f = fifo(known(Obj("foo", 5)), emit_delta_type_replaced=True)
    f.replace([Obj("foo", 5)], "0")
    assert shape(pop(f)) == [(REPLACED, Obj("foo", 5))]


def test_resync_s35() -> None:
    f = fifo(known(Obj("foo", 5)))
    f.resync()
    assert shape(pop(f)) == [(SYNC, Obj("foo", 5))]

    f = fifo(known(Obj("foo", 5)))
    f.update(Obj("foo", 6))
    f.resync()
    assert shape(pop(f)) == [(UPDATED, Obj("foo", 6))]

    f = fifo(known(Obj("foo", 5)))
    f.delete(Obj("foo", 10))
    f.resync()
    assert shape(pop(f)) == [(DELETED, Obj("foo", 10))]
    assert len(f) == 0

    f = fifo()
    f.resync()  # nothing known: no-op
    assert len(f) == 0


def test_no_line_jumping_s36() -> None:
    f = fifo()
    for o in (Obj("foo", 10), Obj("bar", 1), Obj("foo", 11), Obj("foo", 13), Obj("zab", 30)):
        f.add(o)
    assert newest_val(pop(f)) == 13
    f.add(Obj("foo", 14))
    assert [newest_val(pop(f)) for _ in range(3)] == [1, 30, 14]


def test_has_synced_s37() -> None:
    f = fifo()
    assert not f.has_synced()
    f.add(Obj("a"))
    assert f.has_synced()

    f = fifo()
    f.replace([], "0")
    assert f.has_synced()

    f = fifo()
    f.replace([Obj("a"), Obj("b")], "0")
    assert not f.has_synced()
    pop(f)
    assert not f.has_synced()
    pop(f)
    assert f.has_synced()

    f = fifo()
    f.replace([Obj("a", 1), Obj("a", 2)], "0")
    pop(f)
    assert f.has_synced()

    f = fifo(known(Obj("foo"), Obj("bar"), Obj("baz")))
    f.replace([Obj("foo")], "0")
    flags: list[bool] = []
    for _ in range(3):
        assert not f.has_synced()
        f.pop(lambda deltas, initial: flags.append(initial))
    assert flags == [True, True, True]
    assert f.has_synced()


def test_transformer_runs_once_per_object_s38() -> None:
    counts: dict[int, int] = {}

    def transform(obj: object) -> object:
        counts[id(obj)] = counts.get(id(obj), 0) + 1
        return obj

    objs = [Obj("a", i) for i in range(6)]
    f = fifo(transform=transform)
    f.add(objs[0])
    f.add(objs[1])
    f.update(objs[2])
    f.delete(objs[3])
    f.replace([], "0")
    f.add(objs[4])
    f.replace([], "0")
    assert counts == {id(o): 1 for o in objs[:5]}
    deltas = pop(f)
    assert [d.type for d in deltas][-1] is DELETED
    assert isinstance(deltas[-1].object, DeletedFinalStateUnknown)

    k = known(objs[5])
    f = fifo(k, transform=transform)
    f.resync()  # Sync of an already stored object is not transformed again
    assert id(objs[5]) not in counts
    f.replace([objs[5]], "1")  # relisted objects are, even when emitted as Sync
    assert counts[id(objs[5])] == 1


def test_pop_unblocks_on_close_and_key_of_tombstone_s39() -> None:
    f = fifo()
    errors: list[BaseException] = []

    def waiter() -> None:
        try:
            pop(f)
        except FIFOClosedError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=waiter) for _ in range(10)]
    for t in threads:
        t.start()
    f.close()
    for t in threads:
        t.join(timeout=5)
    assert len(errors) == 10
    assert str(errors[0]) == "DeltaFIFO: manipulating with closed queue"
    assert f.closed
    assert f.key_of(Deltas([Delta(DELETED, DeletedFinalStateUnknown("D", None))])) == "D"
    with pytest.raises(ObjectKeyError, match="0 length Deltas object"):
        f.key_of(Deltas())


def test_pop_requeue_on_error() -> None:
    f = fifo()
    f.add(Obj("a", 1))

    def fail(deltas: Deltas, initial: bool) -> None:
        raise RequeueError(ValueError("try later"))

    with pytest.raises(ValueError, match="try later"):
        f.pop(fail)
    assert shape(f.get_by_key("a") or Deltas()) == [(ADDED, Obj("a", 1))]

    def boom(deltas: Deltas, initial: bool) -> None:
        raise RuntimeError("dropped")

    with pytest.raises(RuntimeError):
        f.pop(boom)
    assert len(f) == 0


def test_add_if_not_present_keeps_queued_state() -> None:
    f = fifo()
    f.add(Obj("a", 1))
    f.add_if_not_present(Deltas([Delta(ADDED, Obj("a", 0))]))
    assert newest_val(pop(f)) == 1
    f.add_if_not_present(Deltas([Delta(ADDED, Obj("b", 0))]))
    assert newest_val(pop(f)) == 0


def test_drain_pops_queued_keys_in_order_and_reports_each_failure() -> None:
    f = fifo()
    for name in "abcde":
        f.add(Obj(name))
    f.update(Obj("a", 1))
    seen: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def process(deltas: Deltas, initial: bool) -> None:
        assert deltas.newest is not None and isinstance(deltas.newest.object, Obj)
        name = deltas.newest.object.name
        seen.append((name, initial))
        if name == "b":
            raise RuntimeError("dropped b")
        if name == "c" and len(seen) < 5:
            raise RequeueError(ValueError("c later"))

    assert f.drain(process, errors.append, limit=4) == 4
    assert seen == [("a", False), ("b", False), ("c", False), ("d", False)]
    assert [str(e) for e in errors] == ["dropped b", "c later"]
    assert f.list_keys() == ["e", "c"]  # the requeued key waits for a later drain
    assert shape(f.get_by_key("a") or Deltas()) == []
    assert f.drain(process, errors.append) == 2
    assert [name for name, _ in seen[4:]] == ["e", "c"]
    assert len(f) == 0
    f.close()
    with pytest.raises(FIFOClosedError):
        f.drain(process, errors.append)


def test_drain_marks_initial_list_per_key_and_serves_a_waiting_consumer() -> None:
    f = fifo()
    f.replace([Obj("a"), Obj("b")])
    initial: list[bool] = []
    errors: list[BaseException] = []
    assert f.drain(lambda deltas, first: initial.append(first), errors.append) == 2
    assert initial == [True, True] and f.has_synced()
    popped: list[int] = []
    consumer = threading.Thread(
        target=lambda: popped.append(f.drain(lambda d, first: initial.append(first), errors.append))
    )
    consumer.start()
    f.add(Obj("c"))
    consumer.join(timeout=5)
    assert popped == [1] and initial[-1] is False and not errors


def test_drain_batch_hands_out_keys_with_their_deltas_and_the_initial_count() -> None:
    f = fifo(known(Obj("gone")))
    f.replace([Obj("a"), Obj("b"), Obj("c")])  # + an inferred deletion of "gone": 4 initial
    f.update(Obj("a", 1))
    f.add(Obj("d"))
    f.delete(Obj("d"))
    calls: list[tuple[list[tuple[str, list[tuple[DeltaType, object]]]], int]] = []

    def process(batch: object, initial: int) -> None:
        assert isinstance(batch, list)
        calls.append(([(key, list(deltas)) for key, deltas in batch], initial))

    assert f.drain_batch(process, limit=2) == 2
    assert f.drain_batch(process) == 3
    assert f.drain_batch_ready(process) == 0 and len(calls) == 2  # not called when empty
    (first, first_initial), (second, second_initial) = calls
    assert (first_initial, second_initial) == (2, 2) and f.has_synced()
    assert [key for key, _ in first + second] == ["a", "b", "c", "gone", "d"]
    assert first[0] == ("a", [(SYNC, Obj("a")), (UPDATED, Obj("a", 1))])
    assert second[1] == ("gone", [(DELETED, DeletedFinalStateUnknown("gone", Obj("gone")))])
    assert second[2] == ("d", [(ADDED, Obj("d")), (DELETED, Obj("d"))])
    assert all(isinstance(delta, tuple) for _, deltas in first + second for delta in deltas)
    f.close()
    with pytest.raises(FIFOClosedError):
        f.drain_batch(process)
    with pytest.raises(FIFOClosedError):
        f.drain_batch_ready(process)


def test_drain_batch_serves_a_waiting_consumer_and_pop_still_hands_out_deltas() -> None:
    f = fifo()
    popped: list[int] = []
    seen: list[tuple[str, int]] = []
    consumer = threading.Thread(
        target=lambda: popped.append(
            f.drain_batch(lambda batch, initial: seen.extend((k, initial) for k, _ in batch))
        )
    )
    consumer.start()
    f.add(Obj("a"))
    consumer.join(timeout=5)
    assert popped == [1] and seen == [("a", 0)]
    f.update(Obj("b", 2))
    deltas = pop(f)
    assert isinstance(deltas, Deltas) and deltas == Deltas([Delta(UPDATED, Obj("b", 2))])
    assert deltas.newest is not None and deltas.newest.type is UPDATED


def test_a_producer_hands_off_to_a_woken_consumer_once_enough_is_queued() -> None:
    # handoff_wait is long here so that the hand-off, not the scheduler, decides: once two keys
    # are queued for a consumer woken by the first, add() returns only after that consumer
    # drained (and processed: it holds the lock meanwhile) both.
    f = fifo(handoff_at=2, handoff_wait=60.0)
    seen: list[list[str]] = []
    consumer = threading.Thread(
        target=lambda: f.drain_batch(lambda batch, initial: seen.append([k for k, _ in batch]))
    )
    consumer.start()
    eventually(lambda: f._waiting == 1)  # blocked in drain_batch (no public way to tell)
    f.add(Obj("a"))
    f.add(Obj("b"))
    assert seen == [["a", "b"]]
    consumer.join(timeout=5)
    # No consumer woken (none waits): producers never wait, whatever is queued.
    for name in "cdef":
        f.add(Obj(name))
    assert f.list_keys() == ["c", "d", "e", "f"] and seen == [["a", "b"]]
    with pytest.raises(ValueError, match="must not be negative"):
        fifo(handoff_at=-1)


def test_a_hand_off_lasts_until_the_drain_is_processed_and_not_past_it() -> None:
    f = fifo(handoff_at=1, handoff_wait=60.0)
    gate = threading.Event()
    started = threading.Event()

    def process(batch: object, initial: int) -> None:
        started.set()
        gate.wait(10)

    consumer = threading.Thread(target=lambda: f.drain_batch(process))
    consumer.start()
    eventually(lambda: f._waiting == 1)
    producer = threading.Thread(target=lambda: (f.add(Obj("a")), f.add(Obj("b"))))
    producer.start()
    assert started.wait(10)  # the first add handed off: the consumer drained "a"
    gate.set()
    producer.join(timeout=10)
    assert not producer.is_alive() and f.list_keys() == ["b"]  # nobody woken: no second wait
    consumer.join(timeout=5)
