"""The CronJob controller of kgen.testing (``APIServer(controllers=True, clock=FakeClock())``):
schedules read as cron reads them, Jobs made when the test steps the server's clock (no test
waits for a minute), concurrency policies, suspend, deadlines, history limits, status and
events; judged through the API and by kubectl."""

from __future__ import annotations

import datetime
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.client import GroupVersionResource, PatchType, ResourceClient
from kgen.clock import FakeClock
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer
from kgen.testing.controllers._cron import ScheduleError, parse
from kgen.testing.controllers.cronjob import SCHEDULED_TIMESTAMP, job_name

from .test_controllers import eventually
from .test_kubectl import Kubectl, _binary

Objects = ResourceClient[dict[str, Any], dict[str, Any]]
UTC = datetime.UTC
START = 1_800_000_010.0
"""The server's wall clock at the start: 10 s past a whole minute (2027-01-15T08:00:10Z)."""


class Cluster:
    def __init__(self, server: APIServer, clock: FakeClock, rest: RESTClient, kubeconfig: Path):
        self.server, self.clock, self.rest, self.kubeconfig = server, clock, rest, kubeconfig

    def objects(self, group: str, plural: str, namespace: str) -> Objects:
        version = "v1"
        return ResourceClient(
            self.rest, GroupVersionResource(group, version, plural), dict, dict, namespace
        )

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock.time(), UTC)


@pytest.fixture(scope="module")
def cluster(specs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    clock = FakeClock(wall_start=START)
    with (
        APIServer(
            specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
            tls="self-signed",
            controllers=True,
            clock=clock,
        ) as server,
        RESTClient(
            Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem)
        ) as rest,
    ):
        folder = tmp_path_factory.mktemp("cronjob")
        yield Cluster(server, clock, rest, server.write_kubeconfig(folder / "kubeconfig"))


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    name = request.node.originalname.removeprefix("test_")[:32].replace("_", "-").strip("-")
    callspec = getattr(request.node, "callspec", None)  # one namespace per kubectl version
    if callspec is not None:
        name += "-" + re.sub(r"[^a-z0-9]+", "-", callspec.id.lower()).strip("-")
    namespaces = ResourceClient(
        cluster.rest, GroupVersionResource("", "v1", "namespaces"), dict, dict, None
    )
    namespaces.create({"metadata": {"name": name}})
    yield name
    cronjobs = cluster.objects("batch", "cronjobs", name)
    for item in cronjobs.list()["items"]:  # nothing of this test runs when the next steps time
        cronjobs.delete(item["metadata"]["name"])


def _cronjob(name: str, schedule: str, script: str = "true", **spec: Any) -> dict[str, Any]:
    job_spec = spec.pop("job", {})
    return {
        "metadata": {"name": name},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"labels": {"cron": name}, "annotations": {"team": "a"}},
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [
                                {"name": "c", "image": "busybox", "command": ["sh", "-c", script]}
                            ],
                        }
                    },
                    **job_spec,
                },
            },
            **spec,
        },
    }


def _step_to(cluster: Cluster, second: int, minutes: int = 1) -> datetime.datetime:
    """Step the clock ``minutes`` whole minutes on, to ``second`` past the minute."""
    now = cluster.now()
    target = now.replace(second=second, microsecond=0) + datetime.timedelta(minutes=minutes)
    cluster.clock.step((target - now).total_seconds())
    return target.replace(second=0)


def _tick(cluster: Cluster) -> None:
    """Move the clock half a second, up to 30 s past the minute: a Job's pods end a moment
    after they start on the server's clock (kgen's default container runtime)."""
    if cluster.now().second < 30:
        cluster.clock.step(0.5)


def _jobs(cluster: Cluster, ns: str) -> dict[str, dict[str, Any]]:
    items = cluster.objects("batch", "jobs", ns).list()["items"]
    return {item["metadata"]["name"]: item for item in items}


def _events(cluster: Cluster, ns: str, name: str) -> list[tuple[str, str, str]]:
    items = cluster.objects("", "events", ns).list()["items"]
    return [
        (e["type"], e["reason"], e["message"])
        for e in sorted(items, key=lambda e: e["metadata"]["creationTimestamp"])
        if e["involvedObject"]["name"] == name and e["involvedObject"]["kind"] == "CronJob"
    ]


def _status(cluster: Cluster, ns: str, name: str) -> dict[str, Any]:
    return dict(cluster.objects("batch", "cronjobs", ns).get(name).get("status") or {})


