"""Fixtures for the models emitter tests: render a package to disk and import it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from kgen.generator.models import render_models
from kgen.spec import APIModel, load


def write_package(api: APIModel, package: str, root: Path) -> Path:
    """Render the models of ``api`` as package ``package`` under ``root``; return its folder."""
    folder = root / package
    for rel, text in render_models(api, package).items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (folder / "__init__.py").write_text('"""Generated for a test."""\n', encoding="utf-8")
    (folder / "py.typed").write_text("", encoding="utf-8")
    return folder


def import_models(package: str, folder: Path) -> dict[str, ModuleType]:
    """Import every models module of a written package (its parent must be on sys.path)."""
    return {
        path.stem: importlib.import_module(f"{package}.models.{path.stem}")
        for path in sorted((folder / "models").glob("*.py"))
        if path.stem != "__init__"
    }


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[APIModel, str], dict[str, ModuleType]]]:
    """``generated(api, package)`` writes the package under a temporary folder on sys.path and
    imports its models modules (returned by name). A package is generated once per test
    module (later calls with the same name return the same modules); the packages leave
    sys.modules when the test module is done."""
    root = tmp_path_factory.mktemp("generated")
    sys.path.insert(0, str(root))
    packages: dict[str, dict[str, ModuleType]] = {}

    def make(api: APIModel, package: str) -> dict[str, ModuleType]:
        if package not in packages:
            packages[package] = import_models(package, write_package(api, package, root))
        return packages[package]

    yield make
    sys.path.remove(str(root))
    for name in list(sys.modules):
        if any(name == p or name.startswith(p + ".") for p in packages):
            del sys.modules[name]


@pytest.fixture(scope="session")
def load_specs(specs_dir: Path) -> Callable[..., APIModel]:
    """``load_specs("kubernetes/v1.35/swagger.json", ...)``: the API model of those paths under
    the specs folder, loaded once per session (models are never mutated)."""
    cache: dict[tuple[str, ...], APIModel] = {}

    def get(*relative: str) -> APIModel:
        if relative not in cache:
            cache[relative] = load([specs_dir / r for r in relative])
        return cache[relative]

    return get
