"""kgen.spec.load on the real documents in the shared specs folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgen.spec import APIModel, GroupVersionKind, load, load_documents


@pytest.fixture(scope="module")
def v135(specs_dir: Path) -> APIModel:
    return load([specs_dir / "kubernetes/v1.35/swagger.json"])


@pytest.mark.parametrize("version", ["v1.21", "v1.30", "v1.35"])
def test_swagger_loads_with_core_resources(specs_dir: Path, version: str) -> None:
    api = load([specs_dir / f"kubernetes/{version}/swagger.json"])
    pods = api.group_versions[("", "v1")].resources["pods"]
    assert pods.kind == "Pod" and pods.namespaced
    assert pods.schema == "io.k8s.api.core.v1.Pod"
    assert pods.list_schema == "io.k8s.api.core.v1.PodList"
    assert set(pods.verbs) == {
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    }
    assert {"status", "log", "eviction", "binding", "exec"} <= set(pods.subresources)
    assert any("derived from the OpenAPI paths" in note for note in api.notes)


def test_scope_and_subresources_from_paths(v135: APIModel) -> None:
    core = v135.group_versions[("", "v1")].resources
    assert not core["namespaces"].namespaced
    assert not core["nodes"].namespaced
    assert core["services"].namespaced
    assert core["namespaces"].subresources["finalize"].verbs == ("update",)
    assert "deletecollection" not in core["namespaces"].verbs
    assert core["bindings"].verbs == ("create",)
    assert core["componentstatuses"].verbs == ("get", "list")
    eviction = core["pods"].subresources["eviction"]
    assert eviction.request_kind == GroupVersionKind("policy", "v1", "Eviction")
    assert eviction.request_schema == "io.k8s.api.policy.v1.Eviction"
    assert core["pods"].subresources["log"].response_schema is None
    assert core["pods"].subresources["status"].request_kind is None
    scale = v135.group_versions[("apps", "v1")].resources["deployments"].subresources["scale"]
    assert scale.response_kind == GroupVersionKind("autoscaling", "v1", "Scale")
    assert scale.request_schema == scale.response_schema == "io.k8s.api.autoscaling.v1.Scale"
    assert v135.group_versions[("apps", "v1")].preferred


def test_v3_folder_matches_v2(specs_dir: Path, v135: APIModel) -> None:
    v3 = load([specs_dir / "kubernetes/v1.35/openapi-v3"])
    assert set(v3.group_versions) == set(v135.group_versions)
    for gv, group_version in v135.group_versions.items():
        other = v3.group_versions[gv].resources
        for plural, res in group_version.resources.items():
            assert other[plural].namespaced == res.namespaced, (gv, plural)
            assert other[plural].verbs == res.verbs, (gv, plural)
            assert set(other[plural].subresources) == set(res.subresources), (gv, plural)
    pod = v3.schemas["io.k8s.api.core.v1.Pod"]
    assert pod["properties"]["metadata"]["$ref"] == (
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    assert "allOf" not in pod["properties"]["spec"]


def test_discovery_gives_short_names_and_categories(specs_dir: Path) -> None:
    api = load(
        [specs_dir / "kubernetes/v1.35/swagger.json"],
        [specs_dir / "kubernetes/discovery/aggregated_v2.json"],
    )
    deployments = api.group_versions[("apps", "v1")].resources["deployments"]
    assert deployments.short_names == ("deploy",)
    assert "all" in deployments.categories
    assert deployments.schema == "io.k8s.api.apps.v1.Deployment"
    assert deployments.subresources["scale"].response_kind == GroupVersionKind(
        "autoscaling", "v1", "Scale"
    )
    services = api.group_versions[("apiregistration.k8s.io", "v1")].resources["apiservices"]
    assert not services.namespaced and services.categories == ("api-extensions",)
    assert any("which no spec serves: ignored" in note for note in api.notes)
    assert deployments.subresources["scale"].response_schema == "io.k8s.api.autoscaling.v1.Scale"


def test_legacy_discovery(specs_dir: Path) -> None:
    d = specs_dir / "kubernetes/discovery"
    api = load(
        [specs_dir / "kubernetes/v1.35/swagger.json"],
        [d / "api__v1.json", d / "apis__apps__v1.json", d / "apis.json", d / "api.json"],
    )
    core = api.group_versions[("", "v1")].resources
    assert core["configmaps"].short_names == ("cm",)
    assert core["pods"].subresources["status"].verbs == ("get", "patch", "update")
    scale = api.group_versions[("apps", "v1")].resources["deployments"].subresources["scale"]
    assert scale.response_kind == GroupVersionKind("autoscaling", "v1", "Scale")


def test_discovery_alone_describes_resources_without_schemas(specs_dir: Path) -> None:
    api = load([], [specs_dir / "kubernetes/discovery/aggregated_v2.json"])
    apps = api.group_versions[("apps", "v1")].resources
    assert apps["deployments"].namespaced and apps["deployments"].schema is None
    rbac = api.group_versions[("rbac.authorization.k8s.io", "v1")].resources
    assert not rbac["clusterroles"].namespaced
    assert api.group_versions[("autoscaling", "v2")].preferred
    assert not api.group_versions[("autoscaling", "v1")].preferred


def test_every_crd_loads(specs_dir: Path) -> None:
    api = load([specs_dir / "crds"])
    gateways = api.group_versions[("gateway.networking.k8s.io", "v1")].resources["gateways"]
    assert gateways.namespaced and gateways.kind == "Gateway"
    assert gateways.schema == "io.k8s.networking.gateway.v1.Gateway"
    assert gateways.list_schema == "io.k8s.networking.gateway.v1.GatewayList"
    assert "status" in gateways.subresources
    assert "io.k8s.networking.gateway.v1.GatewaySpec" in api.schemas
    classes = api.group_versions[("gateway.networking.k8s.io", "v1")].resources
    assert not classes["gatewayclasses"].namespaced
    prom = api.group_versions[("monitoring.coreos.com", "v1")].resources["prometheuses"]
    assert prom.subresources["scale"].response_kind == GroupVersionKind(
        "autoscaling", "v1", "Scale"
    )
    assert prom.short_names == ("prom",)
    assert "io.k8s.api.autoscaling.v1.Scale" in api.schemas
    kinds = {res.kind for gv in api.group_versions.values() for res in gv.resources.values()}
    assert {
        "Certificate",
        "ClusterIssuer",
        "Application",
        "Workflow",
        "AlertmanagerConfig",
    } <= kinds


def test_alertmanagerconfig_bare_equals_enum(specs_dir: Path) -> None:
    api = load(
        [specs_dir / "crds/prometheus-operator/monitoring.coreos.com_alertmanagerconfigs.yaml"]
    )
    enums = [
        s.get("enum")
        for name, schema in api.schemas.items()
        if name.startswith("com.coreos.monitoring.v1alpha1.")
        for s in schema.get("properties", {}).values()
    ]
    assert any(e and "=" in e for e in enums)


def test_single_v3_document_and_discovery_folder(specs_dir: Path) -> None:
    api = load(
        [specs_dir / "kubernetes/v1.35/openapi-v3/apis__apps__v1_openapi.json"],
        [specs_dir / "kubernetes/discovery"],
    )
    assert set(api.group_versions) == {("apps", "v1")}
    deployments = api.group_versions[("apps", "v1")].resources["deployments"]
    assert deployments.short_names == ("deploy",)
    assert "io.k8s.api.core.v1.PodTemplateSpec" in api.schemas


def test_v1beta1_crd(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(
        """
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  version: v1
  scope: Cluster
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  subresources:
    status: {}
    scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
  validation:
    openAPIV3Schema:
      type: object
      properties:
        spec:
          type: object
          properties:
            cronSpec: {type: string}
            replicas: {type: integer}
