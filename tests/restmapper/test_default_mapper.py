"""DefaultRESTMapper, MultiRESTMapper and PriorityRESTMapper on hand-built tables."""

from __future__ import annotations

import pytest

from kgen.client import GroupKind, GroupVersionKind, GroupVersionResource
from kgen.restmapper import (
    ANY,
    AmbiguousKindError,
    AmbiguousResourceError,
    DefaultRESTMapper,
    MultiRESTMapper,
    NoKindMatchError,
    NoMatchError,
    NoResourceMatchError,
    PriorityRESTMapper,
    RESTMapping,
    RESTScope,
    unsafe_guess_kind_to_resource,
)

NS = RESTScope.NAMESPACE


def gvr(group: str, version: str, resource: str) -> GroupVersionResource:
    return GroupVersionResource(group, version, resource)


def gvk(group: str, version: str, kind: str) -> GroupVersionKind:
    return GroupVersionKind(group, version, kind)


@pytest.mark.parametrize(
    ("kind", "plural", "singular"),
    [
        ("Pod", "pods", "pod"),
        ("Ingress", "ingresses", "ingress"),
        ("NetworkPolicy", "networkpolicies", "networkpolicy"),
        ("Gateway", "gatewaies", "gateway"),  # naive on purpose: any trailing "y" -> "ies"
        ("Endpoints", "endpoints", "endpoints"),
        ("ResourceClaimEndpoints", "resourceclaimendpoints", "resourceclaimendpoints"),
        ("Status", "statuses", "status"),
    ],
)
def test_guessing_resources_from_kinds(kind: str, plural: str, singular: str) -> None:
    guessed_plural, guessed_singular = unsafe_guess_kind_to_resource(gvk("g", "v1", kind))
    assert (guessed_plural, guessed_singular) == (gvr("g", "v1", plural), gvr("g", "v1", singular))


def test_guessing_an_empty_kind_gives_empty_resources() -> None:
    assert unsafe_guess_kind_to_resource(gvk("g", "v1", "")) == (gvr("", "", ""), gvr("", "", ""))


@pytest.fixture
def mapper() -> DefaultRESTMapper:
    mapper = DefaultRESTMapper([("apps", "v1"), ("apps", "v1beta1")])
    for version in ("v1", "v1beta1"):
        mapper.add_specific(
            gvk("apps", version, "Deployment"),
            gvr("apps", version, "deployments"),
            gvr("apps", version, "deployment"),
            NS,
        )
    mapper.add(gvk("apps", "v1", "ControllerRevision"), NS)
    mapper.add(gvk("rbac", "v1", "ClusterRole"), RESTScope.ROOT)
    return mapper


@pytest.mark.parametrize(
    "partial",
    [
        gvr("", "", "deployments"),
        gvr("", "", "Deployments"),  # matched lowercase
        gvr("", "", "deployment"),  # singular
        gvr("apps", "", "deployments"),
        gvr("", "v1", "deployments"),
        gvr("apps", "v1", "deployment"),
    ],
)
def test_resources_for_partial_names(
    mapper: DefaultRESTMapper, partial: GroupVersionResource
) -> None:
    found = mapper.resources_for(partial)
    assert found[0] == gvr("apps", "v1", "deployments")
    if not partial.version:
        assert found == [gvr("apps", "v1", "deployments"), gvr("apps", "v1beta1", "deployments")]


def test_singular_answers_are_ambiguous_across_versions(mapper: DefaultRESTMapper) -> None:
    with pytest.raises(AmbiguousResourceError) as caught:
        mapper.resource_for(gvr("", "", "deployments"))
    assert len(caught.value.matching_resources) == 2
    assert mapper.resource_for(gvr("", "v1beta1", "deployments")) == gvr(
        "apps", "v1beta1", "deployments"
    )
    with pytest.raises(AmbiguousResourceError):
        mapper.kind_for(gvr("apps", "", "deployment"))
    assert mapper.kind_for(gvr("", "v1", "deployment")) == gvk("apps", "v1", "Deployment")


def test_unknown_names_and_missing_resource(mapper: DefaultRESTMapper) -> None:
    with pytest.raises(NoResourceMatchError, match="'widgets'"):
        mapper.resources_for(gvr("", "", "widgets"))
    with pytest.raises(NoMatchError):
        mapper.kinds_for(gvr("batch", "", "deployments"))
    with pytest.raises(ValueError, match="resource name must be given"):
        mapper.resources_for(gvr("apps", "v1", ""))


