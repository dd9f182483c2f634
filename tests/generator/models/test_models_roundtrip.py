"""Decoding then encoding realistic objects with generated models gives back the same JSON."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kgen.meta import decode, encode
from kgen.spec import APIModel

Generate = Callable[[APIModel, str], dict[str, ModuleType]]


def _make_pods(specs_dir: Path) -> ModuleType:
    path = specs_dir.parent / "bench-peers" / "make_pods.py"
    if not path.exists():
        pytest.skip(f"{path} not found")
    spec = importlib.util.spec_from_file_location("kgen_test_make_pods", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["swagger.json", "openapi-v3"])
def api135(
    load_specs: Callable[..., APIModel], request: pytest.FixtureRequest
) -> tuple[str, APIModel]:
    """The 1.35 API from its OpenAPI v2 and from its v3 documents."""
    name = "rt135_v2" if request.param == "swagger.json" else "rt135_v3"
    return name, load_specs(f"kubernetes/v1.35/{request.param}")


def _same_items(original: dict[str, Any], again: dict[str, Any]) -> None:
    """The re-encoded list equals the original, except that items gain apiVersion and kind
    (servers omit them in list items; the models default them)."""
    assert again.keys() == original.keys()
    assert again["metadata"] == original["metadata"]
    for before, after in zip(original["items"], again["items"], strict=True):
        added = set(after) - set(before)
        assert added <= {"apiVersion", "kind"}
        assert {k: v for k, v in after.items() if k not in added} == before


@pytest.mark.parametrize(
    ("maker", "module", "list_class"),
    [
        ("make_pod_list", "core_v1", "PodList"),
        ("make_deployment_list", "apps_v1", "DeploymentList"),
        ("make_configmap_list", "core_v1", "ConfigMapList"),
    ],
)
def test_realistic_lists_round_trip(
    specs_dir: Path,
    api135: tuple[str, APIModel],
    generated: Generate,
    maker: str,
    module: str,
    list_class: str,
) -> None:
    make_pods = _make_pods(specs_dir)
    modules = generated(api135[1], api135[0])
    raw: bytes = make_pods.dumps(getattr(make_pods, maker)(300, 7))
    obj = decode(raw, getattr(modules[module], list_class))
    _same_items(json.loads(raw), json.loads(encode(obj)))


def test_required_times_accept_the_null_servers_send(
    api135: tuple[str, APIModel], generated: Generate
) -> None:
    """An Event recorded through core/v1 reads back through events.k8s.io/v1 with
    ``eventTime: null`` although the schema marks it required (Go writes a zero time as null)."""
    modules = generated(api135[1], api135[0])
    event = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "web.17a", "namespace": "default"},
        "eventTime": None,
        "reason": "Scheduled",
        "regarding": {"kind": "Pod", "name": "web", "namespace": "default"},
        "deprecatedFirstTimestamp": "2026-11-26T08:00:00Z",
        "deprecatedCount": 1,
        "type": "Normal",
    }
    decoded = decode(json.dumps(event).encode(), modules["events_v1"].Event)
    assert decoded.event_time is None
    assert json.loads(encode(decoded)) == event
