"""The CronJob controller of the test server: Jobs made on schedule, tracked, cleaned up.

:class:`CronJobController` does what kube-controller-manager's cronjob controller (v2) does,
keyed by CronJob, on the time of its ``clock`` (a :class:`kgen.clock.Clock`; the server's,
which a test may make a :class:`kgen.clock.FakeClock` and step instead of waiting minutes):

* the schedule: ``spec.schedule`` as :mod:`._cron` reads it, in ``spec.timeZone`` (an unknown
  zone is a Warning ``UnknownTimeZone`` and nothing runs; ``TZ=`` in the schedule itself
  works but is a Warning ``UnsupportedSchedule``; a schedule that cannot be read is a Warning
  ``UnparseableSchedule``);
* the run due: the most recent scheduled time after ``status.lastScheduleTime`` (or the
  CronJob's ``creationTimestamp``) that has passed, no earlier than ``startingDeadlineSeconds``
  ago; more than 100 missed is a Warning ``TooManyMissedTimes``; a run found later than its
  deadline is a Warning ``MissSchedule``;
* the Job: ``<cronjob>-<scheduled time in minutes since the epoch>``, the template's labels,
  annotations and spec, the ``batch.kubernetes.io/cronjob-scheduled-timestamp`` annotation
  (RFC 3339 in the CronJob's zone) and a controller reference; Normal ``SuccessfulCreate``
  "Created job x"; then ``status.active`` lists it and ``status.lastScheduleTime`` is its time;
* ``concurrencyPolicy``: ``Allow`` starts runs side by side; ``Forbid`` skips a run while one
  is active (Normal ``JobAlreadyActive``); ``Replace`` deletes the active ones first (Normal
  ``SuccessfulDelete`` "Deleted job x"); ``suspend: true`` starts nothing;
* tracking: a finished Job leaves ``status.active`` (Normal ``SawCompletedJob`` "Saw completed
  job: x, condition: Complete"), a succeeded one sets ``status.lastSuccessfulTime`` to its
  ``completionTime``; an active Job that is gone leaves it (Normal ``MissingJob``); an
  unfinished Job it controls but did not list (``kubectl create job --from=cronjob/x``) is a
  Warning ``UnexpectedJob``;
* history: beyond ``successfulJobsHistoryLimit`` / ``failedJobsHistoryLimit`` the finished Jobs
  that started first are deleted (background propagation; ``SuccessfulDelete``).

A sync asks to run again 100 ms after the next scheduled time. Differences from kube: the
Jobs of a CronJob are those whose controller reference has its uid (kube matches the name);
events carry the system clock's timestamps; past 100 missed runs the count in
``TooManyMissedTimes`` is estimated from the spacing of the first hundred.
"""

from __future__ import annotations

import datetime
from collections.abc import Hashable, Iterable
from typing import Any

from kgen.clock import REAL_CLOCK, Clock, format_time
from kgen.record import EventRecorder
from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._store import JSON, Event
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers._cron import Schedule, ScheduleError, load_zone, parse
from kgen.testing.controllers._events import ControllerEvents
from kgen.testing.controllers._workload import write_status
from kgen.testing.controllers.replicaset import MANAGER, controller_of, owner_reference, parse_time

__all__ = ["SCHEDULED_TIMESTAMP", "CronJobController", "job_name"]

_CRONJOBS = ("batch", "cronjobs")
_JOBS = ("batch", "jobs")
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
_DELTA = 0.1
"""How long after a scheduled time the sync for it runs (kube's ``nextScheduleDelta``)."""
_MANY = 100


def job_name(cronjob: str, scheduled: datetime.datetime) -> str:
    """``<cronjob>-<minutes since the epoch>``: the name of the Job of one scheduled time."""
    return f"{cronjob}-{int(scheduled.timestamp()) // 60}"


