"""Writing one recorded event to a sink, sans-I/O: correlate, then PATCH a repeat (creating it
when the PATCH finds nothing) or create, retrying transport failures with pauses. Run by the
thread broadcaster (:class:`~kgen.record.EventBroadcaster`) and by the asyncio one
(:class:`~kgen.record.aio.AsyncEventBroadcaster`).

:func:`record_to_sink` is a generator that yields the operations it needs (:class:`Create`,
:class:`Patch`: result the server's copy; :class:`Pause`: result ``False`` when the watcher was
stopped meanwhile) and receives each result, or has the sink's exception thrown in. An API
error (:class:`kgen.rest.StatusError`) is not retried; any other failure is retried up to
``max_tries`` times in all, ``sleep_duration`` apart, the first pause randomised in
``[0, sleep_duration)`` so that many clients do not retry in step.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import msgspec

from kgen.meta import UNSET
from kgen.record._correlator import EventCorrelator
from kgen.record._types import Event
from kgen.rest.errors import StatusError, is_already_exists, is_not_found

__all__ = ["Create", "Patch", "Pause", "SinkOp", "record_to_sink"]

log = logging.getLogger("kgen.record")


@dataclass(frozen=True)
class Create:
    """Create ``event`` with the sink."""

    event: Event


@dataclass(frozen=True)
class Patch:
    """Patch the stored event named like ``event`` with ``data``."""

    event: Event
    data: bytes


@dataclass(frozen=True)
class Pause:
    """Wait ``seconds`` before the next try; ``False`` when the watcher was stopped."""

    seconds: float


SinkOp = Create | Patch | Pause


def record_to_sink(
    correlator: EventCorrelator, event: Event, max_tries: int, sleep_duration: float
) -> Generator[SinkOp, Any, None]:
    """Correlate ``event`` and write the result; see the module docstring."""
    result = correlator.correlate(event)
    if result.skip or result.event is None:
        return
    correlated = result.event
    for tries in range(1, max_tries + 1):
        if (yield from _record_once(correlator, correlated, result.patch)):
            return
        if tries == max_tries:
            log.error(
                "giving up on event %s/%s after %d tries",
                correlated.metadata.namespace or "",
                correlated.metadata.name or "",
                tries,
            )
            return
        pause = sleep_duration * (random.random() if tries == 1 else 1.0)
        if not (yield Pause(pause)):
            log.warning(
                "event %s/%s not written: broadcaster stopped while retrying",
                correlated.metadata.namespace or "",
                correlated.metadata.name or "",
            )
            return


def _record_once(
    correlator: EventCorrelator, event: Event, patch: bytes | None
) -> Generator[SinkOp, Any, bool]:
    """One write attempt. True when done (written, or failed in a way not worth retrying)."""
    ns, name = event.metadata.namespace or "", event.metadata.name or ""
    try:
        written: Event | None = None
        if isinstance(event.count, int) and event.count > 1 and patch is not None:
            try:
                written = yield Patch(event, patch)
            except StatusError as err:
                if not is_not_found(err):
                    raise
        if written is None:
            fresh = msgspec.structs.replace(
                event,
                metadata=msgspec.structs.replace(event.metadata, resource_version=UNSET),
            )
            written = yield Create(fresh)
    except StatusError as err:
        terminating = any(cause.reason == "NamespaceTerminating" for cause in err.causes())
        if is_already_exists(err) or terminating:
            log.debug("server rejected event %s/%s (will not retry): %s", ns, name, err)
        else:
            log.error("server rejected event %s/%s (will not retry): %s", ns, name, err)
        return True
    except Exception as err:
        log.error("unable to write event %s/%s (may retry): %s", ns, name, err)
        return False
    assert written is not None
    correlator.update_state(written)
    return True
