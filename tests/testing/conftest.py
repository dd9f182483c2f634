"""A small hand-built API model and a running server over it, shared by the kgen.testing tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from kgen.spec.model import APIModel, GroupVersion, GroupVersionKind, Resource, Subresource
from kgen.testing import APIServer

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
META = {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}


def _object(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": META,
            **props,
        },
    }


def small_model() -> APIModel:
    """core/v1 namespaces, pods, configmaps; apps/v1 deployments (status, scale); a CRD."""
    schemas: dict[str, Any] = {
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
            "type": "object",
            "properties": {
                name: {"type": "string"}
                for name in (
                    "name",
                    "generateName",
                    "namespace",
                    "uid",
                    "resourceVersion",
                    "creationTimestamp",
                    "deletionTimestamp",
                )
            }
            | {
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                "finalizers": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-list-type": "set",
                },
                "generation": {"type": "integer"},
                "deletionGracePeriodSeconds": {"type": "integer"},
                "managedFields": {
                    "type": "array",
                    "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
                "ownerReferences": {
                    "type": "array",
                    "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            },
        },
        "io.k8s.api.core.v1.Container": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "image": {"type": "string"},
                "args": {"type": "array", "items": {"type": "string"}},
                "env": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                    },
                    "x-kubernetes-patch-merge-key": "name",
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                },
            },
        },
        "io.k8s.api.core.v1.Pod": _object(
            {
                "spec": {
                    "type": "object",
                    "properties": {
                        "nodeName": {"type": "string"},
                        "containers": {
                            "type": "array",
                            "items": {"$ref": "#/definitions/io.k8s.api.core.v1.Container"},
                            "x-kubernetes-patch-merge-key": "name",
                            "x-kubernetes-patch-strategy": "merge",
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["name"],
                        },
                    },
                },
                "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
            }
        ),
        "io.k8s.api.core.v1.ConfigMap": _object(
            {"data": {"type": "object", "additionalProperties": {"type": "string"}}}
        ),
        "io.k8s.api.core.v1.Namespace": _object(
            {
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }
        ),
        "io.k8s.api.apps.v1.Deployment": _object(
            {
                "spec": {
                    "type": "object",
                    "properties": {
                        "replicas": {"type": "integer"},
                        "selector": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        },
                        "template": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        },
                    },
                },
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }
        ),
        "com.example.v1.Widget": _object(
            {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
        ),
    }
    status = Subresource("status", ("get", "patch", "update"))

    def create_only(name: str) -> Subresource:
        return Subresource(name, ("create",))

    scale_kind = GroupVersionKind("autoscaling", "v1", "Scale")
    scale = Subresource("scale", ("get", "patch", "update"), scale_kind, scale_kind)
    core = GroupVersion(
        "",
        "v1",
        {
            "namespaces": Resource(
                "namespaces",
                "namespace",
                "Namespace",
                False,
                ALL_VERBS,
                "NamespaceList",
                "io.k8s.api.core.v1.Namespace",
                subresources={"status": status},
                short_names=("ns",),
            ),
            "pods": Resource(
                "pods",
                "pod",
                "Pod",
                True,
                ALL_VERBS,
                "PodList",
                "io.k8s.api.core.v1.Pod",
                subresources={
                    "status": status,
                    "eviction": create_only("eviction"),
                    "binding": create_only("binding"),
                },
                short_names=("po",),
            ),
            "configmaps": Resource(
                "configmaps",
                "configmap",
                "ConfigMap",
                True,
                ALL_VERBS,
                "ConfigMapList",
                "io.k8s.api.core.v1.ConfigMap",
                short_names=("cm",),
            ),
        },
        preferred=True,
    )
    apps = GroupVersion(
        "apps",
        "v1",
        {
            "deployments": Resource(
                "deployments",
                "deployment",
                "Deployment",
                True,
                ALL_VERBS,
                "DeploymentList",
                "io.k8s.api.apps.v1.Deployment",
                subresources={"status": status, "scale": scale},
            )
        },
        preferred=True,
    )
    example = GroupVersion(
        "example.com",
        "v1",
        {
            "widgets": Resource(
                "widgets",
                "widget",
                "Widget",
                False,
                ALL_VERBS,
                "WidgetList",
                "com.example.v1.Widget",
                categories=("all",),
            )
        },
        preferred=True,
    )
    authz = GroupVersion(
        "authorization.k8s.io",
        "v1",
        {
            "selfsubjectaccessreviews": Resource(
                "selfsubjectaccessreviews",
                "selfsubjectaccessreview",
                "SelfSubjectAccessReview",
                False,
                ("create",),
            )
        },
        preferred=True,
    )
    authn = GroupVersion(
        "authentication.k8s.io",
        "v1",
        {
            "selfsubjectreviews": Resource(
                "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", False, ("create",)
            ),
            "tokenreviews": Resource(
                "tokenreviews", "tokenreview", "TokenReview", False, ("create",)
            ),
        },
        preferred=True,
    )
    return APIModel(
        group_versions={
            ("", "v1"): core,
            ("apps", "v1"): apps,
            ("example.com", "v1"): example,
            ("authorization.k8s.io", "v1"): authz,
            ("authentication.k8s.io", "v1"): authn,
        },
        schemas=schemas,
    )


class Client:
    """``requests`` against a server, with the token set and helpers returning JSON."""

    def __init__(self, server: APIServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or CA bundles from the environment
        self.session.headers["Authorization"] = f"Bearer {server.token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.server.url + path, **kwargs)

    def close(self) -> None:
        self.session.close()


@pytest.fixture(scope="module")
def server() -> Iterator[APIServer]:
    with APIServer(small_model(), window=50, bookmark_interval=0.3) as running:
        yield running


@pytest.fixture
def client(server: APIServer) -> Iterator[Client]:
    c = Client(server)
    yield c
    c.close()


@pytest.fixture
def ns(client: Client, request: pytest.FixtureRequest) -> str:
    """A fresh namespace named after the test."""
    name = "t-" + request.node.name.lower().replace("_", "-")[:50].strip("-")
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name).strip("-")
    response = client.request("POST", "/api/v1/namespaces", json={"metadata": {"name": name}})
    assert response.status_code == 201, response.text
    return name
