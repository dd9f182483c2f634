"""Where recorded events are written: the :class:`EventSink` protocol.

A sink is called from one broadcaster thread at a time per watcher, but a sink shared by
several broadcasters must be thread-safe. It raises :class:`kgen.rest.StatusError` when the API
answered with an error (not retried) and any other exception for transport failures (retried).
"""

from __future__ import annotations

from typing import Protocol

from kgen.record._types import Event

__all__ = ["EventSink"]


class EventSink(Protocol):
    """Create, update and patch ``core/v1`` Events; each returns the server's copy."""

    def create(self, event: Event) -> Event:
        """Create ``event`` in ``event.metadata.namespace``."""
        ...

    def update(self, event: Event) -> Event:
        """Replace the stored event of the same name."""
        ...

    def patch(self, event: Event, data: bytes) -> Event:
        """Apply the strategic-merge patch ``data`` to the stored event named like ``event``."""
        ...
