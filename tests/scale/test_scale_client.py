"""kgen.scale.ScaleClient against kgen.testing's API server over HTTPS: get, update and patch
of the scale subresource of Deployments, StatefulSets, ReplicaSets, ReplicationControllers and
a custom resource (Prometheus, replicas at ``.spec.shards``), by group and resource."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kgen.client import GroupResource, GroupVersionKind, GroupVersionResource, PatchType
from kgen.discovery import DiscoveryClient
from kgen.dynamic import DynamicClient
from kgen.rest import RESTClient, StatusError, is_conflict
from kgen.restmapper import NoResourceMatchError
from kgen.scale import (
    CachedScaleKindResolver,
    DiscoveryScaleKindResolver,
    NoScaleSubresourceError,
    Scale,
    ScaleClient,
)

from .conftest import workload

_names = itertools.count()

KINDS = {
    "Deployment": GroupVersionResource("apps", "v1", "deployments"),
    "StatefulSet": GroupVersionResource("apps", "v1", "statefulsets"),
    "ReplicaSet": GroupVersionResource("apps", "v1", "replicasets"),
    "ReplicationController": GroupVersionResource("", "v1", "replicationcontrollers"),
    "Prometheus": GroupVersionResource("monitoring.coreos.com", "v1", "prometheuses"),
}
NAMESPACE = "default"


def _replicas(obj: dict[str, Any]) -> int:
    spec = obj["spec"]
    return int(spec["shards"] if obj["kind"] == "Prometheus" else spec["replicas"])


def _create(rest: RESTClient, kind: str, replicas: int = 2) -> str:
    name = f"{kind.lower()}-{next(_names)}"
    DynamicClient(rest).resource(KINDS[kind]).namespace(NAMESPACE).create(
        workload(kind, name, replicas)
    )
    return name


def _stored(rest: RESTClient, kind: str, name: str) -> dict[str, Any]:
    return DynamicClient(rest).resource(KINDS[kind]).namespace(NAMESPACE).get(name)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_get_update_patch(rest: RESTClient, kind: str) -> None:
    name = _create(rest, kind)
    resource = KINDS[kind].group_resource()
    scales = ScaleClient.from_discovery(rest).scales(NAMESPACE)

    got = scales.get(resource, name)
    assert isinstance(got, Scale)
    assert (got.api_version, got.kind, got.metadata.name) == ("autoscaling/v1", "Scale", name)
    assert got.spec.replicas == 2
    if kind != "Prometheus":  # a Prometheus has no status.selector until its operator sets it
        assert got.status.selector == f"app={name}"

    got.spec.replicas = 5
    updated = scales.update(resource, got)
    assert updated.spec.replicas == 5
    assert updated.metadata.resource_version != got.metadata.resource_version
    assert _replicas(_stored(rest, kind, name)) == 5

    patched = scales.patch(KINDS[kind], name, PatchType.MERGE, {"spec": {"replicas": 7}})
    assert patched.spec.replicas == 7
    assert _replicas(_stored(rest, kind, name)) == 7
    assert scales.get(resource, name).spec.replicas == 7


def test_json_patch_and_short_group_resource(rest: RESTClient) -> None:
    name = _create(rest, "Deployment", replicas=3)
    scales = ScaleClient.from_discovery(rest).scales(NAMESPACE)
    patch = [{"op": "replace", "path": "/spec/replicas", "value": 1}]
    assert scales.patch(KINDS["Deployment"], name, PatchType.JSON, patch).spec.replicas == 1
    # the mapper completes a bare resource name to its group and preferred version
    assert scales.get(GroupResource("", "deployments"), name).spec.replicas == 1


def test_stale_resource_version_conflicts_and_a_retry_wins(rest: RESTClient) -> None:
    name = _create(rest, "Deployment", replicas=2)
    resource = GroupResource("apps", "deployments")
    scales = ScaleClient.from_discovery(rest).scales(NAMESPACE)
    stale = scales.get(resource, name)
    scales.patch(KINDS["Deployment"], name, PatchType.MERGE, {"spec": {"replicas": 4}})

    stale.spec.replicas = 9
    with pytest.raises(StatusError) as caught:
        scales.update(resource, stale)
    assert is_conflict(caught.value)
    assert _replicas(_stored(rest, "Deployment", name)) == 4

    # read-modify-write until no conflict, as a controller adding one replica would
    attempts = 0
    while True:
        attempts += 1
        current = stale if attempts == 1 else scales.get(resource, name)
        assert isinstance(current.spec.replicas, int)
        current.spec.replicas += 1
        try:
            scales.update(resource, current)
            break
        except StatusError as err:
            if not is_conflict(err) or attempts > 3:
                raise
    assert attempts == 2
    assert _replicas(_stored(rest, "Deployment", name)) == 5


def test_update_without_resource_version_is_unconditional(rest: RESTClient) -> None:
    name = _create(rest, "StatefulSet")
    scale = Scale()
    scale.metadata.name = name
    scale.spec.replicas = 6
    resource = GroupResource("apps", "statefulsets")
    assert (
        ScaleClient.from_discovery(rest).scales(NAMESPACE).update(resource, scale).spec.replicas
        == 6
    )


def test_resource_without_scale_subresource_is_named(rest: RESTClient) -> None:
    scales = ScaleClient.from_discovery(rest).scales(NAMESPACE)
    with pytest.raises(NoScaleSubresourceError, match="configmaps in v1 has no scale subresource"):
        scales.get(GroupResource("", "configmaps"), "anything")
    with pytest.raises(NoScaleSubresourceError, match="daemonsets in apps/v1"):
        scales.patch(
            GroupVersionResource("apps", "v1", "daemonsets"), "x", PatchType.MERGE, {"spec": {}}
        )
    with pytest.raises(NoResourceMatchError):
        scales.get(GroupResource("apps", "widgets"), "x")


def test_update_needs_a_name(rest: RESTClient) -> None:
    scales = ScaleClient.from_discovery(rest).scales(NAMESPACE)
    with pytest.raises(ValueError, match="the Scale has no name"):
        scales.update(GroupResource("apps", "deployments"), Scale())


def test_resolver_reads_the_scale_kind_from_discovery(rest: RESTClient) -> None:
    asked: list[str] = []
    live = DiscoveryClient(rest)

    class Counting:
        def server_resources_for_group_version(self, group_version: str) -> Any:
            asked.append(group_version)
            return live.server_resources_for_group_version(group_version)

    resolver = CachedScaleKindResolver(DiscoveryScaleKindResolver(Counting()))
    autoscaling = GroupVersionKind("autoscaling", "v1", "Scale")
    for kind in ("Deployment", "Prometheus", "ReplicationController", "Deployment"):
        assert resolver.scale_for_resource(KINDS[kind]) == autoscaling
    assert asked == ["apps/v1", "monitoring.coreos.com/v1", "v1"]
    resolver.refresh()
    resolver.scale_for_resource(KINDS["Deployment"])
    assert asked[-1] == "apps/v1" and len(asked) == 4


def test_dry_run_writes_nothing_and_field_manager_is_recorded(rest: RESTClient) -> None:
    name = _create(rest, "ReplicaSet", replicas=2)
    resource = GroupResource("apps", "replicasets")
    scales = ScaleClient.from_discovery(rest).scales(NAMESPACE)
    scale = scales.get(resource, name)
    scale.spec.replicas = 8
    assert scales.update(resource, scale, dry_run=True).spec.replicas == 8
    patch = {"spec": {"replicas": 9}}
    assert scales.patch(KINDS["ReplicaSet"], name, PatchType.MERGE, patch, dry_run=True)
    assert _replicas(_stored(rest, "ReplicaSet", name)) == 2
    scales.update(resource, scale, field_manager="kgen-autoscaler")
    managers = {
        m["manager"]: m for m in _stored(rest, "ReplicaSet", name)["metadata"]["managedFields"]
    }
    assert managers["kgen-autoscaler"]["operation"] == "Update"
    assert managers["kgen-autoscaler"]["subresource"] == "scale"
