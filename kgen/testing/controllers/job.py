"""The Job controller of the test server: pods run to completion, counted, retried.

:class:`JobController` does what kube-controller-manager's job controller does, keyed by Job:

* pods: ``generateName: <job>-`` (``<job>-<index>-`` for ``completionMode: Indexed``, with the
  ``batch.kubernetes.io/job-completion-index`` annotation and label and ``hostname``
  ``<job>-<index>``), from the template (kube-apiserver gave it the job labels and the
  ``batch.kubernetes.io/controller-uid`` selector); as many run at once as ``parallelism``
  allows and the completions still missing need;
* counting: ``succeeded`` and ``failed`` are the pods that ended so (the kubelet runs a Job's
  pods to completion: :mod:`kubelet`), ``active`` those still pending or running, ``ready``
  those ready; ``completedIndexes`` for Indexed Jobs;
* the end: ``completions`` succeeded pods (or, with no ``completions``, one succeeded and none
  active) give ``SuccessCriteriaMet`` then ``Complete`` (``CompletionsReached``, "Reached
  expected number of succeeded pods") and ``completionTime``; more failed pods than
  ``backoffLimit``, or ``activeDeadlineSeconds`` passed since ``startTime``, delete the active
  pods and give ``FailureTarget`` then ``Failed`` (``BackoffLimitExceeded``, "Job has reached
  the specified backoff limit"; ``DeadlineExceeded``, "Job was active longer than specified
  deadline");
* ``suspend: true`` deletes the active pods and sets ``Suspended`` (``JobSuspended``, "Job
  suspended"); resuming sets it False (``JobResumed``, "Job resumed").

Differences from kube: no ``batch.kubernetes.io/job-tracking`` finalizer on the pods (the
pods are counted while they exist, so a deleted finished pod is no longer counted), no delay
between a failed pod and its replacement (kube backs off 10 s doubling), no pod failure or
success policies, ``ttlSecondsAfterFinished`` not enforced.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from kgen.record import EventRecorder
from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._store import JSON, Event
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers._events import ControllerEvents
from kgen.testing.controllers._workload import (
    delete_pod,
    owned_pods,
    pod_from_template,
    terminal,
    write_status,
)
from kgen.testing.controllers.replicaset import MANAGER, controller_of, parse_time, pod_ready_since

__all__ = ["JobController", "compressed_indexes"]

_JOBS = ("batch", "jobs")
_PODS = ("", "pods")
INDEX = "batch.kubernetes.io/job-completion-index"
_COMPLETE = "Reached expected number of succeeded pods"
_BACKOFF = "Job has reached the specified backoff limit"
_DEADLINE = "Job was active longer than specified deadline"


def compressed_indexes(indexes: Iterable[int]) -> str:
    """``0-2,4``: kube's compressed form of a set of completion indexes."""
    out: list[str] = []
    run: list[int] = []
    for index in sorted(set(indexes)):
        if run and index == run[-1] + 1:
            run.append(index)
            continue
        if run:
            out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [index]
    if run:
        out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ",".join(out)


def _index(pod: JSON) -> int | None:
    text = (pod["metadata"].get("annotations") or {}).get(INDEX, "")
    return int(text) if str(text).isdigit() else None


def _finished(job: JSON) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


class JobController:
    """See the module docstring. Thread-safety: :meth:`observe` runs on writers' threads and
    only computes keys; :meth:`sync` runs on the runner's one thread."""

    name = "job"

    def __init__(self, tracker: ObjectTracker) -> None:
        self._tracker = tracker
        self._events = ControllerEvents(tracker).recorder("job-controller")

    def observe(self, event: Event) -> Iterable[Hashable]:
        if event.resource == _JOBS and event.type != "DELETED":
            return (event.key,)
        if event.resource != _PODS:
            return ()
        ref = controller_of(event.object)
        if ref is not None and ref.get("kind") == "Job":
            return ((event.key[0], str(ref.get("name", ""))),)
        return ()

    def initial(self) -> Iterable[Hashable]:
        info = self._tracker.registry.stored_one(*_JOBS)
        if info is None:
            return ()
        items = self._tracker.list(info, "", copy=False)["items"]
        return [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]

    def sync(self, key: Hashable) -> float | None:
        info = self._tracker.registry.stored_one(*_JOBS)
        if info is None or not isinstance(key, tuple):
            return None
        try:
            job = self._tracker.get(info, key[0], key[1])
        except APIError as err:
            if err.code == 404:
                return None
            raise
        if job["metadata"].get("deletionTimestamp") or _finished(job):
            return None
        return _Sync(self._tracker, job, self._events).run()


