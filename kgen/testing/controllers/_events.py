"""The Events the test server's controllers write, as kube-controller-manager, kube-scheduler and
the kubelet write theirs: ``core/v1`` Events through :mod:`kgen.record`.

:class:`ControllerEvents` is one per server. :meth:`ControllerEvents.recorder` hands a
component (``deployment-controller``, ``default-scheduler``, ``kubelet`` on a host, ...) a
:class:`kgen.record.EventRecorder` whose events go through one :class:`kgen.record.EventCorrelator`
(client-go's aggregation, counting and spam filter: a repeat of the same event PATCHes its
``count`` and ``lastTimestamp``) and are written through the tracker (create, or a strategic
merge patch for a repeat). The write happens on the caller's thread, inside its sync, so an
event is stored before the controller's next step (client-go hands it to a broadcaster
thread; here there is no thread to start or join, and tests see events in order). A write the
server refuses (a namespace terminating, a name taken) is dropped, as client-go drops it.
"""

from __future__ import annotations

import threading
from typing import Any

import msgspec

from kgen.clock import REAL_CLOCK
from kgen.record import EventCorrelator, EventRecorder, EventSource
from kgen.record._recorder import Recorder  # the broadcaster's recorder, fed synchronously
from kgen.record._types import Event
from kgen.testing._errors import APIError
from kgen.testing._options import PATCH_STRATEGIC, WriteOptions
from kgen.testing._tracker import ObjectTracker

__all__ = ["ControllerEvents"]

_EVENTS = ("", "events")


class ControllerEvents:
    """See the module docstring. Thread-safe: recorders on every controller thread share it."""

    def __init__(self, tracker: ObjectTracker) -> None:
        self._tracker = tracker
        self._correlator = EventCorrelator(default_clock=REAL_CLOCK)
        self._lock = threading.Lock()

    def recorder(self, component: str, host: str = "") -> EventRecorder:
        """A recorder whose events carry ``source: {component, host}``."""
        source = EventSource(component=component, host=host or msgspec.UNSET)
        return Recorder(source, REAL_CLOCK, lambda event: self._write(event, component))

    def _write(self, event: Event, component: str) -> None:
        info = self._tracker.registry.stored_one(*_EVENTS)
        if info is None:
            return
        with self._lock:
            result = self._correlator.correlate(event)
            if result.skip or result.event is None:
                return
            correlated = result.event
            namespace = correlated.metadata.namespace or "default"
            options = WriteOptions(field_manager=component)
            written: Any = None
            try:
                count = correlated.count
                if isinstance(count, int) and count > 1 and result.patch is not None:
                    try:
                        written = self._tracker.patch(
                            info,
                            namespace,
                            str(correlated.metadata.name),
                            PATCH_STRATEGIC,
                            msgspec.json.decode(result.patch),
                            options,
                        )
                    except APIError as err:
                        if err.code != 404:
                            raise
                if written is None:
                    body = msgspec.to_builtins(correlated)
                    body.setdefault("apiVersion", "v1")
                    body.setdefault("kind", "Event")
                    body["metadata"].pop("resourceVersion", None)
                    written = self._tracker.create(info, namespace, body, options)
            except APIError:
                return  # refused (terminating namespace, taken name): dropped, as client-go does
            self._correlator.update_state(
                msgspec.json.decode(msgspec.json.encode(written), type=Event)
            )
