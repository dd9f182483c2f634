"""The logs of the test server's containers: what ``pods/<name>/log`` reads.

The test server runs no containers, so a container's log is whatever the test writes to it:
``server.containers.log("default", "web", "app").write("started\\n")``. A log is a sequence of
entries, each one line of stdout or stderr with the time it was written, as the container
runtime records them; :meth:`ContainerLog.end` says the container has stopped (a follower then
reaches the end of the stream), and :meth:`ContainerLogs.restart` ends the current instance and
starts a new one, the old one becoming what ``previous=true`` reads.

Serving a request is the kubelet's reading of the log file: :func:`parse_options` checks the
query as kube-apiserver checks ``PodLogOptions`` (400 for a value that does not parse, 422 for
one that is invalid), and :meth:`ContainerLog.read` applies ``tailLines`` (where to start),
``sinceSeconds``/``sinceTime`` (entries older are skipped), ``timestamps`` (an RFC 3339 prefix
with nanoseconds, trailing zeros trimmed, as Go's ``RFC3339Nano`` writes it) and
``limitBytes`` (the output is cut at exactly that many bytes), then, with ``follow=true``,
waits for new entries until the log ends or the reader stops.

Thread-safety: everything here may be called from any thread; writers wake the followers.
"""

from __future__ import annotations

import calendar
import re
import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kgen.testing._errors import APIError

__all__ = [
    "ContainerLog",
    "ContainerLogs",
    "LogEntry",
    "LogOptions",
    "format_time",
    "parse_options",
]

LogStream = Literal["stdout", "stderr"]

_POLL = 0.1
"""Seconds a follower waits for new entries before asking again whether to stop."""

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})\Z"
)


@dataclass(frozen=True)
class LogEntry:
    """One line of a container's output: ``data`` ends with ``\\n`` (but for the unterminated
    rest a container wrote before it stopped); ``time_ns`` is when it was written, in
    nanoseconds since the epoch (UTC)."""

    time_ns: int
    stream: LogStream
    data: bytes


@dataclass(frozen=True)
class LogOptions:
    """The options of one log request, checked. ``since_ns``: entries written before this time
    (ns since the epoch) are left out, from ``sinceSeconds`` or ``sinceTime``."""

    container: str = ""
    follow: bool = False
    previous: bool = False
    since_ns: int | None = None
    tail_lines: int | None = None
    limit_bytes: int | None = None
    timestamps: bool = False


class ContainerLog:
    """The log of one instance of a container; see the module docstring. Thread-safe."""

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._pending: dict[LogStream, bytes] = {"stdout": b"", "stderr": b""}
        self._ended = False
        self._followers = 0
        self._changed = threading.Condition()

    def write(
        self, data: bytes | str, *, stream: LogStream = "stdout", at: datetime | None = None
    ) -> None:
        """Append what the container wrote to ``stream``: each complete line becomes an entry
        stamped ``at`` (a timezone-aware time; now by default). A line's unterminated start is
        kept until its ``\\n`` arrives (or the log ends). Raises ``ValueError`` once the log
        has ended, or for a naive ``at``."""
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"a container writes to stdout or stderr, not {stream!r}")
        stamp = time.time_ns() if at is None else _nanoseconds(at)
        raw = data.encode() if isinstance(data, str) else data
        with self._changed:
            if self._ended:
                raise ValueError("this container log has ended: restart the container first")
            *lines, rest = (self._pending[stream] + raw).split(b"\n")
            self._pending[stream] = rest
            self._entries.extend(LogEntry(stamp, stream, line + b"\n") for line in lines)
            if lines:
                self._changed.notify_all()

    def end(self) -> None:
        """The container has stopped: unterminated output becomes a last entry, followers get
        what is left and then the end of their stream. Idempotent."""
        with self._changed:
            if self._ended:
                return
            now = time.time_ns()
            for stream, rest in self._pending.items():
                if rest:
                    self._entries.append(LogEntry(now, stream, rest))
            self._pending = {"stdout": b"", "stderr": b""}
            self._ended = True
            self._changed.notify_all()

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def entries(self) -> list[LogEntry]:
        """The complete entries so far, oldest first (a copy)."""
        with self._changed:
            return list(self._entries)

    @property
    def followers(self) -> int:
        """How many ``follow=true`` requests are reading this log now (a reader that has gone
        is no longer counted once its server thread has noticed)."""
        with self._changed:
            return self._followers

    def read(
        self, options: LogOptions, should_stop: Callable[[], bool]
    ) -> Generator[bytes, None, None]:
        """The log as the kubelet serves it for ``options``, in chunks; with ``follow``, new
        entries as they are written, until the log ends or ``should_stop()`` (asked every
        tenth of a second while idle) says the reader has gone."""
        with self._changed:
            position = 0
            if options.tail_lines is not None:
                position = max(0, len(self._entries) - options.tail_lines)
            if options.follow:
                self._followers += 1
        left = options.limit_bytes
        try:
            while left is None or left > 0:
                with self._changed:
                    if position >= len(self._entries):
                        if not options.follow or self._ended:
                            return
                        self._changed.wait(_POLL)
                    batch = self._entries[position:]
                    position = len(self._entries)
                if not batch:
                    if should_stop():  # asked outside the lock: it may take others
                        return
                    continue
                chunk = b"".join(_render(entry, options) for entry in batch)
                if left is not None:
                    chunk = chunk[:left]
                    left -= len(chunk)
                if chunk:
                    yield chunk
        finally:
            if options.follow:
                with self._changed:
                    self._followers -= 1