class _Sync:
    """One reconciliation of one Job."""

    def __init__(self, tracker: ObjectTracker, job: JSON, events: EventRecorder) -> None:
        self.tracker = tracker
        self.events = events
        self.job = job
        self.spec: JSON = job.get("spec") or {}
        self.status: JSON = dict(job.get("status") or {})
        self.now = tracker.now()
        self.conditions: list[JSON] = list(self.status.get("conditions") or [])

    def _condition(self, kind: str, value: str, reason: str, message: str) -> None:
        for c in self.conditions:
            if c["type"] == kind:
                if c["status"] != value:
                    c.update(status=value, lastTransitionTime=self.now)
                c.update(reason=reason, message=message, lastProbeTime=self.now)
                return
        self.conditions.append(
            {
                "type": kind,
                "status": value,
                "lastProbeTime": self.now,
                "lastTransitionTime": self.now,
                "reason": reason,
                "message": message,
            }
        )

    def run(self) -> float | None:
        pods = owned_pods(self.tracker, self.job)
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        active = [p for p in live if not terminal(p)]
        succeeded = [p for p in pods if (p.get("status") or {}).get("phase") == "Succeeded"]
        failed = [p for p in pods if (p.get("status") or {}).get("phase") == "Failed"]
        indexed = self.spec.get("completionMode") == "Indexed"
        completions = self.spec.get("completions")
        parallelism = int(self.spec.get("parallelism", 1))
        done_indexes = {i for p in succeeded if (i := _index(p)) is not None}
        again: float | None = None
        suspended = bool(self.spec.get("suspend"))
        was_suspended = any(
            c["type"] == "Suspended" and c["status"] == "True" for c in self.conditions
        )
        if suspended:
            for pod in active:
                self._delete(pod)
            active = []
            self._condition("Suspended", "True", "JobSuspended", "Job suspended")
            if not was_suspended:
                self.events.event(self.job, "Normal", "Suspended", "Job suspended")
        else:
            if was_suspended:
                self._condition("Suspended", "False", "JobResumed", "Job resumed")
                self.events.event(self.job, "Normal", "Resumed", "Job resumed")
            self.status.setdefault("startTime", self.now)
        ended: tuple[str, str, str] | None = None
        deadline = self.spec.get("activeDeadlineSeconds")
        if suspended:
            pass
        elif len(failed) > int(self.spec.get("backoffLimit", 6)):
            ended = ("Failed", "BackoffLimitExceeded", _BACKOFF)
        elif isinstance(deadline, int):
            spent = (parse_time(self.now) - parse_time(self.status["startTime"])).total_seconds()
            if spent >= deadline:
                ended = ("Failed", "DeadlineExceeded", _DEADLINE)
            else:
                again = deadline - spent + 0.01
        if ended is None and not suspended:
            if indexed and completions is not None:
                complete = len(done_indexes) >= int(completions)
            elif completions is not None:
                complete = len(succeeded) >= int(completions)
            else:
                complete = bool(succeeded) and not active
            if complete:
                ended = ("Complete", "CompletionsReached", _COMPLETE)
        if ended is not None:
            if ended[0] == "Failed":
                for pod in active:
                    self._delete(pod)
                active = []
                self.events.event(self.job, "Warning", ended[1], ended[2])
            else:
                self.events.event(self.job, "Normal", "Completed", "Job completed")
            first = "FailureTarget" if ended[0] == "Failed" else "SuccessCriteriaMet"
            self._condition(first, "True", ended[1], ended[2])
            self._condition(ended[0], "True", ended[1], ended[2])
            if ended[0] == "Complete":
                self.status["completionTime"] = self.now
            again = None
        elif not suspended:
            active = self._start(active, succeeded, done_indexes, completions, parallelism)
        self.status.update(
            active=len(active),
            succeeded=len(succeeded),
            failed=len(failed),
            ready=sum(1 for p in active if pod_ready_since(p) is not None),
            terminating=sum(1 for p in pods if p["metadata"].get("deletionTimestamp")),
            uncountedTerminatedPods={},
        )
        for key in ("active", "succeeded", "failed"):
            if not self.status[key]:
                del self.status[key]
        if indexed:
            self.status["completedIndexes"] = compressed_indexes(done_indexes)
        if self.conditions:
            self.status["conditions"] = self.conditions
        info = self.tracker.registry.stored_one(*_JOBS)
        assert info is not None
        write_status(self.tracker, info, self.job, self.status)
        return again

    def _start(
        self,
        active: list[JSON],
        succeeded: list[JSON],
        done: set[int],
        completions: Any,
        parallelism: int,
    ) -> list[JSON]:
        info = self.tracker.registry.stored_one(*_PODS)
        assert info is not None
        if completions is None:
            want = 0 if succeeded else parallelism
        else:
            want = min(parallelism, int(completions) - len(succeeded))
        name = self.job["metadata"]["name"]
        namespace = self.job["metadata"]["namespace"]
        template = self.spec.get("template") or {}
        if self.spec.get("completionMode") == "Indexed" and completions is not None:
            running = {i for p in active if (i := _index(p)) is not None}
            free = [i for i in range(int(completions)) if i not in done and i not in running]
            for index in free[: max(0, parallelism - len(active))]:
                pod = pod_from_template(
                    self.job,
                    template,
                    generate_name=f"{name}-{index}-",
                    labels={INDEX: str(index)},
                    annotations={INDEX: str(index)},
                )
                pod["spec"]["hostname"] = f"{name}-{index}"
                active.append(self._create(info, namespace, pod))
            return active
        for _ in range(max(0, want - len(active))):
            pod = pod_from_template(self.job, template, generate_name=f"{name}-")
            active.append(self._create(info, namespace, pod))
        return active

    def _create(self, info: Any, namespace: str, pod: JSON) -> JSON:
        pod = self.tracker.create(info, namespace, pod, WriteOptions(field_manager=MANAGER))
        message = f"Created pod: {pod['metadata']['name']}"
        self.events.event(self.job, "Normal", "SuccessfulCreate", message)
        return pod

    def _delete(self, pod: JSON) -> None:
        if delete_pod(self.tracker, pod):
            message = f"Deleted pod: {pod['metadata']['name']}"
            self.events.event(self.job, "Normal", "SuccessfulDelete", message)
