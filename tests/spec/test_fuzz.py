"""Whatever JSON a document holds, loading it either works or raises SpecError (never another
exception), and a model that loads renders."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgen.generator.models import render_models
from kgen.spec import SpecError, load

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(["type", "$ref", "properties", "items", "kind", "x"]) | st.text(max_size=4),
        inner,
        max_size=3,
    ),
    max_leaves=8,
)

SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "paths": {
        "/apis/g.io/v1/namespaces/{namespace}/things": {
            "get": {
                "x-kubernetes-action": "list",
                "x-kubernetes-group-version-kind": {
                    "group": "g.io",
                    "version": "v1",
                    "kind": "Thing",
                },
            },
            "post": {
                "x-kubernetes-action": "post",
                "x-kubernetes-group-version-kind": {
                    "group": "g.io",
                    "version": "v1",
                    "kind": "Thing",
                },
                "parameters": [
                    {
                        "in": "body",
                        "name": "body",
                        "schema": {"$ref": "#/definitions/io.g.v1.Thing"},
                    }
                ],
            },
        }
    },
    "definitions": {
        "io.g.v1.Thing": {
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "spec": {"$ref": "#/definitions/io.g.v1.ThingSpec"},
            },
            "x-kubernetes-group-version-kind": [
                {"group": "g.io", "version": "v1", "kind": "Thing"}
            ],
        },
        "io.g.v1.ThingSpec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                        },
                    }
                },
            }
        ],
    },
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


def _replace(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    out = copy.deepcopy(doc)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return out


def _check(document: Any, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"doc{suffix}"
        text = json.dumps(document) if suffix == ".json" else yaml.safe_dump(document)
        path.write_text(text, encoding="utf-8")
        try:
            api = load([path])
        except SpecError as exc:
            assert exc.source == str(path)
            assert exc.message
            return
        render_models(api, "fuzzed")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), new=json_values)
def test_mutated_swagger_loads_or_raises_spec_error(data: st.DataObject, new: Any) -> None:
    where = data.draw(st.sampled_from(_paths(SWAGGER)))
    _check(_replace(SWAGGER, where, new), ".json")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), new=json_values)
def test_mutated_crd_loads_or_raises_spec_error(data: st.DataObject, new: Any) -> None:
    where = data.draw(st.sampled_from(_paths(CRD)))
    _check(_replace(CRD, where, new), ".yaml")


DISCOVERY: dict[str, Any] = {
    "kind": "APIGroupDiscoveryList",
    "apiVersion": "apidiscovery.k8s.io/v2",
    "items": [
        {
            "metadata": {"name": "apps"},
            "versions": [
                {
                    "version": "v1",
                    "resources": [
                        {
                            "resource": "deployments",
                            "responseKind": {
                                "group": "apps",
                                "version": "v1",
                                "kind": "Deployment",
                            },
                            "scope": "Namespaced",
                            "verbs": ["get", "list"],
                            "subresources": [
                                {
                                    "subresource": "scale",
                                    "responseKind": {
                                        "group": "autoscaling",
                                        "version": "v1",
                                        "kind": "Scale",
                                    },
                                    "verbs": ["get"],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    ],
}
LEGACY: dict[str, Any] = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {"name": "pods", "kind": "Pod", "namespaced": True, "verbs": ["get"], "shortNames": ["po"]},
        {"name": "pods/status", "kind": "Pod", "namespaced": True, "verbs": ["get"]},
    ],
}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), new=json_values, base=st.sampled_from([DISCOVERY, LEGACY]))
def test_mutated_discovery_loads_or_raises_spec_error(
    data: st.DataObject, new: Any, base: dict[str, Any]
) -> None:
    where = data.draw(st.sampled_from(_paths(base)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "discovery.json"
        path.write_text(json.dumps(_replace(base, where, new)), encoding="utf-8")
        try:
            load([], [path])
        except SpecError as exc:
            assert exc.source == str(path)
