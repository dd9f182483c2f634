"""An :class:`~kgen.record.EventSink` that writes ``core/v1`` Events through the REST client."""

from __future__ import annotations

from typing import TypeVar

from kgen.record._types import Event
from kgen.rest import RESTClient
from kgen.rest._builder import RequestBuilder

__all__ = ["STRATEGIC_MERGE_PATCH", "RESTEventSink", "event_name", "events_of"]

B = TypeVar("B", bound=RequestBuilder)

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


class RESTEventSink:
    """Writes each event in its own namespace (``event.metadata.namespace``). Thread-safe, as
    the client is. API errors surface as :class:`kgen.rest.StatusError`."""

    def __init__(self, client: RESTClient) -> None:
        self._client = client

    def create(self, event: Event) -> Event:
        return events_of(self._client.post(), event).body(event).do().into(Event)

    def update(self, event: Event) -> Event:
        request = events_of(self._client.put(), event).name(event_name(event))
        return request.body(event).do().into(Event)

    def patch(self, event: Event, data: bytes) -> Event:
        request = events_of(self._client.patch(STRATEGIC_MERGE_PATCH), event).name(
            event_name(event)
        )
        return request.body(data).do().into(Event)


def _namespace(event: Event) -> str:
    ns = event.metadata.namespace
    return ns if isinstance(ns, str) and ns else "default"


def events_of(request: B, event: Event) -> B:
    """``request`` addressed to the Events of ``event``'s namespace (sync or async request)."""
    return request.group_version("", "v1").namespace(_namespace(event)).resource("events")


def event_name(event: Event) -> str:
    """``event``'s name; ``ValueError`` when it has none (it cannot be updated or patched)."""
    name = event.metadata.name
    if not isinstance(name, str) or not name:
        raise ValueError("event has no metadata.name: cannot update or patch it")
    return name
