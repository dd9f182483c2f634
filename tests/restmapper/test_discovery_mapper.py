"""The discovery-backed mappers over the real discovery documents served on 127.0.0.1 (4.8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from client.wire import serving
from discovery.served import DiscoveryDocuments

from kgen.client import GroupKind, GroupResource, GroupVersionKind, GroupVersionResource
from kgen.discovery import DiscoveryClient, DiskCachedDiscoveryClient, MemCacheClient
from kgen.restmapper import (
    DeferredDiscoveryRESTMapper,
    NoResourceMatchError,
    RESTMapper,
    RESTScope,
    ShortcutExpander,
    get_api_group_resources,
    new_discovery_rest_mapper,
    parse_resource_arg,
    resource_for_arg,
)


def gvr(group: str, version: str, resource: str) -> GroupVersionResource:
    return GroupVersionResource(group, version, resource)


@pytest.fixture(scope="module")
def mapper(specs_dir: Path) -> RESTMapper:
    """Built while the server runs; afterwards every lookup is answered from memory (the
    server is gone, so a lookup that went to the network would fail)."""
    with serving(DiscoveryDocuments.real(specs_dir).handle) as (_, rest):
        discovery = MemCacheClient(DiscoveryClient(rest))
        groups = get_api_group_resources(discovery)
    return ShortcutExpander(new_discovery_rest_mapper(groups), discovery)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (gvr("", "", "pods"), gvr("", "v1", "pods")),
        (gvr("", "", "pod"), gvr("", "v1", "pods")),
        (gvr("", "", "po"), gvr("", "v1", "pods")),
        (gvr("", "", "deploy"), gvr("apps", "v1", "deployments")),
        (gvr("", "", "hpa"), gvr("autoscaling", "v2", "horizontalpodautoscalers")),
        (gvr("", "v1", "hpa"), gvr("autoscaling", "v1", "horizontalpodautoscalers")),
        (gvr("autoscal", "", "hpa"), gvr("autoscaling", "v2", "horizontalpodautoscalers")),
        (gvr("", "", "events"), gvr("", "v1", "events")),  # core v1 wins over events.k8s.io
        (gvr("events.k8s.io", "", "ev"), gvr("events.k8s.io", "v1", "events")),
        (gvr("", "", "ev"), gvr("", "v1", "events")),  # first short name in discovery order
        (gvr("", "", "crd"), gvr("apiextensions.k8s.io", "v1", "customresourcedefinitions")),
        (gvr("", "", "endpoints"), gvr("", "v1", "endpoints")),
    ],
)
def test_resource_for_what_users_type(
    mapper: RESTMapper, typed: GroupVersionResource, expected: GroupVersionResource
) -> None:
    assert mapper.resource_for(typed) == expected


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        (gvr("", "", "pods"), GroupVersionKind("", "v1", "Pod")),
        (gvr("", "", "sts"), GroupVersionKind("apps", "v1", "StatefulSet")),
        (gvr("", "", "cronjob"), GroupVersionKind("batch", "v1", "CronJob")),
        (gvr("", "", "netpol"), GroupVersionKind("networking.k8s.io", "v1", "NetworkPolicy")),
    ],
)
def test_kind_for(mapper: RESTMapper, typed: GroupVersionResource, kind: GroupVersionKind) -> None:
    assert mapper.kind_for(typed) == kind


def test_several_versions_are_listed_most_preferred_first(mapper: RESTMapper) -> None:
    found = mapper.resources_for(gvr("", "", "horizontalpodautoscalers"))
    assert set(found) == {
        gvr("autoscaling", "v1", "horizontalpodautoscalers"),
        gvr("autoscaling", "v2", "horizontalpodautoscalers"),
    }
    events = mapper.resources_for(gvr("", "", "events"))
    assert events[0] == gvr("", "v1", "events") and len(events) == 2


def test_rest_mappings_of_kinds(mapper: RESTMapper) -> None:
    deployment = mapper.rest_mapping(GroupKind("apps", "Deployment"))
    assert deployment.resource == gvr("apps", "v1", "deployments")
    assert deployment.scope is RESTScope.NAMESPACE
    node = mapper.rest_mapping(GroupKind("", "Node"))
    assert (node.resource, node.scope) == (gvr("", "v1", "nodes"), RESTScope.ROOT)
    hpa = GroupKind("autoscaling", "HorizontalPodAutoscaler")
    assert mapper.rest_mapping(hpa).resource.version == "v2"  # the preferred version
    assert mapper.rest_mapping(hpa, "v1").resource.version == "v1"
    pod_list = mapper.rest_mapping(GroupKind("", "PodList"))
    assert pod_list.group_version_kind == GroupVersionKind("", "v1", "PodList")
    lower = mapper.rest_mapping(GroupKind("apps", "deployment"))
    assert lower.resource == gvr("apps", "v1", "deployments")


def test_subresources_and_unknown_names_do_not_map(mapper: RESTMapper) -> None:
    with pytest.raises(NoResourceMatchError):
        mapper.resource_for(gvr("", "", "deployments/scale"))
    with pytest.raises(NoResourceMatchError):
        mapper.resource_for(gvr("", "", "widgets"))


def test_resource_singularizer(mapper: RESTMapper) -> None:
    assert mapper.resource_singularizer("deployments") == "deployment"
    assert mapper.resource_singularizer("endpoints") == "endpoints"


def _documents_without(specs_dir: Path, group: str) -> DiscoveryDocuments:
    documents = DiscoveryDocuments.real(specs_dir)
    items = documents.aggregated["/apis"]["items"]
    documents.aggregated["/apis"]["items"] = [i for i in items if i["metadata"]["name"] != group]
    return documents


def test_deferred_mapper_is_lazy_and_refreshes_stale_cached_discovery(
    specs_dir: Path, tmp_path: Path
) -> None:
    old = _documents_without(specs_dir, "batch")
    with serving(old.handle) as (_, rest):
        writer = DiskCachedDiscoveryClient(DiscoveryClient(rest), tmp_path, 600)
        with pytest.raises(NoResourceMatchError):  # fresh cache: no retry
            DeferredDiscoveryRESTMapper(writer).resource_for(gvr("", "", "cronjobs"))

    # another process reads those files later, after batch/v1 appeared on the server
    with serving(DiscoveryDocuments.real(specs_dir).handle) as (server, rest):
        reader = DiskCachedDiscoveryClient(DiscoveryClient(rest), tmp_path, 600)
        deferred = DeferredDiscoveryRESTMapper(reader)
        assert server.requests() == []  # nothing read before the first lookup
        assert deferred.resource_for(gvr("", "", "pods")) == gvr("", "v1", "pods")
        assert server.requests() == []  # answered from the other process's files
        assert not reader.fresh()
        assert deferred.resource_for(gvr("", "", "cj")) == gvr("batch", "v1", "cronjobs")
        assert [seen.path for seen in server.requests()] == ["/api", "/apis"]
        assert reader.fresh()


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("deploy", gvr("apps", "v1", "deployments")),
        ("deployments.apps", gvr("apps", "v1", "deployments")),
        ("Deployments.v1.apps", gvr("apps", "v1", "deployments")),
        ("hpa.v1.autoscaling", gvr("autoscaling", "v1", "horizontalpodautoscalers")),
        ("hpa.autoscaling", gvr("autoscaling", "v2", "horizontalpodautoscalers")),
        (
            "certificatesigningrequests.certificates.k8s.io",
            gvr("certificates.k8s.io", "v1", "certificatesigningrequests"),
        ),
        (
            "csr.v1.certificates.k8s.io",
            gvr("certificates.k8s.io", "v1", "certificatesigningrequests"),
        ),
        ("csr.v1beta1.certificates.k8s.io", None),  # not served in v1beta1: no match
    ],
)
def test_resource_for_command_line_args(
    mapper: RESTMapper, arg: str, expected: GroupVersionResource | None
) -> None:
    if expected is None:
        with pytest.raises(NoResourceMatchError):
            resource_for_arg(mapper, arg)
    else:
        assert resource_for_arg(mapper, arg) == expected


def test_parse_resource_arg_gives_both_readings() -> None:
    full, partial = parse_resource_arg("ingresses.v1.networking.k8s.io")
    assert full == gvr("networking.k8s.io", "v1", "ingresses")
    assert partial == GroupResource("v1.networking.k8s.io", "ingresses")
    assert parse_resource_arg("pods") == (None, GroupResource("", "pods"))
