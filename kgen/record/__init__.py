"""Recording events about objects, as Kubernetes controllers do.

::

    broadcaster = EventBroadcaster()
    broadcaster.start_recording_to_sink(RESTEventSink(client))   # writes core/v1 Events
    broadcaster.start_structured_logging()                       # and logs them
    recorder = broadcaster.new_recorder("my-controller")
    recorder.event(pod, "Warning", "FailedSync", "could not reach the backend")
    ...
    broadcaster.shutdown()

Recorders never block; the broadcaster delivers on its own threads, correlating events first
(aggregation of similar events, counting of repeats, spam filtering; see
:class:`EventCorrelator`). Everything takes an injectable clock from :mod:`kgen.clock`.
"""

from kgen.record._broadcaster import EventBroadcaster, EventWatcher
from kgen.record._correlator import (
    CorrelatorOptions,
    EventCorrelateResult,
    EventCorrelator,
    aggregate_by_reason,
    aggregate_message,
    event_key,
    spam_key,
)
from kgen.record._recorder import (
    EVENT_TYPE_NORMAL,
    EVENT_TYPE_WARNING,
    EventRecorder,
    FakeRecorder,
    Recorder,
)
from kgen.record._reference import get_reference
from kgen.record._rest_sink import RESTEventSink
from kgen.record._sink import EventSink
from kgen.record._types import Event, EventSeries, EventSource, ObjectReference

__all__ = [
    "EVENT_TYPE_NORMAL",
    "EVENT_TYPE_WARNING",
    "CorrelatorOptions",
    "Event",
    "EventBroadcaster",
    "EventCorrelateResult",
    "EventCorrelator",
    "EventRecorder",
    "EventSeries",
    "EventSink",
    "EventSource",
    "EventWatcher",
    "FakeRecorder",
    "ObjectReference",
    "RESTEventSink",
    "Recorder",
    "aggregate_by_reason",
    "aggregate_message",
    "event_key",
    "get_reference",
    "spam_key",
]