def test_the_schedule_parser_reads_what_cron_reads() -> None:
    at = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # a Friday

    def runs(text: str, count: int = 2) -> list[str]:
        out, moment = [], at
        for _ in range(count):
            found = parse(text).next(moment)
            assert found is not None
            out.append(found.strftime("%Y-%m-%d %H:%M"))
            moment = found
        return out

    assert runs("* * * * *") == ["2026-01-02 03:05", "2026-01-02 03:06"]
    assert runs("*/20 * * * *") == ["2026-01-02 03:20", "2026-01-02 03:40"]
    assert runs("@hourly") == ["2026-01-02 04:00", "2026-01-02 05:00"]
    assert runs("@daily") == runs("@midnight") == ["2026-01-03 00:00", "2026-01-04 00:00"]
    assert runs("@weekly") == ["2026-01-04 00:00", "2026-01-11 00:00"]
    assert runs("@monthly") == ["2026-02-01 00:00", "2026-03-01 00:00"]
    assert runs("@yearly") == runs("@annually") == ["2027-01-01 00:00", "2028-01-01 00:00"]
    assert runs("0 9 * * MON-FRI") == ["2026-01-02 09:00", "2026-01-05 09:00"]
    assert runs("30 2 1,15 * 5") == ["2026-01-09 02:30", "2026-01-15 02:30"]  # either day field
    assert runs("30 2 1,15 * *") == ["2026-01-15 02:30", "2026-02-01 02:30"]
    assert runs("0 0 29 feb ?") == ["2028-02-29 00:00", "2032-02-29 00:00"]
    assert runs("5-10/5 1 * * *") == ["2026-01-03 01:05", "2026-01-03 01:10"]
    assert runs("TZ=Europe/Paris 0 9 * * *") == ["2026-01-02 08:00", "2026-01-03 08:00"]
    assert runs("CRON_TZ=America/New_York 0 0 * * *") == ["2026-01-02 05:00", "2026-01-03 05:00"]
    assert runs("@every 90s") == ["2026-01-02 03:05", "2026-01-02 03:07"]
    summer = datetime.datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # Paris skips 02:00-03:00 today
    paris = parse("TZ=Europe/Paris 30 2 * * *").next(summer)
    assert paris == datetime.datetime(2026, 3, 30, 0, 30, tzinfo=UTC)
    assert parse("0 0 30 2 *").next(at) is None
    for bad, words in (
        ("* * * *", "expected exactly 5 fields, found 4"),
        ("60 * * * *", "end of range (60) above maximum (59)"),
        ("* * * * 7", "above maximum (6)"),
        ("5-1 * * * *", "beyond end of range"),
        ("x * * * *", "failed to parse int from x"),
        ("@fortnightly", "unrecognized descriptor"),
        ("TZ=Mars/Base * * * * *", "unknown time zone Mars/Base"),
        ("", "empty spec string"),
    ):
        with pytest.raises(ScheduleError, match=words.replace("(", r"\(").replace(")", r"\)")):
            parse(bad)


