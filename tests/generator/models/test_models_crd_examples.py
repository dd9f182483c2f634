"""Realistic custom resources of the real CRDs decode into the generated kinds and re-encode
to the same JSON: nested objects, int-or-string, preserve-unknown-fields, maps, explicit
nulls, times."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import msgspec
import pytest

from kgen.generator.models import model_ref
from kgen.meta import decode, encode
from kgen.spec import APIModel, GroupVersionKind

Generate = Callable[[APIModel, str], dict[str, ModuleType]]

TIME = "2026-11-26T08:00:00Z"
CONDITION = {
    "type": "Accepted",
    "status": "True",
    "reason": "Accepted",
    "message": "ok",
    "lastTransitionTime": TIME,
    "observedGeneration": 3,
}
EXAMPLES: list[dict[str, Any]] = [
    {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "rules", "namespace": "monitoring", "labels": {"team": "a"}},
        "spec": {
            "groups": [
                {
                    "name": "node",
                    "interval": "30s",
                    "rules": [
                        {"record": "node:cpu:rate5m", "expr": "rate(node_cpu[5m])"},
                        {
                            "alert": "AlwaysOne",
                            "expr": 1,
                            "for": "5m",
                            "labels": {"severity": "page"},
                            "annotations": {"summary": 'quotes " and \\ backslashes'},
                        },
                    ],
                }
            ]
        },
    },
    {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": None},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "namespaceSelector": {"matchNames": ["default"]},
            "endpoints": [
                {"port": "metrics", "interval": "15s", "path": "/metrics"},
                {
                    "targetPort": 9090,
                    "relabelings": [
                        {"sourceLabels": ["__meta_pod"], "targetLabel": "pod", "action": "replace"}
                    ],
                },
                {"targetPort": "http-metrics", "honorLabels": True},
            ],
        },
    },
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "gw", "namespace": "infra", "generation": 3},
        "spec": {
            "gatewayClassName": "istio",
            "listeners": [
                {
                    "name": "https",
                    "port": 443,
                    "protocol": "HTTPS",
                    "hostname": "*.example.com",
                    "allowedRoutes": {
                        "namespaces": {"from": "Selector", "selector": {"matchLabels": {"a": "b"}}}
                    },
                }
            ],
        },
        "status": {
            "conditions": [CONDITION],
            "listeners": [
                {
                    "name": "https",
                    "attachedRoutes": 2,
                    "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                    "conditions": [CONDITION],
                }
            ],
        },
    },
    {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "app", "namespace": "argocd", "finalizers": ["x"]},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": "https://example.com/repo.git",
                "targetRevision": "HEAD",
                "path": "charts/app",
                "helm": {
                    "valuesObject": {
                        "replicas": 3,
                        "ratio": 1.0,
                        "nested": {"list": [1, "two", None, {"deep": True}]},
                    }
                },
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "app"},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": False}},
        },
    },
    {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "hello-"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"x": 1}}]},
        "status": {"phase": "Running", "startedAt": TIME},
    },
    {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "tls", "namespace": "default"},
        "spec": {
            "secretName": "tls",
            "dnsNames": ["example.com", "www.example.com"],
            "duration": "2160h0m0s",
            "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"},
            "privateKey": {"algorithm": "ECDSA", "size": 256},
        },
        "status": {"notAfter": TIME, "revision": 1},
    },
]


@pytest.fixture(scope="module")
def crd_api(load_specs: Callable[..., APIModel]) -> APIModel:
    return load_specs("crds")


def _kind_class(api: APIModel, modules: dict[str, ModuleType], example: dict[str, Any]) -> Any:
    group, _, version = example["apiVersion"].rpartition("/")
    gvk = GroupVersionKind(group, version, example["kind"])
    resource = next(
        r for r in api.group_versions[(group, version)].resources.values() if r.kind == gvk.kind
    )
    assert resource.schema is not None
    module, name = model_ref(api, resource.schema)
    return getattr(modules[module.rsplit(".", 1)[1]], name)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["kind"] for e in EXAMPLES])
def test_custom_resources_round_trip(
    crd_api: APIModel, generated: Generate, example: dict[str, Any]
) -> None:
    modules = generated(crd_api, "crd_examples")
    cls = _kind_class(crd_api, modules, example)
    raw = json.dumps(example).encode()
    obj = decode(raw, cls)
    assert json.loads(encode(obj)) == example
    assert type(obj.metadata).__name__ == "ObjectMeta"


def test_typed_access_to_custom_resources(crd_api: APIModel, generated: Generate) -> None:
    modules = generated(crd_api, "crd_examples")
    monitor = decode(json.dumps(EXAMPLES[1]).encode(), _kind_class(crd_api, modules, EXAMPLES[1]))
    ports = [e.target_port for e in monitor.spec.endpoints]
    assert ports == [msgspec.UNSET, 9090, "http-metrics"]
    app = decode(json.dumps(EXAMPLES[3]).encode(), _kind_class(crd_api, modules, EXAMPLES[3]))
    assert app.spec.source.helm.values_object["nested"]["list"][3] == {"deep": True}
    gateway = decode(json.dumps(EXAMPLES[2]).encode(), _kind_class(crd_api, modules, EXAMPLES[2]))
    assert gateway.spec.listeners[0].port == 443
    assert isinstance(gateway.spec.listeners, tuple)
    assert gateway.status.conditions[0].last_transition_time == TIME
    fresh = _kind_class(crd_api, modules, EXAMPLES[2])(spec=gateway.spec)
    assert json.loads(encode(fresh))["apiVersion"] == "gateway.networking.k8s.io/v1"
    with pytest.raises(msgspec.ValidationError, match="port"):
        bad = {**EXAMPLES[2], "spec": {"gatewayClassName": "x", "listeners": [{"port": "x"}]}}
        decode(json.dumps(bad).encode(), _kind_class(crd_api, modules, EXAMPLES[2]))
    assert importlib.import_module("crd_examples.models.gateway_v1") is not None
