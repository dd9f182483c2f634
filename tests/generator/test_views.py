"""Names, ordering and method sets the emitters derive from the API model (scenarios 5.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import kgen.client
import kgen.client.aio
from kgen.generator.selection import select_group_versions
from kgen.generator.views import (
    _BASE_METHODS,
    Flavor,
    GenerateError,
    ResourceView,
    build_views,
)
from kgen.spec import APIModel, load, version_priority


@pytest.fixture(scope="module")
def k135(specs_dir: Path) -> APIModel:
    return load([specs_dir / "kubernetes/v1.35/swagger.json"])


def _resource(api: APIModel, group: str, version: str, plural: str) -> ResourceView:
    for gv in build_views(api, "p"):
        if (gv.group, gv.version) == (group, version):
            return next(r for r in gv.resources if r.plural == plural)
    raise AssertionError(f"{group}/{version} not generated")


def test_group_versions_sorted_by_group_then_version_priority(k135: APIModel) -> None:
    """S11: core first, groups by name; within a group the preferred version first."""
    views = build_views(k135, "p")
    assert views[0].module == "core_v1"
    groups = [gv.group for gv in views]
    assert groups == sorted(groups)
    resource = [gv.version for gv in views if gv.group == "resource.k8s.io"]
    assert resource == sorted(resource, key=version_priority)
    assert resource[0] == "v1" and resource[-1].startswith("v1alpha")
    assert [gv.class_prefix for gv in views[:2]] == ["CoreV1", "AdmissionregistrationV1"]


@pytest.mark.parametrize(
    ("group", "plural", "accessor"),
    [
        ("", "pods", "pods"),
        ("", "endpoints", "endpoints"),
        ("", "persistentvolumeclaims", "persistent_volume_claims"),
        ("networking.k8s.io", "networkpolicies", "network_policies"),
        ("networking.k8s.io", "ingressclasses", "ingress_classes"),
        ("apps", "statefulsets", "stateful_sets"),
        ("autoscaling", "horizontalpodautoscalers", "horizontal_pod_autoscalers"),
    ],
)
def test_accessor_names(k135: APIModel, group: str, plural: str, accessor: str) -> None:
    version = "v2" if group == "autoscaling" else "v1"
    assert _resource(k135, group, version, plural).accessor == accessor


def test_verbs_follow_what_the_server_serves(k135: APIModel) -> None:
    """S4: update_status/apply_status only with a status subresource; apply with patch."""
    pods = _resource(k135, "", "v1", "pods")
    assert {"update_status", "apply_status", "apply", "delete_collection"} <= pods.verbs
    config_maps = _resource(k135, "", "v1", "configmaps")
    assert "update_status" not in config_maps.verbs and "apply" in config_maps.verbs
    assert _resource(k135, "authentication.k8s.io", "v1", "tokenreviews").verbs == {"create"}
    bindings = _resource(k135, "", "v1", "bindings")
    assert bindings.verbs == {"create"} and not bindings.has_lister


def test_typed_clients_inherit_one_mixin_per_served_verb_family(k135: APIModel) -> None:
    """Issue 5: a typed client's bases are exactly the kgen.client mixins of what it serves,
    in client-go's verb order; apply comes with PatchMixin, apply_status needs status patch."""
    assert _resource(k135, "", "v1", "componentstatuses").mixins == ("GetMixin", "ListMixin")
    assert _resource(k135, "authentication.k8s.io", "v1", "tokenreviews").mixins == ("CreateMixin",)
    pods = _resource(k135, "", "v1", "pods").mixins
    assert pods[:3] == ("CreateMixin", "UpdateMixin", "UpdateStatusMixin")
    assert pods[-7:-5] == ("PatchMixin", "ApplyStatusMixin") and len(pods) == 15
    config_maps = _resource(k135, "", "v1", "configmaps").mixins
    assert "UpdateStatusMixin" not in config_maps and "ApplyStatusMixin" not in config_maps
    assert "PatchMixin" in config_maps
    for gv in build_views(k135, "p"):
        assert set(gv.client_imports(Flavor.sync("p"))) <= set(kgen.client.__all__), gv.module
        names = set(kgen.client.aio.__all__)
        assert set(gv.client_imports(Flavor.asyncio("p"))) <= names, gv.module


def test_subresource_methods_never_shadow_a_client_attribute() -> None:
    """Every public attribute of the fullest typed client is reserved from subresource names."""
    for fullest in (kgen.client.ResourceClient, kgen.client.aio.AsyncResourceClient):
        public = {name for name in dir(fullest) if not name.startswith("_")}
        assert public <= _BASE_METHODS, fullest


def test_subresource_methods_are_typed_from_the_spec(k135: APIModel) -> None:
    """S5: scale subresources get get_scale/update_scale returning autoscaling/v1 Scale."""
    methods = {
        m.method: m for m in _resource(k135, "apps", "v1", "deployments").subresource_methods
    }
    assert sorted(methods) == ["get_scale", "update_scale"]
    assert methods["get_scale"].result is not None
    assert methods["get_scale"].result.name == "Scale"
    assert methods["get_scale"].result.module == "p.models.autoscaling_v1"
    pods = {m.method: m for m in _resource(k135, "", "v1", "pods").subresource_methods}
    assert {"create_eviction", "create_binding", "get_ephemeralcontainers"} <= set(pods)
    assert (
        pods["create_eviction"].body is not None and pods["create_eviction"].body.name == "Eviction"
    )
    assert not any(
        name.endswith(("_exec", "_attach", "_proxy", "_portforward", "_log")) for name in pods
    )


def test_streaming_subresources_bring_their_mixins(k135: APIModel) -> None:
    """pods/exec, pods/attach, pods/portforward and */proxy are connect operations, pods/log a
    text stream: the pod client inherits their mixins; services and nodes (only proxy) get the
    proxy one alone; resources without any get none."""
    pods = _resource(k135, "", "v1", "pods")
    assert pods.mixins[-5:] == (
        "ExecMixin",
        "AttachMixin",
        "LogsMixin",
        "PortForwardMixin",
        "ProxyMixin",
    )
    for plural in ("services", "nodes"):
        mixins = _resource(k135, "", "v1", plural).mixins
        assert mixins[-1] == "ProxyMixin"
        assert not {"LogsMixin", "PortForwardMixin", "ExecMixin"} & set(mixins)
    assert "ExecMixin" not in _resource(k135, "apps", "v1", "deployments").mixins
    assert "ProxyMixin" not in _resource(k135, "", "v1", "configmaps").mixins


def test_filters(k135: APIModel) -> None:
    only_apps = select_group_versions(k135, ["apps"], [])
    assert list(only_apps.group_versions) == [("apps", "v1")]
    no_alpha = select_group_versions(k135, [], ["*/v*alpha*", "core"])
    assert all("alpha" not in v and g for g, v in no_alpha.group_versions)
    with pytest.raises(GenerateError, match="'nope' matches no group/version"):
        select_group_versions(k135, ["nope"], [])


def test_clashing_group_version_names_are_an_error(k135: APIModel) -> None:
    from kgen.spec.model import GroupVersion

    api: Any = select_group_versions(k135, ["core"], [])
    gv = api.group_versions[("", "v1")]
    api.group_versions[("x", "v1")] = GroupVersion("x", "v1", dict(gv.resources))
    api.group_versions[("x.", "v1")] = GroupVersion("x.", "v1", dict(gv.resources))
    with pytest.raises(GenerateError, match="same Python name"):
        build_views(api, "p")
