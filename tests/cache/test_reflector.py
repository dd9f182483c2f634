"""Reflector (scenarios S40-S48), driven by a scripted ListerWatcher."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from kgen.cache import (
    Backoff,
    DeltaFIFO,
    DeltaType,
    Indexer,
    ListFailedError,
    Reflector,
)
from kgen.clock import FakeClock
from kgen.meta import ObjectMeta, StatusCause, meta_resource_version

from .helpers import CountingBackoff, eventually, running
from .objects import Pod, PodList, Service, pod
from .scripted import ScriptedListerWatcher, bookmark, pod_list, status_error


def rvs_of(store: Indexer[Any]) -> dict[str, str]:
    return {key: meta_resource_version(store.get_by_key(key)) for key in store.list_keys()}


def reflector(lw: ScriptedListerWatcher, store: Any, **kwargs: Any) -> Reflector:
    kwargs.setdefault("backoff", CountingBackoff())
    return Reflector(lw, store, name="pods", expected_type=Pod, **kwargs)


def test_list_then_watch_s40() -> None:
    lw = ScriptedListerWatcher([pod_list("1", pod("foo", rv="1"))])
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store)) as r:
        w = lw.next_watch()
        w.send("MODIFIED", pod("foo", rv="2"))
        for i, name in enumerate(["bar", "baz", "qux", "zoo"], start=3):
            w.send("ADDED", pod(name, rv=str(i)))
        eventually(lambda: r.last_sync_resource_version() == "6")
    assert lw.list_calls[0].resource_version == "0"
    assert lw.list_calls[0].limit == 500
    opts = w.options
    assert (opts.resource_version, opts.allow_watch_bookmarks) == ("1", True)
    assert opts.timeout_seconds is not None and 300 <= opts.timeout_seconds <= 600
    assert rvs_of(store) == {
        "default/foo": "2",
        "default/bar": "3",
        "default/baz": "4",
        "default/qux": "5",
        "default/zoo": "6",
    }
    assert w.stopped


def test_watch_handler_s41() -> None:
    lw = ScriptedListerWatcher([pod_list("1", pod("foo", rv="1"), pod("bar", rv="1"))])
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store)) as r:
        w = lw.next_watch()
        w.send("ADDED", Service(metadata=ObjectMeta(name="rejected", namespace="default")))
        w.send("DELETED", pod("foo", rv="1"))
        w.send("MODIFIED", pod("bar", rv="55"))
        w.send("ADDED", pod("baz", rv="32"))
        eventually(lambda: "default/baz" in store)
        assert r.last_sync_resource_version() == "32"
    assert rvs_of(store) == {"default/bar": "55", "default/baz": "32"}


def test_bookmark_moves_resource_version_only() -> None:
    lw = ScriptedListerWatcher([pod_list("1", pod("foo", rv="1"))])
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store)) as r:
        w = lw.next_watch()
        w.send("BOOKMARK", bookmark("77"))
        eventually(lambda: r.last_sync_resource_version() == "77")
    assert rvs_of(store) == {"default/foo": "1"}


def expire(lw: ScriptedListerWatcher) -> None:
    """Expire the current watch with a 410 ERROR event."""
    lw.next_watch().error(410, "Expired", "too old resource version")


def test_relist_uses_last_resource_version_s42() -> None:
    four = [pod(f"p{i}", rv="10") for i in range(4)]
    eight = [pod(f"p{i}", rv="11") for i in range(8)]
    lw = ScriptedListerWatcher([pod_list("10", *four), pod_list("11", *eight)])
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store)):
        expire(lw)
        lw.next_watch()
    assert [o.resource_version for o in lw.list_calls] == ["0", "10"]
    assert len(store) == 8


def test_expired_exact_resource_version_s42() -> None:
    lw = ScriptedListerWatcher(
        [
            pod_list("10", pod("a", rv="10")),
            status_error(410, "Expired"),
            pod_list("12", pod("b", rv="12")),
        ]
    )
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store)):
        expire(lw)
        w = lw.next_watch()
    assert [o.resource_version for o in lw.list_calls] == ["0", "10", ""]
    assert rvs_of(store) == {"default/b": "12"}
    assert w.options.resource_version == "12"


def test_full_list_if_continuation_expired_s43() -> None:
    lw = ScriptedListerWatcher(
        [
            pod_list("10", pod("a", rv="10")),
            pod_list("10", pod("a", rv="10"), continue_="next"),
            status_error(410, "Expired"),
            pod_list("10", pod("a", rv="10"), pod("b", rv="10")),
        ]
    )
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store, page_size=4)):
        expire(lw)
        lw.next_watch()
    assert [o.resource_version for o in lw.list_calls] == ["0", "10", "", "10"]
    assert [o.limit for o in lw.list_calls] == [4, 4, 4, 0]
    assert lw.list_calls[2].continue_ == "next"
    assert len(store) == 2


def test_paginated_list_collects_every_page() -> None:
    lw = ScriptedListerWatcher(
        [
            pod_list("5", pod("a"), continue_="c1"),
            pod_list("5", pod("b"), continue_="c2"),
            pod_list("5", pod("c")),
        ]
    )
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store)) as r:
        lw.next_watch()
        assert r.last_sync_resource_version() == "5"
    assert sorted(store.list_keys()) == ["default/a", "default/b", "default/c"]
    assert [(o.continue_, o.resource_version) for o in lw.list_calls] == [
        ("", "0"),
        ("c1", ""),
        ("c2", ""),
    ]


def test_full_list_if_too_large_s44() -> None:
    rv_too_large = "Too large resource version"
    shapes = [
        status_error(504, "Timeout", causes=[StatusCause(reason="ResourceVersionTooLarge")]),
        status_error(504, "Timeout", causes=[StatusCause(message=rv_too_large)]),
        status_error(504, "Timeout", message=rv_too_large),
        # the cause counts under any reason
        status_error(500, "InternalError", causes=[StatusCause(reason="ResourceVersionTooLarge")]),
    ]
    script: list[PodList | BaseException] = [pod_list("20")]
    for shape, rv in zip(shapes, ["30", "40", "50", "60"], strict=True):
        script += [shape, pod_list(rv)]
    lw = ScriptedListerWatcher(script)
    with running(reflector(lw, Indexer())):
        for _ in shapes:
            expire(lw)
        lw.next_watch()
    assert [o.resource_version for o in lw.list_calls] == [
        "0",
        "20",
        "",
        "30",
        "",
        "40",
        "",
        "50",
        "",
    ]


def test_no_relist_on_too_many_requests_s45() -> None:
    throttled = [status_error(429, "TooManyRequests") for _ in range(4)]
    lw = ScriptedListerWatcher([pod_list("1")], watch_errors=throttled)
    backoff = CountingBackoff()
    with running(reflector(lw, Indexer(), backoff=backoff)):
        lw.next_watch()
    assert len(lw.list_calls) == 1
    assert len(lw.watch_calls) == 5
    assert backoff.calls == 4


def test_connection_refused_watch_is_retried_without_relist() -> None:
    refused = RuntimeError("cannot connect")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    lw = ScriptedListerWatcher([pod_list("1")], watch_errors=[refused])
    with running(reflector(lw, Indexer())):
        lw.next_watch()
    assert (len(lw.list_calls), len(lw.watch_calls)) == (1, 2)


@pytest.mark.parametrize(
    ("min_timeout", "low", "high"), [(0.0, 300, 600), (1.0, 300, 600), (1800.0, 1800, 3600)]
)
def test_watch_timeout_s46(min_timeout: float, low: int, high: int) -> None:
    for seed in range(5):
        lw = ScriptedListerWatcher()
        r = reflector(lw, Indexer(), min_watch_timeout=min_timeout, rand=random.Random(seed))
        with running(r):
            timeout = lw.next_watch().options.timeout_seconds
        assert timeout is not None and low <= timeout <= high


def test_expired_watch_relists_at_last_rv_then_empty_s47() -> None:
    lw = ScriptedListerWatcher(
        [pod_list("3"), status_error(410, "Gone"), pod_list("9")],
    )
    backoff = CountingBackoff()
    with running(reflector(lw, Indexer(), backoff=backoff)) as r:
        w = lw.next_watch()
        w.send("MODIFIED", pod("x", rv="5"))
        w.error(410, "Expired", "too old")
        lw.next_watch()
        assert r.last_sync_resource_version() == "9"
    assert [o.resource_version for o in lw.list_calls] == ["0", "5", ""]
    # The page size is decided once per list (0 at a specific version) and kept for the retry.
    assert [o.limit for o in lw.list_calls] == [500, 0, 0]
    assert backoff.calls >= 1


def test_backoff_sequence_s48() -> None:
    clock = FakeClock()
    flat = Backoff(jitter=0.0, clock=clock)
    delays = [flat.next_delay() for _ in range(8)]
    assert delays == pytest.approx([0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0])
    clock.step(121)
    assert flat.next_delay() == pytest.approx(0.8)

    jittered = Backoff(clock=FakeClock(), rand=random.Random(7))
    for base in [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0]:
        delay = jittered.next_delay()
        assert base <= delay < 2 * base


def test_very_short_watch_relists() -> None:
    lw = ScriptedListerWatcher([pod_list("1"), pod_list("2")])
    with running(reflector(lw, Indexer())) as r:
        lw.next_watch().end()
        lw.next_watch()
        assert r.last_sync_resource_version() == "2"
    assert [o.resource_version for o in lw.list_calls] == ["0", "1"]


def test_normal_watch_end_rewatches_without_relist() -> None:
    lw = ScriptedListerWatcher([pod_list("1")])
    with running(reflector(lw, Indexer())):
        w = lw.next_watch()
        w.send("ADDED", pod("a", rv="4"))
        w.end()
        second = lw.next_watch()
    assert len(lw.list_calls) == 1
    assert second.options.resource_version == "4"


def test_watch_error_handler_sees_list_failures() -> None:
    seen: list[BaseException] = []
    done = threading.Event()

    def handler(r: Reflector, err: BaseException) -> None:
        seen.append(err)
        done.set()

    lw = ScriptedListerWatcher([status_error(500, "InternalError", "boom"), pod_list("1")])
    with running(reflector(lw, Indexer(), watch_error_handler=handler)):
        lw.next_watch()
    assert done.is_set()
    assert isinstance(seen[0], ListFailedError)
    assert "failed to list pods: boom" in str(seen[0])


def test_failing_watch_error_handler_does_not_stop_the_reflector() -> None:
    def handler(r: Reflector, err: BaseException) -> None:
        raise RuntimeError("handler bug")

    lw = ScriptedListerWatcher([status_error(500, "InternalError"), pod_list("1")])
    with running(reflector(lw, Indexer(), watch_error_handler=handler)):
        lw.next_watch()
    assert len(lw.list_calls) == 2


def test_streaming_list_replaces_store_at_bookmark() -> None:
    lw = ScriptedListerWatcher()
    store: Indexer[Pod] = Indexer()
    store.add(pod("stale"))
    with running(reflector(lw, store, use_watch_list=True)) as r:
        w = lw.next_watch()
        w.send("ADDED", pod("a", rv="3"))
        w.send("ADDED", pod("b", rv="2"))
        w.send("BOOKMARK", bookmark("5", initial_events_end=True))
        eventually(lambda: r.last_sync_resource_version() == "5")
        assert sorted(store.list_keys()) == ["default/a", "default/b"]
        w.send("ADDED", pod("c", rv="6"))
        eventually(lambda: "default/c" in store)
    assert lw.list_calls == []
    opts = w.options
    assert (opts.send_initial_events, opts.resource_version_match) == (True, "NotOlderThan")
    assert (opts.resource_version, opts.allow_watch_bookmarks) == ("", True)


def test_streaming_list_falls_back_to_list() -> None:
    lw = ScriptedListerWatcher(
        [pod_list("8", pod("a", rv="8"))], watch_errors=[status_error(400, "BadRequest")]
    )
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store, use_watch_list=True)):
        w = lw.next_watch()
    assert len(lw.list_calls) == 1
    assert w.options.send_initial_events is None
    assert store.list_keys() == ["default/a"]

    unsupported = ScriptedListerWatcher(watch_list_semantics_unsupported=True)
    with running(reflector(unsupported, Indexer(), use_watch_list=True)):
        unsupported.next_watch()
    assert len(unsupported.list_calls) == 1


def test_resync_feeds_sync_deltas() -> None:
    clock = FakeClock()
    known: Indexer[Pod] = Indexer()
    known.add(pod("a", rv="1"))
    fifo = DeltaFIFO(known_objects=known)
    lw = ScriptedListerWatcher([pod_list("1", pod("a", rv="1"))])
    asked: list[bool] = []

    def should_resync() -> bool:
        asked.append(True)
        return True

    r = reflector(lw, fifo, resync_period=30.0, clock=clock, should_resync=should_resync)
    with running(r):
        lw.next_watch()
        fifo.pop(lambda deltas, initial: None)  # the list's Sync delta
        clock.block_until_waiters(1)
        clock.step(30.0)
        eventually(lambda: len(fifo) == 1)
    assert asked
    deltas = fifo.get_by_key("default/a")
    assert deltas is not None and [d.type for d in deltas] == [DeltaType.SYNC]


def test_internal_error_rewatches_within_retry_duration() -> None:
    lw = ScriptedListerWatcher([pod_list("1")])
    with running(reflector(lw, Indexer(), max_internal_error_retry_duration=60.0)):
        w = lw.next_watch()
        w.send("ADDED", pod("a", rv="2"))
        w.error(500, "InternalError", "etcd hiccup")
        second = lw.next_watch()
    assert len(lw.list_calls) == 1
    assert second.options.resource_version == "2"


def test_initial_adds_of_an_unversioned_watch_do_not_move_the_rv() -> None:
    lw = ScriptedListerWatcher([pod_list("")])
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store)) as r:
        w = lw.next_watch()
        assert w.options.resource_version == ""
        w.send("ADDED", pod("b", rv="9"))
        w.send("ADDED", pod("a", rv="5"))
        eventually(lambda: len(store) == 2)
        assert r.last_sync_resource_version() == ""
        w.send("MODIFIED", pod("a", rv="10"))
        eventually(lambda: r.last_sync_resource_version() == "10")


def test_streaming_list_cut_before_its_bookmark_falls_back_to_list() -> None:
    lw = ScriptedListerWatcher([pod_list("8", pod("a", rv="8"))])
    store: Indexer[Pod] = Indexer()
    with running(reflector(lw, store, use_watch_list=True)):
        streaming = lw.next_watch()
        streaming.send("ADDED", pod("partial", rv="3"))
        streaming.end()
        classic = lw.next_watch()
    assert streaming.options.send_initial_events is True
    assert classic.options.send_initial_events is None
    assert [o.resource_version for o in lw.list_calls] == ["0"]
    assert store.list_keys() == ["default/a"]