def test_jobs_run_on_schedule_and_the_status_follows_them(cluster: Cluster, ns: str) -> None:
    cronjobs = cluster.objects("batch", "cronjobs", ns)
    created = cronjobs.create(_cronjob("tick", "* * * * *"))
    assert created["spec"]["concurrencyPolicy"] == "Allow"  # kube-apiserver's defaults
    assert created["spec"]["successfulJobsHistoryLimit"] == 3
    assert _jobs(cluster, ns) == {}
    scheduled = _step_to(cluster, 5)
    name = job_name("tick", scheduled)
    assert name == f"tick-{int(scheduled.timestamp()) // 60}"
    job = eventually(lambda: _jobs(cluster, ns).get(name), f"{name} is created")
    meta = job["metadata"]
    assert meta["labels"]["cron"] == "tick"
    assert meta["annotations"] == {
        "team": "a",
        SCHEDULED_TIMESTAMP: scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (owner,) = meta["ownerReferences"]
    assert owner == {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "name": "tick",
        "uid": created["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["sh", "-c", "true"]

    def done() -> dict[str, Any] | None:
        _tick(cluster)
        status = _status(cluster, ns, "tick")
        return status if "lastSuccessfulTime" in status and "active" not in status else None

    status = eventually(done, "the job is seen to complete")
    assert status["lastScheduleTime"] == scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
    completed = cluster.objects("batch", "jobs", ns).get(name)["status"]["completionTime"]
    assert status["lastSuccessfulTime"] == completed
    assert _events(cluster, ns, "tick") == [
        ("Normal", "SuccessfulCreate", f"Created job {name}"),
        ("Normal", "SawCompletedJob", f"Saw completed job: {name}, condition: Complete"),
    ]
    assert set(_jobs(cluster, ns)) == {name}  # nothing more until the next minute
    following = job_name("tick", _step_to(cluster, 1))
    eventually(lambda: following in _jobs(cluster, ns), f"{following} is created")


def test_forbid_skips_a_run_while_one_is_active(cluster: Cluster, ns: str) -> None:
    cronjobs = cluster.objects("batch", "cronjobs", ns)
    cronjobs.create(
        _cronjob("solo", "* * * * *", concurrencyPolicy="Forbid", job={"suspend": True})
    )
    first = job_name("solo", _step_to(cluster, 5))
    eventually(lambda: first in _jobs(cluster, ns), f"{first} is created")
    active = eventually(lambda: _status(cluster, ns, "solo").get("active"), "solo is active")
    assert [(ref["kind"], ref["name"], ref["apiVersion"]) for ref in active] == [
        ("Job", first, "batch/v1")
    ]
    _step_to(cluster, 5)
    reason = "Not starting job because prior execution is running and concurrency policy is Forbid"
    eventually(
        lambda: ("Normal", "JobAlreadyActive", reason) in _events(cluster, ns, "solo"),
        "the run is skipped",
    )
    assert set(_jobs(cluster, ns)) == {first}


def test_replace_deletes_the_active_run_and_allow_keeps_it(cluster: Cluster, ns: str) -> None:
    cronjobs = cluster.objects("batch", "cronjobs", ns)
    cronjobs.create(
        _cronjob("swap", "* * * * *", concurrencyPolicy="Replace", job={"suspend": True})
    )
    cronjobs.create(_cronjob("both", "* * * * *", job={"suspend": True}))
    first = _step_to(cluster, 5)
    eventually(lambda: len(_jobs(cluster, ns)) == 2, "both cronjobs ran once")
    second = _step_to(cluster, 5)
    old, new = job_name("swap", first), job_name("swap", second)

    def replaced() -> bool:
        return set(_jobs(cluster, ns)) == {
            old.replace("swap", "both"),
            new.replace("swap", "both"),
            new,
        }

    eventually(replaced, f"{old} is replaced by {new}")
    (ref,) = eventually(lambda: _status(cluster, ns, "swap").get("active"), "swap is active")
    assert ref["name"] == new
    assert len(_status(cluster, ns, "both")["active"]) == 2
    events = _events(cluster, ns, "swap")
    assert events[-2:] == [
        ("Normal", "SuccessfulDelete", f"Deleted job {old}"),
        ("Normal", "SuccessfulCreate", f"Created job {new}"),
    ]


def test_history_limits_delete_the_oldest_finished_jobs(cluster: Cluster, ns: str) -> None:
    cronjobs = cluster.objects("batch", "cronjobs", ns)
    cronjobs.create(_cronjob("keep", "* * * * *", successfulJobsHistoryLimit=1))
    cronjobs.create(_cronjob("fail", "* * * * *", "exit 3", failedJobsHistoryLimit=0))
    names = []
    for _ in range(3):
        scheduled = _step_to(cluster, 5)
        names.append(job_name("keep", scheduled))

        def settled(stamp: str = scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")) -> bool:
            _tick(cluster)
            status = _status(cluster, ns, "keep"), _status(cluster, ns, "fail")
            return all(s.get("lastScheduleTime") == stamp and "active" not in s for s in status)

        eventually(settled, f"the runs of {scheduled} finished")
    # the last finished Job of "keep" stays; each failed one of "fail" goes at the next sync
    eventually(
        lambda: set(_jobs(cluster, ns)) <= {names[-1], names[-1].replace("keep", "fail")},
        "the history is cut",
    )
    assert names[-1] in _jobs(cluster, ns)
    deleted = [e for e in _events(cluster, ns, "keep") if e[1] == "SuccessfulDelete"]
    assert deleted == [("Normal", "SuccessfulDelete", f"Deleted job {n}") for n in names[:2]]
    assert "lastSuccessfulTime" not in _status(cluster, ns, "fail")
    failed = [e for e in _events(cluster, ns, "fail") if e[1] == "SawCompletedJob"]
    assert failed[0][2].endswith("condition: Failed")


def test_suspend_and_starting_deadline(cluster: Cluster, ns: str) -> None:
    cronjobs = cluster.objects("batch", "cronjobs", ns)
    cronjobs.create(_cronjob("late", "* * * * *", suspend=True, startingDeadlineSeconds=20))
    cronjobs.create(_cronjob("catch", "* * * * *", suspend=True))
    _step_to(cluster, 30, minutes=3)
    resume = {"spec": {"suspend": False}}
    assert _jobs(cluster, ns) == {}
    cronjobs.patch("late", json.dumps(resume).encode(), PatchType.MERGE)
    cronjobs.patch("catch", json.dumps(resume).encode(), PatchType.MERGE)
    # without a deadline the most recent missed run starts at once; with 20 s, the run of 30 s
    # ago is past it and waits for the next minute
    missed = cluster.now().replace(second=0)
    eventually(lambda: job_name("catch", missed) in _jobs(cluster, ns), "catch catches up")
    assert not any(name.startswith("late-") for name in _jobs(cluster, ns))
    upcoming = _step_to(cluster, 2)
    eventually(lambda: job_name("late", upcoming) in _jobs(cluster, ns), "late runs on time")


def test_time_zones_and_bad_schedules(cluster: Cluster, ns: str) -> None:
    cronjobs = cluster.objects("batch", "cronjobs", ns)
    # 08:00 UTC is 13:30 in Kolkata: "0 * * * *" there runs at half past each UTC hour
    cronjobs.create(_cronjob("india", "0 * * * *", timeZone="Asia/Kolkata"))
    cronjobs.create(_cronjob("inline", "TZ=Asia/Kolkata 0 * * * *"))
    cronjobs.create(_cronjob("nowhere", "* * * * *", timeZone="Mars/Base"))
    cronjobs.create(_cronjob("garbled", "61 * * * *"))
    now = cluster.now()
    half = now.replace(minute=30, second=0) + datetime.timedelta(hours=now.minute >= 30)
    cluster.clock.step((half - now).total_seconds() + 3)
    name = job_name("india", half)
    job = eventually(lambda: _jobs(cluster, ns).get(name), f"{name} runs at {half}")
    local = half.astimezone(datetime.timezone(datetime.timedelta(hours=5, minutes=30)))
    assert job["metadata"]["annotations"][SCHEDULED_TIMESTAMP] == local.isoformat()
    assert local.minute == 0
    eventually(lambda: job_name("inline", half) in _jobs(cluster, ns), "the TZ= schedule runs")
    assert not any(n.startswith(("nowhere-", "garbled-")) for n in _jobs(cluster, ns))
    assert (
        "Warning",
        "UnknownTimeZone",
        'invalid timeZone: "Mars/Base": unknown time zone Mars/Base',
    ) in _events(cluster, ns, "nowhere")
    assert (
        "Warning",
        "UnparseableSchedule",
        'unparseable schedule: "61 * * * *" : end of range (61) above maximum (59): 61',
    ) in _events(cluster, ns, "garbled")
    warned = [e for e in _events(cluster, ns, "inline") if e[1] == "UnsupportedSchedule"]
    assert warned and "CRON_TZ or TZ used in schedule" in warned[0][2]


@pytest.fixture(params=["default", "1.30"])
def kubectl(request: pytest.FixtureRequest, cluster: Cluster, ns: str, tmp_path: Path) -> Kubectl:
    """The default kubectl and 1.30, as the other controllers' kubectl scenarios run."""
    if request.param == "default":
        binary = shutil.which("kubectl")
        if binary is None:
            pytest.skip("kubectl is not installed")
    else:
        binary = _binary(str(request.param))
    return Kubectl(binary, cluster.kubeconfig, ns, tmp_path)


@pytest.mark.kubectl
def test_kubectl_sees_jobs_appear_as_the_clock_moves(cluster: Cluster, kubectl: Kubectl) -> None:
    created = kubectl.run(
        "create", "cronjob", "hello", "--image=busybox", "--schedule=*/2 * * * *", "--", "date"
    )
    assert created.stdout.strip() == "cronjob.batch/hello created"
    assert "No resources found" in kubectl.run("get", "jobs").stderr
    now = cluster.now()
    due = now.replace(second=0) + datetime.timedelta(minutes=2 - now.minute % 2)
    cluster.clock.step((due - now).total_seconds() + 1)
    name = job_name("hello", due)

    def listed() -> list[str] | None:
        _tick(cluster)
        rows = [r.split() for r in kubectl.run("get", "jobs").stdout.splitlines()[1:]]
        return next((r for r in rows if r[0] == name and r[1] == "Complete"), None)

    eventually(listed, f"kubectl lists {name} complete")
    row = kubectl.run("get", "cronjob", "hello").stdout.splitlines()
    header = row[0].split()
    assert header[:4] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND"] or header[:3] == [
        "NAME",
        "SCHEDULE",
        "SUSPEND",
    ]
    assert row[1].split()[:7] == ["hello", "*/2", "*", "*", "*", "*", "<none>"]
    manual = kubectl.run("create", "job", "by-hand", "--from=cronjob/hello")
    assert manual.stdout.strip() == "job.batch/by-hand created"
    eventually(
        lambda: any(
            r.split()[0] == "by-hand" for r in kubectl.run("get", "jobs").stdout.splitlines()
        ),
        "by-hand is listed",
    )
    described = kubectl.run("describe", "cronjob", "hello").stdout
    assert f"Created job {name}" in described and "SawCompletedJob" in described
