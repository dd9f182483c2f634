"""DiscoveryClient against a server that serves the real discovery documents (4.7, S75)."""

from __future__ import annotations

import pytest
from client.wire import serving

from kgen.discovery import (
    AGGREGATED_ACCEPT,
    DiscoveryClient,
    GroupDiscoveryFailedError,
    StaleGroupVersionError,
    discovery_config,
)
from kgen.rest import Config, StatusError

from .served import DiscoveryDocuments


def test_aggregated_discovery_needs_no_per_group_version_requests(
    documents: DiscoveryDocuments,
) -> None:
    with serving(documents.handle) as (server, rest):
        groups, resources = DiscoveryClient(rest).server_groups_and_resources()
    assert [seen.path for seen in server.requests()] == ["/api", "/apis"]
    assert all(seen.headers["accept"] == AGGREGATED_ACCEPT for seen in server.requests())
    assert groups[0].name == ""  # the legacy core group comes first
    assert [g.name for g in groups[1:4]] == ["apiregistration.k8s.io", "apps", "events.k8s.io"]
    assert [r.group_version for r in resources[:3]] == [
        "v1",
        "apiregistration.k8s.io/v1",
        "apps/v1",
    ]
    core = resources[0]
    assert "pods/log" in [r.name for r in core.resources]
    assert len(resources) == 1 + sum(len(g.versions) for g in groups[1:])


def test_aggregated_content_type_parameters_may_come_in_any_order(
    documents: DiscoveryDocuments,
) -> None:
    documents.content_type = "application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io"
    with serving(documents.handle) as (server, rest):
        DiscoveryClient(rest).server_groups_and_resources()
    assert len(server.requests()) == 2


def test_legacy_discovery_asks_each_group_version_and_reports_failures(
    documents: DiscoveryDocuments,
) -> None:
    with (
        serving(documents.handle) as (server, rest),
        pytest.raises(GroupDiscoveryFailedError) as caught,
    ):
        DiscoveryClient(rest, aggregated=False).server_groups_and_resources()
    paths = [seen.path for seen in server.requests()]
    assert paths[:2] == ["/api", "/apis"]
    assert all(seen.headers["accept"] == "application/json" for seen in server.requests())
    assert {"/api/v1", "/apis/apps/v1", "/apis/batch/v1"} <= set(paths[2:])
    failure = caught.value
    # only v1 and apps/v1 have resource documents: every other group/version failed ...
    assert "batch/v1" in failure.failed and "apps/v1" not in failure.failed
    assert isinstance(failure.failed["batch/v1"], StatusError)
    assert "unable to retrieve the complete list of server APIs" in str(failure)
    # ... and the partial answer rides along, in discovery order
    assert [r.group_version for r in failure.resources] == ["v1", "apps/v1"]
    assert failure.groups[0].name == "" and len(failure.groups) > 20


def test_resources_are_only_taken_from_aggregated_answers_of_both_roots(
    documents: DiscoveryDocuments,
) -> None:
    del documents.aggregated["/api"]  # /api answers in the legacy format
    with serving(documents.handle) as (server, rest), pytest.raises(GroupDiscoveryFailedError):
        DiscoveryClient(rest).server_groups_and_resources()
    assert len(server.requests()) > 2  # fell back to one request per group/version


def test_stale_group_versions_fail_without_hiding_the_rest(documents: DiscoveryDocuments) -> None:
    apps = documents.aggregated["/apis"]["items"][1]
    assert apps["metadata"]["name"] == "apps"
    apps["versions"][0]["freshness"] = "Stale"
    with (
        serving(documents.handle) as (server, rest),
        pytest.raises(GroupDiscoveryFailedError) as caught,
    ):
        DiscoveryClient(rest).server_groups_and_resources()
    assert list(caught.value.failed) == ["apps/v1"]
    assert isinstance(caught.value.failed["apps/v1"], StaleGroupVersionError)
    names = [r.group_version for r in caught.value.resources]
    assert "apps/v1" not in names and "batch/v1" in names
    assert len(server.requests()) == 2


def test_server_groups_and_resources_for_one_group_version(documents: DiscoveryDocuments) -> None:
    with serving(documents.handle) as (server, rest):
        discovery = DiscoveryClient(rest)
        groups = discovery.server_groups()
        apps = discovery.server_resources_for_group_version("apps/v1")
        core = discovery.server_resources_for_group_version("v1")
    assert groups.groups[0].name == ""
    assert apps.group_version == "apps/v1"
    assert "deployments" in [r.name for r in apps.resources]
    assert core.group_version == "v1"
    assert [seen.path for seen in server.requests()[-2:]] == ["/apis/apps/v1", "/api/v1"]


def test_missing_roots_and_missing_core_resources_are_tolerated(
    documents: DiscoveryDocuments,
) -> None:
    for path in ("/api", "/api/v1"):
        documents.legacy.pop(path)
        documents.aggregated.pop(path, None)
    with serving(documents.handle) as (_, rest):
        discovery = DiscoveryClient(rest)
        groups = discovery.server_groups()
        core = discovery.server_resources_for_group_version("v1")
        with pytest.raises(StatusError):
            discovery.server_resources_for_group_version("batch/v1")
    assert groups.groups[0].name == "apiregistration.k8s.io"
    assert (core.group_version, core.resources) == ("v1", ())


def test_preferred_resources_take_the_preferred_version(documents: DiscoveryDocuments) -> None:
    with serving(documents.handle) as (_, rest):
        preferred = DiscoveryClient(rest).server_preferred_resources()
    by_gv = {r.group_version: [res.name for res in r.resources] for r in preferred}
    assert by_gv["autoscaling/v2"] == ["horizontalpodautoscalers"]
    assert by_gv["autoscaling/v1"] == []  # served there too, but v2 is preferred
    assert "deployments" in by_gv["apps/v1"]
    assert all("/" not in name for names in by_gv.values() for name in names)
    events = [gv for gv, names in by_gv.items() if "events" in names]
    assert events == ["v1", "events.k8s.io/v1"]  # different groups: both kept


def test_preferred_namespaced_resources(documents: DiscoveryDocuments) -> None:
    with serving(documents.handle) as (_, rest):
        namespaced = DiscoveryClient(rest).server_preferred_namespaced_resources()
    by_gv = {r.group_version: [res.name for res in r.resources] for r in namespaced}
    assert "pods" in by_gv["v1"] and "nodes" not in by_gv["v1"]
    assert "apiregistration.k8s.io/v1" not in by_gv  # only cluster-scoped resources there
    assert "autoscaling/v1" not in by_gv  # empty after preference
    assert all(res.namespaced for r in namespaced for res in r.resources)


def test_server_version(documents: DiscoveryDocuments) -> None:
    with serving(documents.handle) as (server, rest):
        version = DiscoveryClient(rest).server_version()
    assert (version.major, version.minor, version.git_version) == ("1", "33", "v1.33.0")
    assert server.last().path == "/version"


def test_discovery_config_defaults_timeout_and_burst_only_when_unset() -> None:
    original = Config(host="https://example.test")
    tuned = discovery_config(original)
    assert (tuned.timeout, tuned.burst) == (32.0, 300)
    assert (original.timeout, original.burst) == (None, 0)  # the caller's config is untouched
    kept = discovery_config(Config(host="https://example.test", timeout=5, burst=20))
    assert (kept.timeout, kept.burst) == (5, 20)