def test_guessed_kinds_map_both_names(mapper: DefaultRESTMapper) -> None:
    assert mapper.kind_for(gvr("", "", "controllerrevisions")) == gvk(
        "apps", "v1", "ControllerRevision"
    )
    assert mapper.kind_for(gvr("", "", "clusterrole")) == gvk("rbac", "v1", "ClusterRole")


def test_rest_mapping_prefers_requested_then_default_versions(mapper: DefaultRESTMapper) -> None:
    deployment = GroupKind("apps", "Deployment")
    assert mapper.rest_mapping(deployment) == RESTMapping(
        gvr("apps", "v1", "deployments"), gvk("apps", "v1", "Deployment"), NS
    )
    assert [m.resource.version for m in mapper.rest_mappings(deployment)] == ["v1", "v1beta1"]
    assert mapper.rest_mapping(deployment, "v1beta1").resource.version == "v1beta1"
    assert mapper.rest_mapping(deployment, "v2", "v1beta1").resource.version == "v1beta1"
    with pytest.raises(NoKindMatchError, match="searched versions: v2"):
        mapper.rest_mapping(deployment, "v2")
    with pytest.raises(NoKindMatchError, match="'Job' in group 'batch'"):
        mapper.rest_mapping(GroupKind("batch", "Job"))
    with pytest.raises(NoResourceMatchError):
        mapper.rest_mapping(GroupKind("apps", "StatefulSet"))


def test_resource_singularizer(mapper: DefaultRESTMapper) -> None:
    assert mapper.resource_singularizer("deployments") == "deployment"
    assert mapper.resource_singularizer("clusterroles") == "clusterrole"
    with pytest.raises(NoResourceMatchError):
        mapper.resource_singularizer("widgets")


def test_multi_mapper_unions_and_priority_mapper_picks() -> None:
    core = DefaultRESTMapper([("", "v1")])
    core.add(gvk("", "v1", "Event"), NS)
    events = DefaultRESTMapper([("events.k8s.io", "v1")])
    events.add(gvk("events.k8s.io", "v1", "Event"), NS)
    union = MultiRESTMapper([core, events])
    assert union.resources_for(gvr("", "", "events")) == [
        gvr("", "v1", "events"),
        gvr("events.k8s.io", "v1", "events"),
    ]
    with pytest.raises(AmbiguousResourceError):
        union.resource_for(gvr("", "", "events"))
    with pytest.raises(NoResourceMatchError):
        union.kinds_for(gvr("", "", "pods"))

    priority = PriorityRESTMapper(
        union,
        resource_priority=[gvr("", "v1", ANY), gvr("events.k8s.io", ANY, ANY)],
        kind_priority=[gvk("", "v1", ANY), gvk("events.k8s.io", ANY, ANY)],
    )
    assert priority.resource_for(gvr("", "", "events")) == gvr("", "v1", "events")
    assert priority.kind_for(gvr("", "", "event")) == gvk("", "v1", "Event")
    assert priority.resource_for(gvr("events.k8s.io", "", "events")).group == "events.k8s.io"


def test_priority_mapper_rest_mapping_prefers_named_versions() -> None:
    v1 = DefaultRESTMapper([("autoscaling", "v1")])
    v1.add(gvk("autoscaling", "v1", "HorizontalPodAutoscaler"), NS)
    v2 = DefaultRESTMapper([("autoscaling", "v2")])
    v2.add(gvk("autoscaling", "v2", "HorizontalPodAutoscaler"), NS)
    union = MultiRESTMapper([v1, v2])
    hpa = GroupKind("autoscaling", "HorizontalPodAutoscaler")
    with pytest.raises(AmbiguousKindError):
        union.rest_mapping(hpa)
    priority = PriorityRESTMapper(union, kind_priority=[gvk("autoscaling", "v2", ANY)])
    assert priority.rest_mapping(hpa).resource.version == "v2"
    assert priority.rest_mapping(hpa, "v1").resource.version == "v1"
    with pytest.raises(AmbiguousKindError):
        PriorityRESTMapper(union).rest_mapping(hpa)
