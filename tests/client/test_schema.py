"""Names of groups, versions, resources and kinds."""

from __future__ import annotations

import pytest

from kgen.client import (
    GroupKind,
    GroupResource,
    GroupVersionKind,
    GroupVersionResource,
    format_group_version,
    parse_group_version,
)


@pytest.mark.parametrize(
    ("api_version", "parts"),
    [
        ("v1", ("", "v1")),
        ("apps/v1", ("apps", "v1")),
        ("", ("", "")),
        ("a.b/v1beta1", ("a.b", "v1beta1")),
    ],
)
def test_group_version_round_trip(api_version: str, parts: tuple[str, str]) -> None:
    assert parse_group_version(api_version) == parts
    assert format_group_version(*parts) == api_version


def test_group_version_with_two_slashes_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'a/b/c'"):
        parse_group_version("a/b/c")


def test_names_print_like_kubectl_and_compare_as_values() -> None:
    deployments = GroupVersionResource("apps", "v1", "deployments")
    assert deployments.api_version == "apps/v1"
    assert deployments.group_resource() == GroupResource("apps", "deployments")
    assert str(GroupResource("apps", "deployments")) == "deployments.apps"
    assert str(GroupResource("", "pods")) == "pods"
    assert str(GroupKind("apps", "Deployment")) == "Deployment.apps"
    assert GroupKind("apps", "Deployment").with_version("v1") == GroupVersionKind(
        "apps", "v1", "Deployment"
    )
    assert str(GroupVersionResource("", "v1", "pods")) == "v1, Resource=pods"
    assert len({deployments, GroupVersionResource("apps", "v1", "deployments")}) == 1
