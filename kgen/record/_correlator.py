"""Event correlation: spam filtering, aggregation of similar events, counting of repeats.

Before an event is written, the correlator decides what to send:

1. Aggregation. Events that share an *aggregate key* (source, involved object without its field
   path, type, reason, reporting controller and instance) but carry different messages are
   similar. Once ``max_events`` (10) distinct messages were seen, each new similar event is
   replaced by one aggregate event whose message is ``"(combined from similar events): <msg>"``.
   A group is forgotten when more than ``max_interval`` (600 s) passed since its last event.
2. Counting. An event identical to one already sent (same source, involved object including
   field path, type, reason and message; or the same aggregate) is sent again as a PATCH of the
   existing Event: same name and first timestamp, ``count`` + 1, new last timestamp.
3. Spam filtering. Each (source, involved object, type) has a token bucket of ``burst`` (25)
   events refilled at ``qps`` (one per 300 s); events beyond it are skipped.

All state lives in LRU caches of ``lru_cache_size`` (4096) entries. :class:`EventCorrelator` is
thread-safe; it never mutates the events it is given.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec

from kgen.clock import REAL_CLOCK, Clock, format_time
from kgen.meta import UNSET, ObjectMeta, encode
from kgen.record._types import Event, EventSource, ObjectReference
from kgen.workqueue import TokenBucket

__all__ = [
    "CorrelatorOptions",
    "EventCorrelateResult",
    "EventCorrelator",
    "aggregate_by_reason",
    "aggregate_message",
    "event_key",
    "spam_key",
]

LRU_CACHE_SIZE = 4096
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL_SECONDS = 600.0
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0

K = TypeVar("K")
V = TypeVar("V")


def _s(value: object) -> str:
    return value if isinstance(value, str) else ""


def _source(event: Event) -> EventSource:
    return event.source if isinstance(event.source, EventSource) else EventSource()


def _object_key(ref: ObjectReference) -> list[str]:
    return [_s(ref.kind), _s(ref.namespace), _s(ref.name), _s(ref.uid), _s(ref.api_version)]


def event_key(event: Event) -> str:
    """Identity of an event for counting: everything but timestamps and count."""
    src, ref = _source(event), event.involved_object
    return "".join(
        [
            _s(src.component),
            _s(src.host),
            _s(ref.kind),
            _s(ref.namespace),
            _s(ref.name),
            _s(ref.field_path),
            _s(ref.uid),
            _s(ref.api_version),
            _s(event.type),
            _s(event.reason),
            _s(event.message),
        ]
    )


def spam_key(event: Event) -> str:
    """The default spam-filter key: source, involved object (no field path) and type."""
    src = _source(event)
    return "".join(
        [_s(src.component), _s(src.host), *_object_key(event.involved_object), _s(event.type)]
    )


def aggregate_by_reason(event: Event) -> tuple[str, str]:
    """The default aggregation: (aggregate key, local key). Events with the same aggregate key
    and different local keys (messages) are similar."""
    src = _source(event)
    aggregate = "".join(
        [
            _s(src.component),
            _s(src.host),
            *_object_key(event.involved_object),
            _s(event.type),
            _s(event.reason),
            _s(event.reporting_component),
            _s(event.reporting_instance),
        ]
    )
    return aggregate, _s(event.message)


def aggregate_message(event: Event) -> str:
    """The default message of an aggregate event."""
    return "(combined from similar events): " + _s(event.message)


@dataclass(frozen=True)
class CorrelatorOptions:
    """Overrides of the correlator's defaults (client-go's values)."""

    lru_cache_size: int = LRU_CACHE_SIZE
    burst_size: int = SPAM_BURST
    qps: float = SPAM_QPS
    key_func: Callable[[Event], tuple[str, str]] = aggregate_by_reason
    message_func: Callable[[Event], str] = aggregate_message
    max_events: int = AGGREGATE_MAX_EVENTS
    max_interval_seconds: float = AGGREGATE_INTERVAL_SECONDS
    spam_key_func: Callable[[Event], str] = spam_key
    clock: Clock | None = None
    """``None``: the clock of the broadcaster (or the system clock for a bare correlator)."""


@dataclass(frozen=True)
class EventCorrelateResult:
    """What to do with an event: skip it, create it, or PATCH the existing one with ``patch``."""

    event: Event | None
    patch: bytes | None = None
    skip: bool = False


class _LRU(Generic[K, V]):
    """A bounded mapping that evicts the least recently used entry. Not thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._size:
            self._data.popitem(last=False)