def _finished(job: JSON) -> str | None:
    """``Complete`` or ``Failed`` once the Job has ended, else ``None``."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return str(condition["type"])
    return None


def _rfc1123z(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class CronJobController:
    """See the module docstring. Thread-safety: :meth:`observe` runs on writers' threads and
    only computes keys; :meth:`sync` runs on the runner's one thread. ``clock`` is read by the
    runner for this controller's delays."""

    name = "cronjob"

    def __init__(self, tracker: ObjectTracker, clock: Clock = REAL_CLOCK) -> None:
        self._tracker = tracker
        self.clock = clock
        self._events = ControllerEvents(tracker).recorder("cronjob-controller")

    def observe(self, event: Event) -> Iterable[Hashable]:
        if event.resource == _CRONJOBS and event.type != "DELETED":
            return (event.key,)
        if event.resource != _JOBS:
            return ()
        ref = controller_of(event.object)
        if ref is not None and ref.get("kind") == "CronJob":
            return ((event.key[0], str(ref.get("name", ""))),)
        return ()

    def initial(self) -> Iterable[Hashable]:
        info = self._tracker.registry.stored_one(*_CRONJOBS)
        if info is None:
            return ()
        items = self._tracker.list(info, "", copy=False)["items"]
        return [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]

    def sync(self, key: Hashable) -> float | None:
        info = self._tracker.registry.stored_one(*_CRONJOBS)
        if info is None or not isinstance(key, tuple):
            return None
        try:
            cronjob = self._tracker.get(info, key[0], key[1])
        except APIError as err:
            if err.code == 404:
                return None
            raise
        run = _Sync(self._tracker, cronjob, self._events, self.clock)
        try:
            again = run.run()
            run.cleanup()
            write_status(self._tracker, info, cronjob, run.status)
        except APIError as err:
            if err.code == 409:  # the CronJob changed under us: start again from it, now
                return 0.0
            raise
        return again


