"""Options of list and watch requests, and their query-parameter form."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ListOptions"]


@dataclass(frozen=True)
class ListOptions:
    """What to list or watch. Immutable; derive variants with :func:`dataclasses.replace`.

    Empty strings, ``0`` and ``False`` mean "not set" and are not sent. ``timeout_seconds`` and
    ``send_initial_events`` are sent whenever they are not ``None`` (so ``0``/``False`` are sent).
    """

    label_selector: str = ""
    field_selector: str = ""
    resource_version: str = ""
    resource_version_match: str = ""
    limit: int = 0
    continue_: str = ""
    timeout_seconds: int | None = None
    allow_watch_bookmarks: bool = False
    send_initial_events: bool | None = None

    def to_params(self) -> list[tuple[str, str]]:
        """The query parameters, with the API server's names, in a stable order."""
        params: list[tuple[str, str]] = []
        for name, value in (
            ("labelSelector", self.label_selector),
            ("fieldSelector", self.field_selector),
            ("resourceVersion", self.resource_version),
            ("resourceVersionMatch", self.resource_version_match),
            ("continue", self.continue_),
        ):
            if value:
                params.append((name, value))
        if self.limit:
            params.append(("limit", str(self.limit)))
        if self.timeout_seconds is not None:
            params.append(("timeoutSeconds", str(self.timeout_seconds)))
        if self.allow_watch_bookmarks:
            params.append(("allowWatchBookmarks", "true"))
        if self.send_initial_events is not None:
            params.append(("sendInitialEvents", "true" if self.send_initial_events else "false"))
        return params