class ContainerLogs:
    """The logs of every container of one server, by namespace, pod and container: the
    current instance of each, and the one before it. Thread-safe."""

    def __init__(self) -> None:
        self._current: dict[tuple[str, str, str], ContainerLog] = {}
        self._previous: dict[tuple[str, str, str], ContainerLog] = {}
        self._lock = threading.Lock()

    def log(self, namespace: str, pod: str, container: str) -> ContainerLog:
        """The current log of the container (an empty one the first time it is asked for)."""
        with self._lock:
            return self._current.setdefault((namespace, pod, container), ContainerLog())

    def restart(self, namespace: str, pod: str, container: str) -> ContainerLog:
        """The container restarts: its current log ends and becomes the previous one (what
        ``previous=true`` reads; older instances are forgotten, as the kubelet keeps one).
        Returns the new, empty, current log."""
        key = (namespace, pod, container)
        with self._lock:
            old = self._current.setdefault(key, ContainerLog())
            self._previous[key] = old
            self._current[key] = new = ContainerLog()
        old.end()
        return new

    def previous(self, namespace: str, pod: str, container: str) -> ContainerLog:
        """The log of the container's last terminated instance; 400 as the kubelet answers when
        it has none."""
        with self._lock:
            found = self._previous.get((namespace, pod, container))
        if found is None:
            raise APIError.bad_request(
                f'previous terminated container "{container}" in pod "{pod}" not found'
            )
        return found

    def clear(self) -> None:
        """Forget every log; followers of a forgotten log are ended."""
        with self._lock:
            logs = [*self._current.values(), *self._previous.values()]
            self._current.clear()
            self._previous.clear()
        for log in logs:
            log.end()


def parse_options(query: Mapping[str, list[str]], pod: str) -> LogOptions:
    """The ``PodLogOptions`` of a request's query, as kube-apiserver decodes (400 for a value
    that is not a number, a boolean or an RFC 3339 time) and validates them (422 Invalid for a
    negative ``tailLines``, a ``limitBytes`` or ``sinceSeconds`` below 1, or both
    ``sinceSeconds`` and ``sinceTime``). ``insecureSkipTLSVerifyBackend`` is accepted and has
    nothing to do (there is no kubelet connection to verify)."""

    def first(name: str) -> str | None:
        values = query.get(name)
        return values[0] if values else None

    def flag(name: str) -> bool:
        value = first(name)
        return value is not None and value != "0" and value.lower() != "false"

    def number(name: str) -> int | None:
        value = first(name)
        if value is None:
            return None
        if not re.fullmatch(r"[+-]?\d+", value):
            raise APIError.bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax')
        return int(value)

    since_seconds, tail, limit = number("sinceSeconds"), number("tailLines"), number("limitBytes")
    since_time = first("sinceTime")
    since_ns = None if since_time is None else _parse_time(since_time)
    causes: list[tuple[str, str, str]] = []

    def invalid(field: str, value: int, why: str) -> None:
        causes.append((field, "FieldValueInvalid", f"Invalid value: {value}: {why}"))

    if tail is not None and tail < 0:
        invalid("tailLines", tail, "must be greater than or equal to 0")
    if limit is not None and limit < 1:
        invalid("limitBytes", limit, "must be greater than 0")
    if since_seconds is not None and since_time is not None:
        forbidden = "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"
        causes.append(("", "FieldValueForbidden", forbidden))
    elif since_seconds is not None:
        if since_seconds < 1:
            invalid("sinceSeconds", since_seconds, "must be greater than 0")
        since_ns = time.time_ns() - since_seconds * 1_000_000_000
    if causes:
        raise APIError.invalid("PodLogOptions", "", pod, causes)
    return LogOptions(
        container=first("container") or "",
        follow=flag("follow"),
        previous=flag("previous"),
        since_ns=since_ns,
        tail_lines=tail,
        limit_bytes=limit,
        timestamps=flag("timestamps"),
    )


def format_time(time_ns: int) -> str:
    """``time_ns`` in RFC 3339 with nanoseconds, UTC, trailing zeros of the fraction trimmed
    (none at all on a whole second), as Go's ``time.RFC3339Nano`` formats it."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{whole}.{fraction}Z" if fraction else f"{whole}Z"


def _render(entry: LogEntry, options: LogOptions) -> bytes:
    if options.since_ns is not None and entry.time_ns < options.since_ns:
        return b""
    if options.timestamps:
        return format_time(entry.time_ns).encode() + b" " + entry.data
    return entry.data


def _parse_time(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time; 400 as kube-apiserver answers a
    ``sinceTime`` it cannot parse."""
    match = _RFC3339.match(text)
    if match is None:
        raise APIError.bad_request(
            f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": not an RFC 3339 time'
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7) or "", match.group(8)
    offset = (
        0
        if zone == "Z"
        else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    )
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
        datetime(year, month, day, hour, minute, second)  # rejects a 31st of February
    except ValueError as err:
        raise APIError.bad_request(f'parsing time "{text}": {err}') from None
    return (seconds - offset) * 1_000_000_000 + int(fraction.ljust(9, "0"))


def _nanoseconds(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a log entry's time must be timezone-aware, got {at!r}")
    return calendar.timegm(at.utctimetuple()) * 1_000_000_000 + at.microsecond * 1000
