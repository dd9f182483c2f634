"""An :class:`~kgen.record.EventSink` that writes ``core/v1`` Events through the REST client."""

from __future__ import annotations

from kgen.record._types import Event
from kgen.rest import Request, RESTClient

__all__ = ["RESTEventSink"]

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


class RESTEventSink:
    """Writes each event in its own namespace (``event.metadata.namespace``). Thread-safe, as
    the client is. API errors surface as :class:`kgen.rest.StatusError`."""

    def __init__(self, client: RESTClient) -> None:
        self._client = client

    def _events(self, request: Request, event: Event) -> Request:
        return request.group_version("", "v1").namespace(_namespace(event)).resource("events")

    def create(self, event: Event) -> Event:
        return self._events(self._client.post(), event).body(event).do().into(Event)

    def update(self, event: Event) -> Event:
        request = self._events(self._client.put(), event).name(_name(event))
        return request.body(event).do().into(Event)

    def patch(self, event: Event, data: bytes) -> Event:
        request = self._events(self._client.patch(STRATEGIC_MERGE_PATCH), event).name(_name(event))
        return request.body(data).do().into(Event)


def _namespace(event: Event) -> str:
    ns = event.metadata.namespace
    return ns if isinstance(ns, str) and ns else "default"


def _name(event: Event) -> str:
    name = event.metadata.name
    if not isinstance(name, str) or not name:
        raise ValueError("event has no metadata.name: cannot update or patch it")
    return name
