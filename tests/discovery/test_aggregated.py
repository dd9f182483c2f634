"""Aggregated discovery documents (real ones) converted to the legacy shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgen.discovery import (
    APIGroupDiscoveryList,
    StaleGroupVersionError,
    is_aggregated_content_type,
    split_groups_and_resources,
)
from kgen.meta import APIResourceList, decode


def load(specs_dir: Path, name: str) -> bytes:
    return (specs_dir / "kubernetes" / "discovery" / name).read_bytes()


@pytest.mark.parametrize("name", ["aggregated_v2.json", "aggregated_v2.v1.31-dev.json"])
def test_real_documents_decode_and_split(specs_dir: Path, name: str) -> None:
    document = decode(load(specs_dir, name), APIGroupDiscoveryList)
    split = split_groups_and_resources(document)
    assert split.failed == {}
    assert split.resources is not None
    assert len(split.groups) == len(document.items) > 20
    for group in split.groups:
        assert group.preferred_version == group.versions[0]
        for version in group.versions:
            assert version.group_version in split.resources


def test_split_matches_the_legacy_document_of_the_same_group_version(specs_dir: Path) -> None:
    split = split_groups_and_resources(
        decode(load(specs_dir, "aggregated_v2.json"), APIGroupDiscoveryList)
    )
    legacy = decode(load(specs_dir, "apis__apps__v1.json"), APIResourceList)
    assert split.resources is not None
    converted = split.resources["apps/v1"].resources

    def comparable(resource: object) -> tuple[object, ...]:
        fields = ("name", "namespaced", "kind", "verbs", "short_names", "categories")
        fields += ("group", "version")
        return tuple(getattr(resource, f) for f in fields)

    assert [comparable(r) for r in converted] == [comparable(r) for r in legacy.resources]
    top_level = [r for r in converted if "/" not in r.name]
    assert [r.singular_name for r in top_level] == [
        r.singular_name for r in legacy.resources if "/" not in r.name
    ]
    scale = next(r for r in converted if r.name == "deployments/scale")
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")


def test_versions_keep_server_order_and_the_first_is_preferred(specs_dir: Path) -> None:
    split = split_groups_and_resources(
        decode(load(specs_dir, "aggregated_v2.json"), APIGroupDiscoveryList)
    )
    autoscaling = next(g for g in split.groups if g.name == "autoscaling")
    assert [v.group_version for v in autoscaling.versions] == ["autoscaling/v2", "autoscaling/v1"]
    assert autoscaling.preferred_version == autoscaling.versions[0]


def test_stale_versions_are_failed_and_left_out(specs_dir: Path) -> None:
    raw = load(specs_dir, "aggregated_v2.json").replace(
        b'"freshness": "Current"', b'"freshness": "Stale"', 1
    )
    split = split_groups_and_resources(decode(raw, APIGroupDiscoveryList))
    first = split.groups[0]
    assert first.name == "apiregistration.k8s.io"
    assert first.versions == ()
    assert list(split.failed) == ["apiregistration.k8s.io/v1"]
    assert isinstance(split.failed["apiregistration.k8s.io/v1"], StaleGroupVersionError)
    assert split.resources is not None and "apiregistration.k8s.io/v1" not in split.resources


def test_resources_without_response_kind_are_dropped_but_subresources_kept() -> None:
    document = decode(
        b'{"items":[{"metadata":{"name":"g"},"versions":[{"version":"v1","resources":['
        b'{"resource":"things","scope":"Cluster","verbs":["get"],"subresources":['
        b'{"subresource":"status","responseKind":{"kind":"Thing"},"verbs":["get"]}]}]}]}]}',
        APIGroupDiscoveryList,
    )
    split = split_groups_and_resources(document)
    assert split.resources is not None
    assert [r.name for r in split.resources["g/v1"].resources] == ["things/status"]
    assert split.resources["g/v1"].resources[0].namespaced is False


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", True),
        ("application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io", True),
        ("application/json;v=v2;g=apidiscovery.k8s.io;as=APIGroupDiscoveryList", True),
        ("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", False),
        ("application/json;g=apidiscovery.k8s.io;v=v2", False),
        ("application/json", False),
        ("application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", False),
        ("", False),
    ],
)
def test_aggregated_content_type_detection(content_type: str, expected: bool) -> None:
    assert is_aggregated_content_type(content_type) is expected
