"""Cron schedules as kube-controller-manager reads a CronJob's ``spec.schedule``.

:func:`parse` takes what robfig/cron's ``ParseStandard`` takes: five fields (minute, hour,
day of month, month, day of week) of ``*``, ``?``, numbers, ranges ``a-b``, steps ``/n`` and
lists ``a,b``, month and weekday names (``JAN``, ``mon``); the descriptors ``@yearly``
(``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``), ``@hourly`` and
``@every <duration>``; and a leading ``TZ=<zone>`` or ``CRON_TZ=<zone>``. As in cron, when
both day fields are restricted a day matching either runs; when one is ``*`` only the other
counts.

A :class:`Schedule` answers :meth:`Schedule.next`: the first run strictly after a moment, in
the schedule's time zone (the zone's wall clock: at a DST change a skipped local time does
not run, a repeated one runs once). Immutable and thread-safe. Bad text raises
:class:`ScheduleError` with robfig/cron's wording where it has one.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

__all__ = ["Schedule", "ScheduleError", "load_zone", "parse"]

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_UNITS = {"s": 1, "m": 60, "h": 3600}
_FIVE_YEARS = 5 * 366


class ScheduleError(ValueError):
    """A schedule or time zone that cannot be read (the message says what)."""


def load_zone(name: str) -> datetime.tzinfo:
    """The time zone ``name`` (IANA; ``""`` and ``UTC`` are UTC, ``Local`` the machine's)."""
    if name in ("", "UTC"):
        return datetime.UTC
    if name == "Local":
        local = datetime.datetime.now().astimezone().tzinfo
        assert local is not None
        return local
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name}") from None


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the allowed values of each field, or a fixed ``every`` interval."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    day_star: bool
    weekday_star: bool
    zone: datetime.tzinfo
    every: int = 0
    """Seconds of an ``@every`` schedule (then the fields are unused); 0 otherwise."""

    def _day_matches(self, day: datetime.datetime) -> bool:
        dom = day.day in self.days
        dow = (day.weekday() + 1) % 7 in self.weekdays
        if self.day_star or self.weekday_star:
            return dom and dow
        return dom or dow

    def next(self, after: datetime.datetime) -> datetime.datetime | None:
        """The first run strictly after ``after`` (an aware datetime), in UTC; ``None`` if none
        comes within five years (``0 0 30 2 *``)."""
        if self.every:
            whole = after.astimezone(datetime.UTC).replace(microsecond=0)
            return whole + datetime.timedelta(seconds=self.every)
        local = after.astimezone(self.zone).replace(second=0, microsecond=0, tzinfo=None)
        moment = local + datetime.timedelta(minutes=1)
        limit = moment + datetime.timedelta(days=_FIVE_YEARS)
        while moment < limit:
            if moment.month not in self.months:
                year, month = divmod(moment.year * 12 + moment.month, 12)  # the next month
                moment = datetime.datetime(year, month + 1, 1)
                continue
            if not self._day_matches(moment):
                moment = moment.replace(hour=0, minute=0) + datetime.timedelta(days=1)
                continue
            if moment.hour not in self.hours:
                moment = moment.replace(minute=0) + datetime.timedelta(hours=1)
                continue
            if moment.minute not in self.minutes:
                moment += datetime.timedelta(minutes=1)
                continue
            aware = moment.replace(tzinfo=self.zone)
            back = aware.astimezone(datetime.UTC)
            if back.astimezone(self.zone).replace(tzinfo=None) != moment:
                moment += datetime.timedelta(minutes=1)  # skipped by a DST change
                continue
            if back <= after:
                moment += datetime.timedelta(minutes=1)
                continue
            return back
        return None


def _field(text: str, index: int) -> tuple[frozenset[int], bool]:
    low, high, names = _BOUNDS[index]
    values: set[int] = set()
    star = False
    for part in text.split(","):
        step = 1
        body = part
        if "/" in part:
            body, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"failed to parse int from {step_text}: invalid step")
            step = int(step_text)
        if body in ("*", "?"):
            star = star or part == body or step == 1
            start, end = low, high
        else:
            first, dash, last = body.partition("-")
            start = _number(first, names)
            end = _number(last, names) if dash else (high if "/" in part else start)
        if start < low:
            raise ScheduleError(f"beginning of range ({start}) below minimum ({low}): {part}")
        if end > high:
            raise ScheduleError(f"end of range ({end}) above maximum ({high}): {part}")
        if start > end:
            raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {part}")
        values.update(range(start, end + 1, step))
    return frozenset(values), star


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ScheduleError(f"failed to parse int from {text}: invalid syntax")
    return int(text)


def _every(text: str) -> int:
    total, number = 0.0, ""
    for char in text:
        if char.isdigit() or char == ".":
            number += char
        elif char in _UNITS and number:
            total += float(number) * _UNITS[char]
            number = ""
        else:
            raise ScheduleError(f"failed to parse duration @every {text}")
    if number or total < 1:
        raise ScheduleError(f"failed to parse duration @every {text}")
    return int(total)


def parse(text: str) -> Schedule:
    """The :class:`Schedule` of ``text`` (see the module docstring)."""
    spec = text.strip()
    zone: datetime.tzinfo = datetime.UTC
    if spec.startswith(("TZ=", "CRON_TZ=")):
        head, _, spec = spec.partition(" ")
        zone = load_zone(head.partition("=")[2])
        spec = spec.strip()
    if not spec:
        raise ScheduleError("empty spec string")
    if spec.startswith("@every "):
        empty = frozenset[int]()
        every = _every(spec[len("@every ") :].strip())
        return Schedule(empty, empty, empty, empty, empty, True, True, zone, every)
    if spec.startswith("@"):
        if spec not in _DESCRIPTORS:
            raise ScheduleError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    parts = spec.split()
    if len(parts) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(parts)}: {spec}")
    (minutes, _), (hours, _), (days, day_star), (months, _), (weekdays, weekday_star) = (
        _field(part, i) for i, part in enumerate(parts)
    )
    return Schedule(minutes, hours, days, months, weekdays, day_star, weekday_star, zone)