@dataclass
class _AggregateRecord:
    local_keys: set[str]
    last_seen: float


@dataclass(frozen=True)
class _Observation:
    count: int
    first_timestamp: str | None
    name: str | None
    resource_version: str | None


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) else None


class EventCorrelator:
    """Decides, event by event, whether to skip, create or patch. Thread-safe."""

    def __init__(
        self, options: CorrelatorOptions | None = None, *, default_clock: Clock | None = None
    ) -> None:
        self.options = options or CorrelatorOptions()
        self._clock: Clock = self.options.clock or default_clock or REAL_CLOCK
        self._lock = threading.Lock()
        size = self.options.lru_cache_size
        self._spam: _LRU[str, TokenBucket] = _LRU(size)
        self._aggregates: _LRU[str, _AggregateRecord] = _LRU(size)
        self._observations: _LRU[str, _Observation] = _LRU(size)

    def correlate(self, event: Event) -> EventCorrelateResult:
        """Aggregate, count and spam-filter ``event`` (in that order, as client-go does)."""
        with self._lock:
            aggregated, key = self._aggregate(event)
            observed, patch = self._observe(aggregated, key)
            if self._is_spam(observed):
                return EventCorrelateResult(None, skip=True)
            return EventCorrelateResult(observed, patch)

    def update_state(self, event: Event) -> None:
        """Remember the server's copy of a written event (its name and resourceVersion)."""
        with self._lock:
            self._observations.put(event_key(event), self._observation_of(event))

    def _aggregate(self, event: Event) -> tuple[Event, str]:
        now = self._clock.now()
        aggregate_key, local_key = self.options.key_func(event)
        record = self._aggregates.get(aggregate_key)
        if record is None or now - record.last_seen > self.options.max_interval_seconds:
            record = _AggregateRecord(set(), now)
        record.local_keys.add(local_key)
        record.last_seen = now
        self._aggregates.put(aggregate_key, record)
        if len(record.local_keys) < self.options.max_events:
            return event, event_key(event)
        record.local_keys.pop()  # keep the set from growing past the threshold
        wall = self._clock.time()
        timestamp = format_time(wall)
        aggregate = Event(
            metadata=ObjectMeta(
                name=f"{_s(event.involved_object.name)}.{int(wall * 1e9):x}",
                namespace=event.metadata.namespace,
            ),
            involved_object=event.involved_object,
            count=1,
            first_timestamp=timestamp,
            last_timestamp=timestamp,
            message=self.options.message_func(event),
            type=event.type,
            reason=event.reason,
            source=event.source,
        )
        return aggregate, aggregate_key

    def _observe(self, event: Event, key: str) -> tuple[Event, bytes | None]:
        last = self._observations.get(key)
        patch: bytes | None = None
        if last is not None and last.count > 0:
            event = msgspec.structs.replace(
                event,
                metadata=msgspec.structs.replace(
                    event.metadata,
                    name=last.name if last.name is not None else UNSET,
                    resource_version=(
                        last.resource_version if last.resource_version is not None else UNSET
                    ),
                ),
                first_timestamp=last.first_timestamp if last.first_timestamp else UNSET,
                count=last.count + 1,
            )
            patch = _count_patch(event)
        self._observations.put(key, self._observation_of(event))
        return event, patch

    @staticmethod
    def _observation_of(event: Event) -> _Observation:
        count = event.count if isinstance(event.count, int) else 0
        meta = event.metadata
        return _Observation(
            count, _opt(event.first_timestamp), _opt(meta.name), _opt(meta.resource_version)
        )

    def _is_spam(self, event: Event) -> bool:
        key = self.options.spam_key_func(event)
        bucket = self._spam.get(key)
        if bucket is None:
            bucket = TokenBucket(self.options.qps, self.options.burst_size, clock=self._clock)
        self._spam.put(key, bucket)
        return not bucket.try_accept()


def _count_patch(event: Event) -> bytes:
    """The merge patch that turns the stored event into this repeat: the fields a repeat
    changes (count, last timestamp, and the message when it has one)."""
    body: dict[str, object] = {"count": event.count}
    if isinstance(event.last_timestamp, str):
        body["lastTimestamp"] = event.last_timestamp
    if _s(event.message):
        body["message"] = event.message
    return encode(body)
