"""The watch event model and :class:`Watch`, the handle on one running watch.

A ``Watch`` is fed by any iterator of :class:`WatchEvent` (the REST client feeds it from an HTTP
stream; fakes feed it from a queue) plus an ``on_stop`` callback that makes a blocked iterator
return promptly. Exactly one thread should iterate a ``Watch``; :meth:`Watch.stop` may be called
from any thread, any number of times.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar

from kgen.meta import Status
from kgen.rest.errors import StatusError

__all__ = ["EVENT_TYPES", "EventType", "Watch", "WatchEvent", "watch_error"]

T = TypeVar("T")

EventType: TypeAlias = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]
EVENT_TYPES: Final = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"})


@dataclass(frozen=True, slots=True)
class WatchEvent(Generic[T]):
    """One change: ``ADDED``/``MODIFIED`` carry the new state, ``DELETED`` the last state,
    ``BOOKMARK`` an object whose only meaningful field is ``metadata.resourceVersion``.

    ``ERROR`` events carry a ``Status``; :class:`Watch` never hands them out but raises
    :class:`StatusError` instead. The object is shared with whoever decoded it: do not mutate it.
    """

    type: EventType
    object: T


def watch_error(obj: object) -> StatusError:
    """The error an ``ERROR`` event's object stands for (its ``Status``, or a failure naming
    what came instead): what sync and async watches raise instead of handing the event out."""
    status = obj if isinstance(obj, Status) else None
    if status is None:
        status = Status(status="Failure", message=f"watch error: {obj!r}")
    return StatusError(status)


class Watch(Generic[T]):
    """An iterable of :class:`WatchEvent` that ends when the server closes the stream, when the
    connection goes silent for longer than the read timeout, or when :meth:`stop` is called.

    An ``ERROR`` event raises :class:`StatusError` carrying the server's Status (a 410 ``Expired``
    means "resource version too old: list again"); the watch is over after that. Use it as a
    context manager, or call :meth:`stop`, to release the connection when not reading to the end.
    """

    def __init__(
        self, events: Iterator[WatchEvent[Any]], on_stop: Callable[[], None] | None = None
    ) -> None:
        self._events = events
        self._on_stop = on_stop
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._stop_called = False

    @classmethod
    def empty(cls) -> Watch[T]:
        """A watch that yields nothing (what a watch whose connection could not be established
        after retries turns into: the caller simply watches again)."""
        return cls(iter(()))

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` has been called."""
        return self._stopped.is_set()

    def stop(self) -> None:
        """End the watch: iteration stops promptly (at most one more event) and the
        connection is closed. Thread-safe and idempotent."""
        self._stopped.set()
        with self._lock:
            if self._stop_called:
                return
            self._stop_called = True
        on_stop, events = self._release()
        if on_stop is not None:
            on_stop()
        close = getattr(events, "close", None)
        if close is not None:
            # Finishes a source that is not running right now; one that is running in the
            # reading thread has just been interrupted and finishes there.
            with contextlib.suppress(ValueError):
                close()

    def _release(self) -> tuple[Callable[[], None] | None, Iterator[WatchEvent[Any]]]:
        """Let go of the source and the stop callback (they may hold an HTTP response, and
        through it a connection pool) and return them; an ended watch then holds nothing."""
        with self._lock:
            on_stop, self._on_stop = self._on_stop, None
            events, self._events = self._events, iter(())
        return on_stop, events

    def __iter__(self) -> Watch[T]:
        return self

    def __next__(self) -> WatchEvent[T]:
        if self._stopped.is_set():
            raise StopIteration
        try:
            event = next(self._events)
        except StopIteration:
            self._release()
            raise
        except Exception:
            if self._stopped.is_set():
                raise StopIteration from None
            raise
        if self._stopped.is_set():
            raise StopIteration
        if event.type == "ERROR":
            self.stop()
            raise watch_error(event.object)
        return event

    def __enter__(self) -> Watch[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
