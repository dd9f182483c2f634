"""Events written through RESTClient to the kgen.testing API server (real HTTP on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from kgen.clock import FakeClock
from kgen.meta import Model, ObjectMeta
from kgen.record import Event, EventBroadcaster, ObjectReference, RESTEventSink
from kgen.rest import Config, RESTClient, StatusError, is_not_found
from kgen.spec import load
from kgen.spec.model import APIModel
from kgen.testing import APIServer


@pytest.fixture(scope="module")
def model(specs_dir: Path) -> APIModel:
    return load([specs_dir / "kubernetes" / "v1.30" / "swagger.json"], [])


@pytest.fixture
def client(model: APIModel) -> Iterator[RESTClient]:
    with (
        APIServer(model) as server,
        RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest,
    ):
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
        rest.post().group_version("", "v1").resource("namespaces").body(namespace).do()
        yield rest


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1"},
}


class EventList(Model):
    items: tuple[Event, ...]


def events(client: RESTClient) -> tuple[Event, ...]:
    request = client.get().group_version("", "v1").namespace("shop").resource("events")
    return request.do().into(EventList).items


def test_recorded_events_are_created_then_patched(client: RESTClient) -> None:
    clock = FakeClock()
    with EventBroadcaster(clock=clock) as broadcaster:
        broadcaster.start_recording_to_sink(RESTEventSink(client))
        recorder = broadcaster.new_recorder("shop-controller")
        recorder.event(POD, "Warning", "BackOff", "restarting")
        clock.step(5)
        recorder.event(POD, "Warning", "BackOff", "restarting")
        clock.step(5)
        recorder.event(POD, "Normal", "Pulled", "image pulled")
    stored = sorted(events(client), key=lambda e: str(e.reason))
    assert [(e.reason, e.count, e.message) for e in stored] == [
        ("BackOff", 2, "restarting"),
        ("Pulled", 1, "image pulled"),
    ]
    backoff = stored[0]
    assert backoff.first_timestamp == "2023-11-14T22:13:20Z"
    assert backoff.last_timestamp == "2023-11-14T22:13:25Z"
    assert backoff.involved_object.name == "web-0"
    assert backoff.source is not None and not isinstance(backoff.source, msgspec.UnsetType)
    assert backoff.source.component == "shop-controller"


def test_sink_create_update_patch(client: RESTClient) -> None:
    sink = RESTEventSink(client)
    event = Event(
        metadata=ObjectMeta(name="web-0.abc", namespace="shop"),
        involved_object=ObjectReference(kind="Pod", name="web-0", namespace="shop"),
        reason="Synced",
        message="ok",
        count=1,
        type="Normal",
    )
    created = sink.create(event)
    assert created.metadata.resource_version
    updated = sink.update(msgspec.structs.replace(created, message="updated"))
    assert updated.message == "updated"
    patched = sink.patch(updated, b'{"count": 3}')
    assert (patched.count, patched.message) == (3, "updated")
    with pytest.raises(StatusError) as info:
        sink.patch(msgspec.structs.replace(event, metadata=ObjectMeta(name="absent")), b"{}")
    assert is_not_found(info.value)
