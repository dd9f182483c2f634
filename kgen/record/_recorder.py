"""Event recorders: how controllers report what happened to an object.

:class:`EventRecorder` is the protocol controllers depend on; a broadcaster hands out
implementations (:meth:`EventBroadcaster.new_recorder`), and :class:`FakeRecorder` records
strings for tests. Recording never blocks and never raises: a bad event type or an object
without ``kind``/``apiVersion`` is logged and dropped.
"""

from __future__ import annotations

import logging
import queue
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Protocol

from kgen.clock import Clock, format_time
from kgen.meta import UNSET, ObjectMeta
from kgen.record._reference import get_reference
from kgen.record._types import Event, EventSource, ObjectReference

__all__ = ["EVENT_TYPE_NORMAL", "EVENT_TYPE_WARNING", "EventRecorder", "FakeRecorder"]

EVENT_TYPE_NORMAL = "Normal"
EVENT_TYPE_WARNING = "Warning"
_EVENT_TYPES = (EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING)

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

log = logging.getLogger("kgen.record")


class EventRecorder(Protocol):
    """Records events about objects. Thread-safe; never blocks the caller."""

    def event(self, obj: object, event_type: str, reason: str, message: str) -> None:
        """Record an event of ``event_type`` (``"Normal"`` or ``"Warning"``) about ``obj``.

        ``reason`` is a short UpperCamelCase machine-readable word; ``message`` is for humans.
        """
        ...

    def eventf(self, obj: object, event_type: str, reason: str, fmt: str, *args: object) -> None:
        """:meth:`event` with the message ``fmt % args``."""
        ...

    def annotated_eventf(
        self,
        obj: object,
        annotations: Mapping[str, str],
        event_type: str,
        reason: str,
        fmt: str,
        *args: object,
    ) -> None:
        """:meth:`eventf` with ``annotations`` set on the Event's metadata."""
        ...


def event_name(object_name: str, unix_nanos: int) -> str:
    """``<object name>.<nanoseconds in hex>``, or a random UUID if that is not a valid name."""
    name = f"{object_name}.{unix_nanos:x}"
    return name if len(name) <= 253 and _DNS_SUBDOMAIN.match(name) else str(uuid.uuid4())


def _format(fmt: str, args: tuple[object, ...]) -> str:
    if not args:
        return fmt
    try:
        return fmt % args
    except (TypeError, ValueError) as err:
        return f"{fmt} (formatting {args!r} failed: {err})"


class _FormattingRecorder(ABC):
    """The three :class:`EventRecorder` methods, formatting the message once; subclasses say
    what recording an event means (:meth:`_record`)."""

    def event(self, obj: object, event_type: str, reason: str, message: str) -> None:
        self._record(obj, None, event_type, reason, message)

    def eventf(self, obj: object, event_type: str, reason: str, fmt: str, *args: object) -> None:
        self._record(obj, None, event_type, reason, _format(fmt, args))

    def annotated_eventf(
        self,
        obj: object,
        annotations: Mapping[str, str],
        event_type: str,
        reason: str,
        fmt: str,
        *args: object,
    ) -> None:
        self._record(obj, annotations, event_type, reason, _format(fmt, args))

    @abstractmethod
    def _record(
        self,
        obj: object,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message: str,
    ) -> None:
        """Record one event whose message is already formatted."""


class Recorder(_FormattingRecorder):
    """The recorder a broadcaster hands out: builds Events and passes each to ``emit`` (which
    must not block). Build one directly to feed events to a sink of your own synchronously."""

    def __init__(self, source: EventSource, clock: Clock, emit: Callable[[Event], None]) -> None:
        self.source = source
        self._clock = clock
        self._emit = emit

    def _record(
        self,
        obj: object,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message: str,
    ) -> None:
        try:
            ref = get_reference(obj)
        except ValueError as err:
            log.error("dropping event %s/%s: %s", event_type, reason, err)
            return
        if event_type not in _EVENT_TYPES:
            log.error(
                "dropping event about %s/%s: unsupported type %r (want Normal or Warning)",
                ref.namespace or "",
                ref.name or "",
                event_type,
            )
            return
        self._emit(self._make_event(ref, annotations, event_type, reason, message))

    def _make_event(
        self,
        ref: ObjectReference,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message: str,
    ) -> Event:
        wall = self._clock.time()
        timestamp = format_time(wall)
        name = ref.name if isinstance(ref.name, str) else ""
        namespace = ref.namespace if isinstance(ref.namespace, str) and ref.namespace else "default"
        return Event(
            metadata=ObjectMeta(
                name=event_name(name, int(wall * 1e9)),
                namespace=namespace,
                annotations=dict(annotations) if annotations else UNSET,
            ),
            involved_object=ref,
            reason=reason,
            message=message,
            first_timestamp=timestamp,
            last_timestamp=timestamp,
            count=1,
            type=event_type,
            source=self.source,
            reporting_component=self.source.component,
            reporting_instance=self.source.host,
        )


class FakeRecorder(_FormattingRecorder):
    """An :class:`EventRecorder` for tests: each event becomes the string
    ``"<type> <reason> <message>"`` on :attr:`events` (a bounded ``queue.Queue``; events are
    dropped when it is full, never blocking). With ``include_object`` the string ends with
    `` involvedObject{kind=<kind>,apiVersion=<apiVersion>}``; annotations, when given, are
    appended as `` map[k:v ...]`` in key order."""

    def __init__(self, buffer_size: int = 100, *, include_object: bool = False) -> None:
        self.events: queue.Queue[str] = queue.Queue(maxsize=buffer_size)
        self.include_object = include_object

    def _record(
        self,
        obj: object,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message: str,
    ) -> None:
        text = f"{event_type} {reason} {message}"
        if self.include_object:
            kind, api_version = "", ""
            try:
                ref = get_reference(obj)
                kind, api_version = str(ref.kind or ""), str(ref.api_version or "")
            except ValueError:
                pass
            text += f" involvedObject{{kind={kind},apiVersion={api_version}}}"
        if annotations:
            text += " map[" + " ".join(f"{k}:{v}" for k, v in sorted(annotations.items())) + "]"
        try:
            self.events.put_nowait(text)
        except queue.Full:
            log.warning("FakeRecorder buffer full, dropping %r", text)
