"""Where an asyncio broadcaster writes events: :class:`AsyncEventSink` and its implementation
over :class:`~kgen.rest.aio.AsyncRESTClient` (the sync sink's requests, awaited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from kgen.record._rest_sink import STRATEGIC_MERGE_PATCH, event_name, events_of
from kgen.record._types import Event

if TYPE_CHECKING:
    from kgen.rest.aio import AsyncRESTClient

__all__ = ["AsyncEventSink", "AsyncRESTEventSink"]


class AsyncEventSink(Protocol):
    """:class:`~kgen.record.EventSink` with coroutines (same errors: ``StatusError`` for API
    answers, not retried; anything else retried)."""

    async def create(self, event: Event) -> Event: ...

    async def update(self, event: Event) -> Event: ...

    async def patch(self, event: Event, data: bytes) -> Event: ...


class AsyncRESTEventSink:
    """Writes each event in its own namespace through ``client`` (one loop)."""

    def __init__(self, client: AsyncRESTClient) -> None:
        self._client = client

    async def create(self, event: Event) -> Event:
        return (await events_of(self._client.post(), event).body(event).do()).into(Event)

    async def update(self, event: Event) -> Event:
        request = events_of(self._client.put(), event).name(event_name(event))
        return (await request.body(event).do()).into(Event)

    async def patch(self, event: Event, data: bytes) -> Event:
        request = events_of(self._client.patch(STRATEGIC_MERGE_PATCH), event)
        return (await request.name(event_name(event)).body(data).do()).into(Event)
