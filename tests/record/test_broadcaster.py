"""Recorders and the broadcaster against an in-memory sink, with real threads and a fake clock."""

from __future__ import annotations

import json
import logging
import threading

import msgspec
import pytest

from kgen.clock import FakeClock
from kgen.meta import Model, ObjectMeta, Status, StatusCause, StatusDetails
from kgen.record import (
    CorrelatorOptions,
    Event,
    EventBroadcaster,
    EventSource,
    FakeRecorder,
    ObjectReference,
)
from kgen.rest.errors import StatusError


def status_error(code: int, reason: str, cause: str = "") -> StatusError:
    details = StatusDetails(causes=(StatusCause(reason=cause),)) if cause else msgspec.UNSET
    return StatusError(Status(code=code, reason=reason, details=details))


class MemorySink:
    """Stores events by namespace/name like an API server would; can be told to fail."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: dict[str, Event] = {}
        self.calls: list[str] = []
        self.failures: list[BaseException] = []  # raised by the next calls, in order
        self.written = threading.Semaphore(0)
        self._rv = 0

    def _store(self, event: Event) -> Event:
        self._rv += 1
        stored = msgspec.structs.replace(
            event, metadata=msgspec.structs.replace(event.metadata, resource_version=str(self._rv))
        )
        self.events[f"{event.metadata.namespace}/{event.metadata.name}"] = stored
        self.written.release()
        return stored

    def _call(self, verb: str) -> None:
        self.calls.append(verb)
        if self.failures:
            raise self.failures.pop(0)

    def create(self, event: Event) -> Event:
        with self.lock:
            self._call("create")
            key = f"{event.metadata.namespace}/{event.metadata.name}"
            if key in self.events:
                raise status_error(409, "AlreadyExists")
            return self._store(event)

    def update(self, event: Event) -> Event:
        with self.lock:
            self._call("update")
            return self._store(event)

    def patch(self, event: Event, data: bytes) -> Event:
        with self.lock:
            self._call("patch")
            key = f"{event.metadata.namespace}/{event.metadata.name}"
            if key not in self.events:
                raise status_error(404, "NotFound")
            merged = json.loads(msgspec.json.encode(self.events[key]))
            merged.update(json.loads(data))
            return self._store(msgspec.json.decode(json.dumps(merged), type=Event))

    def wait_written(self, n: int = 1) -> None:
        for _ in range(n):
            assert self.written.acquire(timeout=10), "the sink was not written to"


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1", "resourceVersion": "7"},
}


def test_event_is_created_with_client_go_fields() -> None:
    clock = FakeClock(wall_start=1_700_000_000.0)
    sink = MemorySink()
    with EventBroadcaster(clock=clock) as broadcaster:
        broadcaster.start_recording_to_sink(sink)
        recorder = broadcaster.new_recorder(EventSource(component="shop-ctl", host="node-1"))
        recorder.event(POD, "Normal", "Scheduled", "assigned to node-1")
        sink.wait_written()
    [(key, event)] = sink.events.items()
    assert key == f"shop/web-0.{1_700_000_000 * 10**9:x}"
    assert event.count == 1
    assert event.first_timestamp == event.last_timestamp == "2023-11-14T22:13:20Z"
    assert event.involved_object == ObjectReference(
        kind="Pod",
        api_version="v1",
        name="web-0",
        namespace="shop",
        uid="u-1",
        resource_version="7",
    )
    assert (event.type, event.reason, event.message) == (
        "Normal",
        "Scheduled",
        "assigned to node-1",
    )
    assert event.source == EventSource(component="shop-ctl", host="node-1")
    assert (event.reporting_component, event.reporting_instance) == ("shop-ctl", "node-1")


def test_repeated_event_is_patched_with_a_higher_count() -> None:
    clock = FakeClock()
    sink = MemorySink()
    with EventBroadcaster(clock=clock) as broadcaster:
        broadcaster.start_recording_to_sink(sink)
        recorder = broadcaster.new_recorder("shop-ctl")
        recorder.eventf(POD, "Warning", "BackOff", "restarting %s (%d)", "app", 3)
        sink.wait_written()
        clock.step(5)
        recorder.eventf(POD, "Warning", "BackOff", "restarting %s (%d)", "app", 3)
        sink.wait_written()
    assert sink.calls == ["create", "patch"]
    [event] = sink.events.values()
    assert event.count == 2
    assert event.message == "restarting app (3)"
    assert event.first_timestamp != event.last_timestamp


def test_patch_of_a_vanished_event_falls_back_to_create() -> None:
    clock = FakeClock()
    sink = MemorySink()
    with EventBroadcaster(clock=clock) as broadcaster:
        broadcaster.start_recording_to_sink(sink)
        recorder = broadcaster.new_recorder("shop-ctl")
        recorder.event(POD, "Normal", "Synced", "ok")
        sink.wait_written()
        with sink.lock:
            sink.events.clear()
        recorder.event(POD, "Normal", "Synced", "ok")
        sink.wait_written()
    assert sink.calls == ["create", "patch", "create"]
    [event] = sink.events.values()
    assert event.count == 2


def test_transport_failures_are_retried_after_pauses() -> None:
    clock = FakeClock()
    sink = MemorySink()
    sink.failures = [ConnectionError("reset"), ConnectionError("reset")]
    with EventBroadcaster(clock=clock) as broadcaster:
        broadcaster.start_recording_to_sink(sink)
        broadcaster.new_recorder("c").event(POD, "Normal", "Synced", "ok")
        clock.block_until_waiters(1)  # first pause: randomised below 10 s
        clock.step(10)
        clock.block_until_waiters(1)  # second pause: 10 s
        clock.step(9.5)
        assert sink.calls == ["create", "create"]
        clock.step(0.5)
        sink.wait_written()
    assert sink.calls == ["create"] * 3
    assert len(sink.events) == 1


def test_gives_up_after_twelve_tries() -> None:
    clock = FakeClock()
    sink = MemorySink()
    sink.failures = [ConnectionError("down")] * 12
    with EventBroadcaster(clock=clock) as broadcaster:
        broadcaster.start_recording_to_sink(sink)
        broadcaster.new_recorder("c").event(POD, "Normal", "Synced", "ok")
        for _ in range(11):
            clock.block_until_waiters(1)
            clock.step(10)
        broadcaster.new_recorder("c").event(POD, "Normal", "Other", "next")
        sink.wait_written()  # the next event is written: the first was given up
    assert sink.calls == ["create"] * 13
    [event] = sink.events.values()
    assert event.reason == "Other"


@pytest.mark.parametrize(
    "error",
    [status_error(403, "Forbidden"), status_error(403, "Forbidden", "NamespaceTerminating")],
)
def test_api_errors_are_not_retried(error: StatusError) -> None:
    sink = MemorySink()
    sink.failures = [error]
    with EventBroadcaster(clock=FakeClock()) as broadcaster:
        broadcaster.start_recording_to_sink(sink)
        recorder = broadcaster.new_recorder("c")
        recorder.event(POD, "Normal", "Synced", "ok")
        recorder.event(POD, "Normal", "Other", "next")
        sink.wait_written()
    assert sink.calls == ["create", "create"]


def test_shutdown_cuts_a_retry_pause_short() -> None:
    clock = FakeClock()
    sink = MemorySink()
    sink.failures = [ConnectionError("down")]
    broadcaster = EventBroadcaster(clock=clock)
    broadcaster.start_recording_to_sink(sink)
    broadcaster.new_recorder("c").event(POD, "Normal", "Synced", "ok")
    clock.block_until_waiters(1)
    broadcaster.shutdown()  # returns without the clock moving
    assert sink.calls == ["create"]
    with pytest.raises(RuntimeError, match="shut down"):
        broadcaster.start_event_watcher(lambda e: None)


def test_bad_events_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Event] = []
    with EventBroadcaster(clock=FakeClock()) as broadcaster:
        broadcaster.start_event_watcher(seen.append)
        recorder = broadcaster.new_recorder("c")
        with caplog.at_level(logging.ERROR, logger="kgen.record"):
            recorder.event(POD, "Info", "Synced", "not a valid type")
            recorder.event({"metadata": {"name": "x"}}, "Normal", "Synced", "no kind")
            recorder.annotated_eventf(POD, {"a": "b"}, "Warning", "Odd", "%d%%", 50)
    assert [e.message for e in seen] == ["50%"]
    assert seen[0].metadata.annotations == {"a": "b"}
    assert "unsupported type 'Info'" in caplog.text
    assert "it has no kind" in caplog.text


def test_namespace_defaults_and_invalid_names_become_uuids() -> None:
    seen: list[Event] = []
    with EventBroadcaster(clock=FakeClock()) as broadcaster:
        broadcaster.start_event_watcher(seen.append)
        recorder = broadcaster.new_recorder("c")
        recorder.event(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}, "Normal", "R", "m"
        )
        recorder.event(
            ObjectReference(kind="X", api_version="v1", name="Bad_Name"), "Normal", "R", "m"
        )
    assert seen[0].metadata.namespace == "default"
    assert isinstance(seen[0].metadata.name, str) and seen[0].metadata.name.startswith("n1.")
    name = seen[1].metadata.name
    assert isinstance(name, str) and len(name) == 36 and name.count("-") == 4


def test_full_watcher_queue_drops_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    holding = threading.Event()
    release = threading.Event()
    seen: list[str] = []

    def slow(event: Event) -> None:
        holding.set()
        release.wait()
        seen.append(str(event.message))

    with EventBroadcaster(clock=FakeClock(), queue_size=2) as broadcaster:
        broadcaster.start_event_watcher(slow)
        recorder = broadcaster.new_recorder("c")
        with caplog.at_level(logging.WARNING, logger="kgen.record"):
            recorder.event(POD, "Normal", "R", "0")
            holding.wait()  # the handler holds "0": the queue of two is empty
            for i in range(1, 5):
                recorder.event(POD, "Normal", "R", str(i))  # never blocks
        release.set()
    assert seen == ["0", "1", "2"]
    assert caplog.text.count("is full, dropping") == 2


def test_logging_watchers(caplog: pytest.LogCaptureFixture) -> None:
    lines: list[str] = []
    logger = logging.getLogger("test.events")
    with (
        caplog.at_level(logging.INFO, logger="test.events"),
        EventBroadcaster(clock=FakeClock()) as broadcaster,
    ):
        broadcaster.start_logging(lines.append)
        broadcaster.start_structured_logging(logger)
        broadcaster.new_recorder("c").event(POD, "Warning", "Failed", "boom")
    assert lines == ["Event(Pod shop/web-0): type: 'Warning' reason: 'Failed' boom"]
    [record] = [r for r in caplog.records if r.name == "test.events"]
    assert record.getMessage() == "Event occurred"
    assert record.__dict__["object"] == "shop/web-0"
    assert record.__dict__["reason"] == "Failed"
    assert record.__dict__["event_message"] == "boom"


def test_fake_recorder() -> None:
    fake = FakeRecorder(2, include_object=True)
    fake.event(POD, "Normal", "Synced", "ok")
    fake.annotated_eventf(POD, {"b": "2", "a": "1"}, "Warning", "Odd", "n=%d", 1)
    fake.event(POD, "Normal", "Dropped", "buffer full")
    assert fake.events.get_nowait() == "Normal Synced ok involvedObject{kind=Pod,apiVersion=v1}"
    assert (
        fake.events.get_nowait()
        == "Warning Odd n=1 involvedObject{kind=Pod,apiVersion=v1} map[a:1 b:2]"
    )
    assert fake.events.empty()


def test_sink_correlator_uses_the_options_and_the_broadcaster_clock() -> None:
    clock = FakeClock()
    sink = MemorySink()
    options = CorrelatorOptions(burst_size=1)
    with EventBroadcaster(clock=clock, correlator_options=options) as broadcaster:
        broadcaster.start_recording_to_sink(sink)
        recorder = broadcaster.new_recorder("c")
        recorder.event(POD, "Normal", "First", "one")
        sink.wait_written()
        recorder.event(POD, "Normal", "Second", "spam: no token left")
        other = {**POD, "metadata": {"name": "web-1", "namespace": "shop"}}
        recorder.event(other, "Normal", "Marker", "another object has its own budget")
        sink.wait_written()  # events are handled in order: "Second" was handled before
        clock.step(300)  # one token back, on the broadcaster's clock
        recorder.event(POD, "Normal", "Third", "three")
        sink.wait_written()
    assert sorted(str(e.reason) for e in sink.events.values()) == ["First", "Marker", "Third"]


class Widget(Model):
    """Shaped like a generated model: apiVersion and kind default to the type's own."""

    metadata: ObjectMeta
    api_version: str = msgspec.field(name="apiVersion", default="example.dev/v1")
    kind: str = "Widget"


def test_events_about_typed_models() -> None:
    seen: list[Event] = []
    widget = Widget(metadata=ObjectMeta(name="w", namespace="ns", uid="u", resource_version="3"))
    with EventBroadcaster(clock=FakeClock()) as broadcaster:
        broadcaster.start_event_watcher(seen.append)
        broadcaster.new_recorder("c").event(widget, "Normal", "Made", "ok")
    assert seen[0].involved_object == ObjectReference(
        kind="Widget",
        api_version="example.dev/v1",
        name="w",
        namespace="ns",
        uid="u",
        resource_version="3",
    )
    assert seen[0].metadata.namespace == "ns"
