"""Hand-written ``core/v1`` types for events: ``Event``, ``ObjectReference``, ``EventSource``.

They follow :mod:`kgen.meta`'s model conventions, so they decode any Event the server sends and
round-trip it without loss. kgen.record owns them so that recording events needs no generated
package; a generated ``core/v1`` package has its own, wire-compatible copies.
"""

from __future__ import annotations

import msgspec

from kgen.meta import UNSET, MicroTime, Model, ObjectMeta, Time, UnsetType

__all__ = ["Event", "EventSeries", "EventSource", "ObjectReference"]


class ObjectReference(Model):
    """Points at the object an event is about (``involvedObject``)."""

    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    field_path: str | None | UnsetType = msgspec.field(name="fieldPath", default=UNSET)
    kind: str | None | UnsetType = UNSET
    name: str | None | UnsetType = UNSET
    namespace: str | None | UnsetType = UNSET
    resource_version: str | None | UnsetType = msgspec.field(name="resourceVersion", default=UNSET)
    uid: str | None | UnsetType = UNSET


class EventSource(Model):
    """The component (and host) that reports events."""

    component: str | None | UnsetType = UNSET
    host: str | None | UnsetType = UNSET


class EventSeries(Model):
    """A series of occurrences of an event (newer reporters; kept for lossless round trips)."""

    count: int | None | UnsetType = UNSET
    last_observed_time: MicroTime | None | UnsetType = msgspec.field(
        name="lastObservedTime", default=UNSET
    )


class Event(Model):
    """A ``core/v1`` Event: a report of something that happened to an object."""

    metadata: ObjectMeta
    involved_object: ObjectReference = msgspec.field(name="involvedObject")
    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | None | UnsetType = UNSET
    action: str | None | UnsetType = UNSET
    count: int | None | UnsetType = UNSET
    event_time: MicroTime | None | UnsetType = msgspec.field(name="eventTime", default=UNSET)
    first_timestamp: Time | None | UnsetType = msgspec.field(name="firstTimestamp", default=UNSET)
    last_timestamp: Time | None | UnsetType = msgspec.field(name="lastTimestamp", default=UNSET)
    message: str | None | UnsetType = UNSET
    reason: str | None | UnsetType = UNSET
    related: ObjectReference | None | UnsetType = UNSET
    reporting_component: str | None | UnsetType = msgspec.field(
        name="reportingComponent", default=UNSET
    )
    reporting_instance: str | None | UnsetType = msgspec.field(
        name="reportingInstance", default=UNSET
    )
    series: EventSeries | None | UnsetType = UNSET
    source: EventSource | None | UnsetType = UNSET
    type: str | None | UnsetType = UNSET
