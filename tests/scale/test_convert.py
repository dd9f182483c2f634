"""Conversion between autoscaling/v1 Scale and the Scale kinds of extensions/v1beta1,
apps/v1beta1 and apps/v1beta2 (selector as a map plus targetSelector)."""

from __future__ import annotations

from typing import Any

import pytest

from kgen.scale import (
    SCALE_VERSIONS,
    Scale,
    ScaleConversionError,
    from_autoscaling_v1,
    to_autoscaling_v1,
)

OLD_VERSIONS = [v for v in SCALE_VERSIONS if v != "autoscaling/v1"]


def _old(api_version: str, status: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": "12"},
        "spec": {"replicas": 3},
        "status": {"replicas": 2, **status},
    }


def test_the_versions_converted() -> None:
    assert set(OLD_VERSIONS) == {"extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"}


@pytest.mark.parametrize("api_version", OLD_VERSIONS)
def test_target_selector_wins_over_the_map(api_version: str) -> None:
    scale = to_autoscaling_v1(
        _old(api_version, {"selector": {"app": "web"}, "targetSelector": "app=web,tier in (fe)"})
    )
    assert scale.api_version == "autoscaling/v1" and scale.kind == "Scale"
    assert (scale.metadata.name, scale.metadata.resource_version) == ("web", "12")
    assert (scale.spec.replicas, scale.status.replicas) == (3, 2)
    assert scale.status.selector == "app=web,tier in (fe)"


@pytest.mark.parametrize("api_version", OLD_VERSIONS)
def test_map_alone_is_printed_sorted(api_version: str) -> None:
    scale = to_autoscaling_v1(_old(api_version, {"selector": {"tier": "fe", "app": "web"}}))
    assert scale.status.selector == "app=web,tier=fe"


@pytest.mark.parametrize("api_version", OLD_VERSIONS)
def test_writing_an_old_version_sets_both_forms(api_version: str) -> None:
    scale = to_autoscaling_v1(_old("autoscaling/v1", {"selector": "app=web,tier=fe"}))
    body = from_autoscaling_v1(scale, api_version)
    assert body["apiVersion"] == api_version and body["kind"] == "Scale"
    assert body["status"] == {
        "replicas": 2,
        "selector": {"app": "web", "tier": "fe"},
        "targetSelector": "app=web,tier=fe",
    }
    assert body["spec"] == {"replicas": 3}
    assert body["metadata"]["resourceVersion"] == "12"
    assert to_autoscaling_v1(body) == scale


def test_set_based_selector_has_no_map_form() -> None:
    scale = Scale()
    scale.status.selector = "app in (a,b),!canary"
    body = from_autoscaling_v1(scale, "apps/v1beta2")
    assert body["status"] == {"replicas": 0, "targetSelector": "app in (a,b),!canary"}


def test_autoscaling_v1_is_passed_through() -> None:
    doc = _old("autoscaling/v1", {"selector": "app=web"})
    scale = to_autoscaling_v1(doc)
    assert from_autoscaling_v1(scale, "autoscaling/v1") == doc


def test_no_selector_stays_absent() -> None:
    scale = to_autoscaling_v1(_old("extensions/v1beta1", {}))
    assert "selector" not in from_autoscaling_v1(scale, "autoscaling/v1")["status"]
    assert from_autoscaling_v1(scale, "apps/v1beta1")["status"] == {"replicas": 2}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_old("autoscaling/v2", {}), "cannot convert autoscaling/v2/Scale"),
        ({"apiVersion": "apps/v1", "kind": "Deployment"}, "cannot convert apps/v1/Deployment"),
        (_old("autoscaling/v1", {"replicas": "two"}), "autoscaling/v1 Scale does not decode"),
        (_old("apps/v1beta1", {"selector": {"app": "a b"}}), "apps/v1beta1 Scale status.selector"),
    ],
)
def test_bad_input_is_named(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ScaleConversionError, match=message):
        to_autoscaling_v1(doc)


def test_unknown_target_version_and_bad_selector() -> None:
    with pytest.raises(ScaleConversionError, match="kgen converts Scale of autoscaling/v1"):
        from_autoscaling_v1(Scale(), "autoscaling/v2")
    scale = Scale()
    scale.status.selector = "app in ("
    with pytest.raises(ScaleConversionError, match=r"Scale status\.selector 'app in \('"):
        from_autoscaling_v1(scale, "extensions/v1beta1")
