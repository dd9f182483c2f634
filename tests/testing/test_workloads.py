"""The ReplicaSet and Deployment controllers of kgen.testing (``APIServer(controllers=True)``):
replicas kept, rollouts by strategy, revisions, rollback, garbage collection; judged through
the API, watches and kubectl over TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.client import GroupVersionResource, ResourceClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer

from .test_controllers import eventually

Objects = ResourceClient[dict[str, Any], dict[str, Any]]


@pytest.fixture(scope="module")
def rest(specs_dir: Path) -> Iterator[RESTClient]:
    with (
        APIServer(
            specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"], controllers=True
        ) as server,
        RESTClient(Config(host=server.url, bearer_token=server.token)) as client,
    ):
        yield client


def _objects(rest: RESTClient, group: str, plural: str, namespace: str = "default") -> Objects:
    return ResourceClient(rest, GroupVersionResource(group, "v1", plural), dict, dict, namespace)


def _deployment(name: str, replicas: int, image: str = "nginx:1.25", **spec: Any) -> Any:
    labels = {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }


def _available(deployments: Objects, name: str, replicas: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        d = deployments.get(name)
        status = d.get("status") or {}
        conditions = {c["type"]: c for c in status.get("conditions") or []}
        done = (
            status.get("updatedReplicas") == replicas
            and status.get("availableReplicas") == replicas
            and status.get("replicas") == replicas
            and conditions.get("Progressing", {}).get("reason") == "NewReplicaSetAvailable"
        )
        return d if done else None

    return eventually(probe, f"{name} has {replicas} available replicas")


def _owned(objects: Objects, owner: dict[str, Any]) -> list[dict[str, Any]]:
    uid = owner["metadata"]["uid"]
    return [
        o
        for o in objects.list()["items"]
        if any(r["uid"] == uid for r in o["metadata"].get("ownerReferences") or [])
    ]


def test_a_deployment_becomes_available_with_its_replicaset_and_running_pods(
    rest: RESTClient,
) -> None:
    deployments = _objects(rest, "apps", "deployments")
    sets = _objects(rest, "apps", "replicasets")
    pods = _objects(rest, "", "pods")
    deployments.create(_deployment("web", 3))
    d = _available(deployments, "web", 3)
    conditions = {c["type"]: c for c in d["status"]["conditions"]}
    assert conditions["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conditions["Available"]["message"] == "Deployment has minimum availability."
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    (rs,) = _owned(sets, d)
    digest = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{digest}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": digest}
    assert rs["metadata"]["annotations"] == {
        "deployment.kubernetes.io/revision": "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
    }
    assert conditions["Progressing"]["message"] == (
        f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.'
    )
    owned = _owned(pods, rs)
    assert len(owned) == 3
    for pod in owned:
        assert pod["metadata"]["name"].startswith(f"{rs['metadata']['name']}-")
        assert len(pod["metadata"]["name"]) == len(rs["metadata"]["name"]) + 6
        (ref,) = pod["metadata"]["ownerReferences"]
        assert ref["controller"] and ref["blockOwnerDeletion"] and ref["kind"] == "ReplicaSet"
        assert pod["status"]["phase"] == "Running"
    assert rs["status"] == {
        "replicas": 3,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 1,
    }


def test_scale_up_and_down(rest: RESTClient) -> None:
    deployments = _objects(rest, "apps", "deployments")
    deployments.create(_deployment("scaled", 2))
    d = _available(deployments, "scaled", 2)
    d["spec"]["replicas"] = 5
    deployments.update(d)
    d = _available(deployments, "scaled", 5)
    d["spec"]["replicas"] = 1
    deployments.update(d)
    d = _available(deployments, "scaled", 1)
    pods = _owned(_objects(rest, "", "pods"), _owned(_objects(rest, "apps", "replicasets"), d)[0])
    assert len([p for p in pods if not p["metadata"].get("deletionTimestamp")]) == 1


def test_an_image_change_rolls_out_a_new_revision(rest: RESTClient) -> None:
    deployments = _objects(rest, "apps", "deployments")
    sets = _objects(rest, "apps", "replicasets")
    deployments.create(_deployment("roll", 3))
    d = _available(deployments, "roll", 3)
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    deployments.update(d)
    d = eventually(
        lambda: (x := deployments.get("roll"))["metadata"]["annotations"][
            "deployment.kubernetes.io/revision"
        ]
        == "2"
        and x,
        "revision 2",
    )
    _available(deployments, "roll", 3)
    by_revision = {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs
        for rs in _owned(sets, d)
    }
    assert set(by_revision) == {"1", "2"}
    assert by_revision["1"]["spec"]["replicas"] == 0
    assert by_revision["2"]["spec"]["replicas"] == 3
    image = by_revision["2"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "nginx:1.27"


def test_max_unavailable_zero_keeps_every_replica_ready(rest: RESTClient) -> None:
    deployments = _objects(rest, "apps", "deployments")
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    deployments.create(_deployment("careful", 3, strategy=strategy))
    d = _available(deployments, "careful", 3)
    start = deployments.list()["metadata"]["resourceVersion"]
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    with deployments.watch(resource_version=start, timeout_seconds=20) as watch:
        deployments.update(d)
        seen = []
        for event in watch:
            if event.object["metadata"]["name"] != "careful":
                continue
            status = event.object.get("status") or {}
            seen.append(status)
            if (
                status.get("updatedReplicas") == 3
                and status.get("availableReplicas") == 3
                and status.get("replicas") == 3
                and event.object["metadata"]["generation"] == status.get("observedGeneration")
            ):
                break
    assert all(s.get("availableReplicas", 0) >= 3 for s in seen)
    assert max(s.get("replicas", 0) for s in seen) == 4  # one surge pod at a time


def test_recreate_scales_the_old_set_to_zero_first(rest: RESTClient) -> None:
    deployments = _objects(rest, "apps", "deployments")
    sets = _objects(rest, "apps", "replicasets")
    deployments.create(_deployment("again", 2, strategy={"type": "Recreate"}))
    d = _available(deployments, "again", 2)
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    start = sets.list()["metadata"]["resourceVersion"]
    with sets.watch(resource_version=start, timeout_seconds=20) as watch:
        deployments.update(d)
        sizes: dict[str, int] = {}
        both = []
        for event in watch:
            if not event.object["metadata"]["name"].startswith("again-"):
                continue
            sizes[event.object["metadata"]["name"]] = (event.object.get("status") or {}).get(
                "replicas", 0
            )
            both.append(dict(sizes))
            if len(sizes) == 2 and sorted(sizes.values()) == [0, 2]:
                break
    assert all(min(s.values()) == 0 for s in both if len(s) == 2)
    _available(deployments, "again", 2)
    assert sorted(rs["spec"]["replicas"] for rs in _owned(sets, d)) == [0, 2]


def test_deleting_the_deployment_collects_sets_and_pods(rest: RESTClient) -> None:
    deployments = _objects(rest, "apps", "deployments")
    sets = _objects(rest, "apps", "replicasets")
    pods = _objects(rest, "", "pods")
    deployments.create(_deployment("doomed", 2))
    d = _available(deployments, "doomed", 2)
    (rs,) = _owned(sets, d)
    deployments.delete("doomed")
    eventually(lambda: not _owned(sets, d) or None, "the replicaset is collected")
    eventually(lambda: not _owned(pods, rs) or None, "the pods are collected")


def test_a_replicaset_adopts_orphans_and_releases_strays(rest: RESTClient) -> None:
    pods = _objects(rest, "", "pods")
    sets = _objects(rest, "apps", "replicasets")
    pods.create(
        {
            "metadata": {"name": "orphan", "labels": {"tier": "cache"}},
            "spec": {"containers": [{"name": "c", "image": "redis"}]},
        }
    )
    labels = {"tier": "cache"}
    rs = sets.create(
        {
            "metadata": {"name": "cache"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "redis"}]},
                },
            },
        }
    )
    eventually(lambda: len(_owned(pods, rs)) == 2 or None, "two pods")
    assert any(p["metadata"]["name"] == "orphan" for p in _owned(pods, rs))
    orphan = pods.get("orphan")
    orphan["metadata"]["labels"] = {"tier": "other"}
    pods.update(orphan)
    eventually(lambda: "ownerReferences" not in pods.get("orphan")["metadata"] or None, "released")
    status = eventually(
        lambda: (s := sets.get("cache").get("status") or {}).get("readyReplicas") == 2 and s,
        "two ready again",
    )
    assert status["fullyLabeledReplicas"] == 2 and status["availableReplicas"] == 2
    assert len(_owned(pods, rs)) == 2
