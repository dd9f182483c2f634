"""A scripted, in-memory ListerWatcher: the test decides every list answer and watch event.

Lists answer from a script (a list of results or exceptions, consumed in order; the last one
repeats) and record the options they were called with. Each watch call records its options and
hands the test a :class:`FakeWatch` through :meth:`ScriptedListerWatcher.next_watch`; the test
then pushes events into it. Everything is thread-safe.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from kgen.meta import ListMeta, ObjectMeta, Status, StatusCause, StatusDetails
from kgen.rest import ListOptions, StatusError, Watch, WatchEvent

from .objects import Pod, PodList

_END = object()


class FakeWatch:
    """One watch: push events with :meth:`send`; :meth:`end` closes it as a server would."""

    def __init__(self, options: ListOptions) -> None:
        self.options = options
        self._events: queue.Queue[object] = queue.Queue()
        self.watch: Watch[Any] = Watch(self._iterate(), on_stop=lambda: self._events.put(_END))

    def _iterate(self) -> Iterator[WatchEvent[Any]]:
        while True:
            item = self._events.get()
            if item is _END:
                return
            assert isinstance(item, WatchEvent)
            yield item

    @property
    def stopped(self) -> bool:
        return self.watch.stopped

    def send(self, type_: str, obj: object) -> None:
        self._events.put(WatchEvent(type_, obj))  # type: ignore[arg-type]

    def error(self, code: int, reason: str, message: str = "") -> None:
        self.send("ERROR", Status(status="Failure", code=code, reason=reason, message=message))

    def end(self) -> None:
        self._events.put(_END)


def status_error(
    code: int, reason: str, message: str = "", causes: Sequence[StatusCause] = ()
) -> StatusError:
    """A :class:`StatusError` as the REST client raises it."""
    details = StatusDetails(causes=tuple(causes)) if causes else None
    return StatusError(
        Status(
            status="Failure",
            code=code,
            reason=reason,
            message=message or reason,
            details=details if details is not None else StatusDetails(),
        )
    )


def pod_list(rv: str, *pods: Pod, continue_: str = "") -> PodList:
    return PodList(
        items=tuple(pods),
        metadata=ListMeta(resource_version=rv, continue_=continue_ or None),
    )


class ScriptedListerWatcher:
    """See the module docstring. ``watch_errors`` are raised by the next watch calls first."""

    def __init__(
        self,
        lists: Sequence[PodList | BaseException] = (),
        watch_errors: Sequence[BaseException] = (),
        watch_list_semantics_unsupported: bool = False,
    ) -> None:
        self._lock = threading.Lock()
        self._lists = list(lists) or [pod_list("1")]
        self._watch_errors = list(watch_errors)
        self.list_calls: list[ListOptions] = []
        self.watch_calls: list[ListOptions] = []
        self._watches: queue.Queue[FakeWatch] = queue.Queue()
        self.watch_list_semantics_unsupported = watch_list_semantics_unsupported

    def list(self, options: ListOptions) -> PodList:
        with self._lock:
            self.list_calls.append(options)
            answer = self._lists.pop(0) if len(self._lists) > 1 else self._lists[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def watch(self, options: ListOptions) -> Watch[Any]:
        with self._lock:
            self.watch_calls.append(options)
            error = self._watch_errors.pop(0) if self._watch_errors else None
        if error is not None:
            raise error
        fake = FakeWatch(options)
        self._watches.put(fake)
        return fake.watch

    def next_watch(self, timeout: float = 5.0) -> FakeWatch:
        """The next watch the code under test opens (waits for it)."""
        return self._watches.get(timeout=timeout)

    def add_list(self, result: PodList | BaseException) -> None:
        with self._lock:
            self._lists.append(result)


def bookmark(rv: str, initial_events_end: bool = False) -> Pod:
    annotations = {"k8s.io/initial-events-end": "true"} if initial_events_end else None
    return Pod(metadata=ObjectMeta(resource_version=rv, annotations=annotations))