""",
        encoding="utf-8",
    )
    api = load([path])
    crontabs = api.group_versions[("stable.example.com", "v1")].resources["crontabs"]
    assert not crontabs.namespaced and crontabs.short_names == ("ct",)
    assert set(crontabs.subresources) == {"status", "scale"}
    spec = api.schemas["com.example.stable.v1.CronTabSpec"]
    assert set(spec["properties"]) == {"cronSpec", "replicas"}
    assert api.group_versions[("stable.example.com", "v1")].preferred


def test_crds_with_unrelated_discovery_keep_only_their_kinds(specs_dir: Path) -> None:
    api = load(
        [specs_dir / "crds/gateway-api"], [specs_dir / "kubernetes/discovery/aggregated_v2.json"]
    )
    assert {g for g, _ in api.group_versions} == {"gateway.networking.k8s.io"}
    # A CRD states scope, verbs and subresources itself: nothing is derived, nothing to note.
    assert not any("derived from the OpenAPI paths" in note for note in api.notes)


def test_published_crd_schemas_are_hoisted_like_crd_files(specs_dir: Path, tmp_path: Path) -> None:
    """A server publishes a CRD's schema inline under the same definition name; loading that
    document names the nested objects exactly as loading the CRD file does."""
    crd_file = specs_dir / "crds/gateway-api/gateway.networking.k8s.io_gateways.yaml"
    crd = load_documents([crd_file])[0].data
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    schema = dict(version["schema"]["openAPIV3Schema"])
    schema["properties"] = {
        **schema["properties"],
        "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
    }
    gvk = {"group": "gateway.networking.k8s.io", "version": "v1", "kind": "Gateway"}
    schema["x-kubernetes-group-version-kind"] = [gvk]
    published = {
        "swagger": "2.0",
        "paths": {
            "/apis/gateway.networking.k8s.io/v1/namespaces/{namespace}/gateways/{name}": {
                "get": {"x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk}
            }
        },
        "definitions": {
            "io.k8s.networking.gateway.v1.Gateway": schema,
            **{
                name: s
                for name, s in load([crd_file]).schemas.items()
                if name.startswith("io.k8s.apimachinery.")
            },
        },
    }
    path = tmp_path / "published.json"
    path.write_text(json.dumps(published), encoding="utf-8")
    from_server = load([path])
    from_file = load([crd_file])
    prefix = "io.k8s.networking.gateway.v1.Gateway"
    hoisted = {n for n in from_server.schemas if n.startswith(prefix)}
    assert "io.k8s.networking.gateway.v1.GatewaySpecListeners" in hoisted
    assert hoisted == {n for n in from_file.schemas if n.startswith(prefix)} - {prefix + "List"}
    assert any("hoisted" in note for note in from_server.notes)
    gateways = from_server.group_versions[("gateway.networking.k8s.io", "v1")].resources["gateways"]
    assert gateways.schema == prefix
