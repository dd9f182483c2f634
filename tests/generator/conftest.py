"""Fixtures of the generator's tests: real inputs rendered once per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgen.generator.emit import EMITTERS, render_package
from kgen.spec import APIModel, load

INPUTS = {
    "k121": ["kubernetes/v1.21/swagger.json"],
    "k130": ["kubernetes/v1.30/swagger.json"],
    "k135": ["kubernetes/v1.35/swagger.json"],
    "k135v3": [
        "kubernetes/v1.35/openapi-v3",
        "kubernetes/discovery/aggregated_v2.json",
        "kubernetes/discovery/api__v1.json",
    ],
    "crds": ["crds"],
}


@pytest.fixture(scope="session")
def packages(
    specs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, dict[str, APIModel]]]:
    """Every input as its own generated package under one folder, on sys.path meanwhile."""
    root = tmp_path_factory.mktemp("real")
    apis: dict[str, APIModel] = {}
    for package, specs in INPUTS.items():
        apis[package] = api = load([specs_dir / s for s in specs])
        rendered = render_package(api, package, EMITTERS, input_hash="test")
        for files in rendered.values():
            for rel, text in files.items():
                target = root / package / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
    sys.path.insert(0, str(root))
    yield root, apis
    sys.path.remove(str(root))
    for name in list(sys.modules):
        if name.split(".")[0] in INPUTS:
            del sys.modules[name]


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def example_package() -> Iterator[Path]:
    """The checked-in package generated from kgen's example CRDs, importable meanwhile."""
    generated = REPO / "generated"
    sys.path.insert(0, str(generated))
    yield generated / "kgen_databases"
    sys.path.remove(str(generated))
    for name in list(sys.modules):
        if name.split(".")[0] == "kgen_databases":
            del sys.modules[name]
