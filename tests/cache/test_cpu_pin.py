"""The thread informer keeps its own threads on one CPU (kgen.cache._cpu_pin), and only those."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from kgen.cache import ResourceEventHandlerFuncs, SharedIndexInformer
from kgen.cache._cpu_pin import NO_PIN, CPUPin, current_cpu

from .helpers import CountingBackoff, eventually
from .objects import Pod, pod
from .scripted import ScriptedListerWatcher, pod_list

needs_affinity = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity"), reason="thread affinity is Linux-only"
)


def affinity_recorder(seen: list[set[int]]) -> ResourceEventHandlerFuncs:
    """A handler appending the CPUs its delivery thread may run on, once per notification."""

    def record(*_: Any) -> None:
        seen.append(os.sched_getaffinity(0))

    return ResourceEventHandlerFuncs(add_func=record, update_func=record, delete_func=record)


def informer_threads_affinity(pin_threads: bool) -> tuple[list[set[int]], dict[str, set[int]]]:
    """Run an informer; the handler's recorded affinities and each informer thread's."""
    lw = ScriptedListerWatcher([pod_list("1", pod("a", rv="1"))])
    inf = SharedIndexInformer(
        lw, Pod, name="pinned", backoff=CountingBackoff(), pin_threads=pin_threads
    )
    early: list[set[int]] = []
    late: list[set[int]] = []
    inf.add_event_handler(affinity_recorder(early))
    with inf:
        inf.add_event_handler(affinity_recorder(late))  # a listener started after the informer
        lw.next_watch().send("MODIFIED", pod("a", rv="2"))
        eventually(lambda: len(early) == 2 and len(late) == 2)
        threads = {
            t.name: os.sched_getaffinity(t.native_id or 0)
            for t in threading.enumerate()
            if t.name.startswith("pinned-")
        }
    return early + late, threads


@needs_affinity
def test_every_informer_thread_is_kept_on_one_cpu_of_the_allowed_set() -> None:
    allowed = os.sched_getaffinity(0)
    seen, threads = informer_threads_affinity(pin_threads=True)
    assert set(threads) == {"pinned-reflector", "pinned-process"}
    affinities = seen + list(threads.values())
    if len(allowed) < 2:  # nothing to gain: left alone
        assert all(a == allowed for a in affinities)
        return
    assert len({frozenset(a) for a in affinities}) == 1, affinities
    (cpu,) = affinities[0]
    assert cpu in allowed
    assert os.sched_getaffinity(0) == allowed  # the caller's thread is never pinned


@needs_affinity
def test_pin_threads_false_leaves_every_thread_free() -> None:
    allowed = os.sched_getaffinity(0)
    seen, threads = informer_threads_affinity(pin_threads=False)
    assert seen and threads
    assert all(a == allowed for a in seen + list(threads.values()))


@needs_affinity
def test_the_pin_is_a_cpu_the_starting_thread_may_use() -> None:
    allowed = os.sched_getaffinity(0)
    cpu = current_cpu()  # read from /proc; the thread may move right after
    assert cpu is not None and cpu in allowed
    pin = CPUPin.here()
    assert pin.cpu is None if len(allowed) < 2 else pin.cpu in allowed


def test_no_pin_and_a_refused_cpu_leave_the_thread_as_it_was() -> None:
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    results: list[object] = []

    def body() -> None:
        NO_PIN.apply()
        CPUPin(10_000_000).apply()  # no such CPU: refused, logged, not raised
        results.append(os.sched_getaffinity(0) if before is not None else None)

    thread = threading.Thread(target=CPUPin(None).run, args=(body,))
    thread.start()
    thread.join()
    assert results == [before]
