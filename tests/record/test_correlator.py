"""Event correlation on a fake clock: counting, aggregation, spam filtering (S69, S70)."""

from __future__ import annotations

import json

import msgspec
import pytest

from kgen.clock import FakeClock
from kgen.meta import ObjectMeta
from kgen.record import (
    CorrelatorOptions,
    Event,
    EventCorrelator,
    EventSource,
    ObjectReference,
)


def make_ref(kind: str, name: str, namespace: str) -> ObjectReference:
    return ObjectReference(
        kind=kind,
        name=name,
        namespace=namespace,
        uid="C934D34AFB20242",
        api_version="version",
        field_path="spec.containers{mycontainer}",
    )


def make_event(reason: str, message: str, ref: ObjectReference) -> Event:
    return Event(
        metadata=ObjectMeta(name=f"{ref.name}.original", namespace=ref.namespace),
        involved_object=ref,
        reason=reason,
        message=message,
        source=EventSource(component="kubelet", host="kublet.node1"),
        count=1,
        type="Normal",
    )


POD = make_ref("Pod", "my-pod", "my-ns")
FIRST = make_event("first", "i am first", POD)
DUPLICATE = make_event("duplicate", "me again", POD)
UNIQUE = make_event("unique", "snowflake", POD)
SIMILAR = make_event(
    "similar",
    "similar message",
    msgspec.structs.replace(POD, field_path="spec.containers{container1}"),
)
SIMILAR_OTHER_CONTAINER = msgspec.structs.replace(
    SIMILAR,
    involved_object=msgspec.structs.replace(
        SIMILAR.involved_object, field_path="spec.containers{container2}"
    ),
)


def repeat(event: Event, n: int) -> list[Event]:
    return [event] * n


def similar(event: Event, n: int) -> list[Event]:
    return [
        msgspec.structs.replace(event, message=f"{event.message}-{i}-{event.message}")
        for i in range(n)
    ]


def unique(n: int) -> list[Event]:
    return [
        make_event(f"reason-{i}", f"message-{i}", make_ref("Pod", f"pod-{i}", f"ns-{i}"))
        for i in range(n)
    ]


def play(
    previous: list[Event], new: Event, interval: float, options: CorrelatorOptions | None = None
) -> tuple[EventCorrelator, Event | None, bytes | None]:
    """Feed ``previous`` then ``new`` to a fresh correlator, ``interval`` seconds apart, keeping
    the server state up to date as a sink would."""
    clock = FakeClock()
    correlator = EventCorrelator(options or CorrelatorOptions(clock=clock))
    for event in previous:
        clock.step(interval)
        result = correlator.correlate(event)
        if not result.skip and result.event is not None:
            correlator.update_state(result.event)
    clock.step(interval)
    result = correlator.correlate(new)
    return correlator, result.event, result.patch


def test_first_event_counts_one() -> None:
    _, event, patch = play([], FIRST, 5)
    assert event is not None and event.count == 1 and patch is None
    assert event.message == "i am first"


def test_same_event_counts_and_patches() -> None:
    _, event, patch = play(repeat(DUPLICATE, 1), DUPLICATE, 5)
    assert event is not None and event.count == 2
    assert event.metadata.name == DUPLICATE.metadata.name  # the first occurrence's name
    assert patch is not None
    assert json.loads(patch) == {"count": 2, "message": "me again"}


def test_same_event_counts_even_past_the_aggregate_threshold() -> None:
    _, event, _ = play(repeat(DUPLICATE, 10), DUPLICATE, 30)
    assert event is not None and event.count == 11
    assert event.message == "me again"


def test_same_event_too_often_is_spam() -> None:
    clock = FakeClock()
    correlator = EventCorrelator(CorrelatorOptions(clock=clock))
    skipped = []
    for _ in range(27):
        clock.step(1)
        result = correlator.correlate(DUPLICATE)
        skipped.append(result.skip)
        if result.event is not None:
            correlator.update_state(result.event)
    assert skipped == [False] * 25 + [True, True]


def test_many_unique_events_then_a_new_one() -> None:
    _, event, _ = play(unique(30), UNIQUE, 5)
    assert event is not None and event.count == 1 and event.message == "snowflake"


def test_similar_events_aggregate() -> None:
    _, event, patch = play(similar(SIMILAR, 9), SIMILAR, 5)
    assert event is not None
    assert event.message == "(combined from similar events): similar message"
    assert event.count == 1 and patch is None
    assert event.reason == "similar"
    assert isinstance(event.metadata.name, str) and event.metadata.name.startswith("my-pod.")
    assert event.first_timestamp == event.last_timestamp


def test_similar_events_many_times_count_the_aggregate() -> None:
    _, event, patch = play(similar(SIMILAR, 10), SIMILAR, 5)
    assert event is not None
    assert event.message == "(combined from similar events): similar message"
    assert event.count == 2 and patch is not None


def test_events_from_different_containers_do_not_aggregate() -> None:
    _, event, _ = play(repeat(SIMILAR_OTHER_CONTAINER, 1), SIMILAR, 5)
    assert event is not None and event.count == 1 and event.message == "similar message"


@pytest.mark.parametrize("interval", [600.0, 601.0])
def test_aggregation_window(interval: float) -> None:
    """More than 600 s between similar events starts a new group; exactly 600 s does not."""
    _, event, _ = play(similar(SIMILAR, 9), SIMILAR, interval)
    assert event is not None and event.count == 1
    if interval > 600:
        assert event.message == "similar message"
    else:
        assert event.message == "(combined from similar events): similar message"


def by_object_and_reason(e: Event) -> str:
    ref, src = e.involved_object, e.source
    assert isinstance(src, EventSource)
    return "".join(
        str(x or "")
        for x in (
            src.component,
            src.host,
            ref.kind,
            ref.namespace,
            ref.name,
            ref.uid,
            ref.api_version,
            e.reason,
        )
    )


@pytest.mark.parametrize(
    ("new", "custom_key", "skipped"),
    [
        (make_event("duplicate", "me again", POD), False, True),
        (make_event("duplicate", "me again", POD), True, False),
        (make_event("original", "me again", POD), True, True),
    ],
)
def test_spam_filter_burst_one(new: Event, custom_key: bool, skipped: bool) -> None:
    """S70."""
    clock = FakeClock()
    options = CorrelatorOptions(clock=clock, burst_size=1)
    if custom_key:
        options = CorrelatorOptions(clock=clock, burst_size=1, spam_key_func=by_object_and_reason)
    correlator = EventCorrelator(options)
    clock.step(1)
    first = correlator.correlate(make_event("original", "i am first", POD))
    assert not first.skip and first.event is not None
    correlator.update_state(first.event)
    clock.step(1)
    result = correlator.correlate(new)
    assert result.skip is skipped
    if not skipped:
        assert result.event is not None and result.event.reason == new.reason


def test_spam_budget_refills_one_event_per_five_minutes() -> None:
    clock = FakeClock()
    correlator = EventCorrelator(CorrelatorOptions(clock=clock, burst_size=1))
    assert not correlator.correlate(FIRST).skip
    clock.step(299)
    assert correlator.correlate(FIRST).skip
    clock.step(1)
    assert not correlator.correlate(FIRST).skip