class _Sync:
    """One reconciliation of one CronJob (``status`` is what it will write)."""

    def __init__(
        self, tracker: ObjectTracker, cronjob: JSON, events: EventRecorder, clock: Clock
    ) -> None:
        self.tracker = tracker
        self.events = events
        self.cronjob = cronjob
        self.spec: JSON = cronjob.get("spec") or {}
        self.status: JSON = dict(cronjob.get("status") or {})
        self.active: list[JSON] = list(self.status.get("active") or [])
        self.now = datetime.datetime.fromtimestamp(clock.time(), datetime.UTC)
        info = tracker.registry.stored_one(*_JOBS)
        assert info is not None
        self.jobs_info = info
        uid = cronjob["metadata"]["uid"]
        namespace = cronjob["metadata"]["namespace"]
        self.jobs = [
            job
            for job in tracker.list(info, namespace)["items"]
            if (ref := controller_of(job)) is not None and ref.get("uid") == uid
        ]

    def _event(self, kind: str, reason: str, message: str) -> None:
        self.events.event(self.cronjob, kind, reason, message)

    def _save_active(self) -> None:
        if self.active:
            self.status["active"] = self.active
        else:
            self.status.pop("active", None)

    def run(self) -> float | None:
        """Track the Jobs, then start the run that is due; seconds until the next sync."""
        self._track()
        self._save_active()
        if self.cronjob["metadata"].get("deletionTimestamp"):
            return None
        zone_name = self.spec.get("timeZone")
        schedule_text = str(self.spec.get("schedule", ""))
        if isinstance(zone_name, str):
            try:
                load_zone(zone_name)
            except ScheduleError as err:
                self._event(
                    "Warning", "UnknownTimeZone", f"invalid timeZone: {_go_quote(zone_name)}: {err}"
                )
                return None
        if self.spec.get("suspend"):
            return None
        if "TZ" in schedule_text:
            self._event(
                "Warning",
                "UnsupportedSchedule",
                f"CRON_TZ or TZ used in schedule {_go_quote(schedule_text)} is not officially "
                "supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/"
                " for more details",
            )
        elif isinstance(zone_name, str):
            schedule_text = f"TZ={zone_name} {schedule_text}"
        try:
            schedule = parse(schedule_text)
        except ScheduleError as err:
            quoted = _go_quote(str(self.spec.get("schedule", "")))
            self._event("Warning", "UnparseableSchedule", f"unparseable schedule: {quoted} : {err}")
            return None
        return self._start(schedule)

    def _track(self) -> None:
        listed = {ref.get("uid") for ref in self.active}
        for job in self.jobs:
            uid = job["metadata"]["uid"]
            ended = _finished(job)
            if ended is None:
                if uid not in listed:
                    message = f"Saw a job that the controller did not create or forgot: {job['metadata']['name']}"
                    self._event("Warning", "UnexpectedJob", message)
                continue
            if uid in listed:
                self.active = [ref for ref in self.active if ref.get("uid") != uid]
                message = f"Saw completed job: {job['metadata']['name']}, condition: {ended}"
                self._event("Normal", "SawCompletedJob", message)
            completed = (job.get("status") or {}).get("completionTime")
            if ended == "Complete" and completed:
                last = self.status.get("lastSuccessfulTime")
                if not last or parse_time(completed) > parse_time(last):
                    self.status["lastSuccessfulTime"] = completed
        present = {job["metadata"]["uid"] for job in self.jobs}
        for ref in list(self.active):
            if ref.get("uid") in present:
                continue
            try:
                self.tracker.get(self.jobs_info, str(ref.get("namespace")), str(ref.get("name")))
            except APIError as err:
                if err.code != 404:
                    raise
                self._event("Normal", "MissingJob", f"Active job went missing: {ref.get('name')}")
                self.active = [r for r in self.active if r.get("uid") != ref.get("uid")]

    def _earliest(self) -> datetime.datetime:
        stamp = self.status.get("lastScheduleTime") or self.cronjob["metadata"]["creationTimestamp"]
        earliest = parse_time(str(stamp))
        deadline = self.spec.get("startingDeadlineSeconds")
        if isinstance(deadline, int):
            earliest = max(earliest, self.now - datetime.timedelta(seconds=deadline))
        return earliest

    def _most_recent(self, schedule: Schedule) -> tuple[datetime.datetime | None, bool]:
        """The latest scheduled time in (earliest, now], and whether any comes at all."""
        cursor = schedule.next(self._earliest())
        if cursor is None:
            return None, False
        recent: datetime.datetime | None = None
        count = 0
        widest = datetime.timedelta(0)
        while cursor is not None and cursor <= self.now:
            if recent is not None:
                widest = max(widest, cursor - recent)
            recent = cursor
            count += 1
            if count == _MANY and widest:
                jump = self.now - 2 * widest
                if jump > recent:  # far behind: estimate the rest, look at the last few only
                    count += int((jump - recent) / widest)
                    cursor = schedule.next(jump)
                    continue
            cursor = schedule.next(cursor)
        if count > _MANY:
            message = (
                f"too many missed start times: {count}. Set or decrease "
                ".spec.startingDeadlineSeconds or check clock skew"
            )
            self._event("Warning", "TooManyMissedTimes", message)
        return recent, True

    def _until_next(self, schedule: Schedule) -> float | None:
        upcoming = schedule.next(self.now)
        if upcoming is None:
            return None
        return (upcoming - self.now).total_seconds() + _DELTA

    def _start(self, schedule: Schedule) -> float | None:
        scheduled, ever = self._most_recent(schedule)
        if not ever:
            message = f"invalid schedule: {self.spec.get('schedule')} : no time matches it"
            self._event("Warning", "InvalidSchedule", message)
            return None
        if scheduled is None:
            return self._until_next(schedule)
        deadline = self.spec.get("startingDeadlineSeconds")
        if (
            isinstance(deadline, int)
            and scheduled + datetime.timedelta(seconds=deadline) < self.now
        ):
            message = f"Missed scheduled time to start a job: {_rfc1123z(scheduled)}"
            self._event("Warning", "MissSchedule", message)
            return self._until_next(schedule)
        name = job_name(self.cronjob["metadata"]["name"], scheduled)
        last = self.status.get("lastScheduleTime")
        if any(ref.get("name") == name for ref in self.active) or (
            last and parse_time(last) == scheduled
        ):
            return self._until_next(schedule)
        policy = self.spec.get("concurrencyPolicy", "Allow")
        if policy == "Forbid" and self.active:
            message = "Not starting job because prior execution is running and concurrency policy is Forbid"
            self._event("Normal", "JobAlreadyActive", message)
            return self._until_next(schedule)
        if policy == "Replace":
            for ref in list(self.active):
                self._delete(str(ref.get("name")), str(ref.get("uid")))
        job = self._create(name, scheduled)
        if job is not None:
            self.active.append(
                {
                    "kind": "Job",
                    "namespace": job["metadata"]["namespace"],
                    "name": job["metadata"]["name"],
                    "uid": job["metadata"]["uid"],
                    "apiVersion": "batch/v1",
                    "resourceVersion": job["metadata"]["resourceVersion"],
                }
            )
            self._save_active()
            self.status["lastScheduleTime"] = format_time(scheduled.timestamp())
        return self._until_next(schedule)

    def _job(self, name: str, scheduled: datetime.datetime) -> JSON:
        template: JSON = self.spec.get("jobTemplate") or {}
        meta: JSON = template.get("metadata") or {}
        zone = load_zone(str(self.spec.get("timeZone") or ""))
        stamp = scheduled.astimezone(zone).isoformat()
        stamp = stamp[: -len("+00:00")] + "Z" if stamp.endswith("+00:00") else stamp
        annotations = {**(meta.get("annotations") or {}), SCHEDULED_TIMESTAMP: stamp}
        metadata: JSON = {"name": name, "annotations": annotations}
        if meta.get("labels"):
            metadata["labels"] = dict(meta["labels"])
        owner = {**self.cronjob, "apiVersion": "batch/v1", "kind": "CronJob"}
        metadata["ownerReferences"] = [owner_reference(owner)]
        spec: Any = template.get("spec") or {}
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec}

    def _create(self, name: str, scheduled: datetime.datetime) -> JSON | None:
        """Create the Job of ``scheduled``; the Job to list as active, or ``None``."""
        namespace = self.cronjob["metadata"]["namespace"]
        body = self._job(name, scheduled)
        try:
            job = self.tracker.create(
                self.jobs_info, namespace, body, WriteOptions(field_manager=MANAGER)
            )
        except APIError as err:
            if err.code != 409 or err.reason != "AlreadyExists":
                self._event("Warning", "FailedCreate", f"Error creating job: {err.message}")
                raise
            existing = self.tracker.get(self.jobs_info, namespace, name)
            ref = controller_of(existing)
            if ref is None or ref.get("uid") != self.cronjob["metadata"]["uid"]:
                return None  # another actor's Job: it keeps the status, as kube assumes
            if any(r.get("uid") == existing["metadata"]["uid"] for r in self.active):
                return None
            return existing
        self._event("Normal", "SuccessfulCreate", f"Created job {name}")
        return job

    def _delete(self, name: str, uid: str) -> None:
        namespace = self.cronjob["metadata"]["namespace"]
        options = WriteOptions(
            field_manager=MANAGER, body_options={"propagationPolicy": "Background"}
        )
        try:
            self.tracker.delete(self.jobs_info, namespace, name, options)
        except APIError as err:
            if err.code != 404:
                self._event("Warning", "FailedDelete", f"Deleted job: {err.message}")
                raise
        else:
            self._event("Normal", "SuccessfulDelete", f"Deleted job {name}")
        self.active = [ref for ref in self.active if ref.get("uid") != uid]
        self._save_active()

    def cleanup(self) -> None:
        """Delete the finished Jobs beyond the history limits, those that started first."""
        for ended, limit_key in (
            ("Complete", "successfulJobsHistoryLimit"),
            ("Failed", "failedJobsHistoryLimit"),
        ):
            limit = self.spec.get(limit_key)
            if not isinstance(limit, int):
                continue
            done = [job for job in self.jobs if _finished(job) == ended]
            done.sort(key=_start_order)
            for job in done[: max(0, len(done) - limit)]:
                self._delete(job["metadata"]["name"], job["metadata"]["uid"])


def _start_order(job: JSON) -> tuple[bool, str, str]:
    """kube's ``byJobStartTime``: started Jobs by start time, then name; unstarted last."""
    start = (job.get("status") or {}).get("startTime")
    return (start is None, str(start or ""), job["metadata"]["name"])
