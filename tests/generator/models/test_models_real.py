"""Every real input renders to models that import, decode real data and pass mypy --strict."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import black
import msgspec
import pytest
from black.mode import TargetVersion

from kgen.generator.models import model_ref, render_models
from kgen.meta import ObjectMeta, decode, encode
from kgen.spec import APIModel, load_documents

INPUTS = {
    "k121": ["kubernetes/v1.21/swagger.json"],
    "k130": ["kubernetes/v1.30/swagger.json"],
    "k135": ["kubernetes/v1.35/swagger.json"],
    "k135v3": ["kubernetes/v1.35/openapi-v3"],
    "crds": ["crds"],
}


@pytest.fixture(scope="module")
def trees(
    load_specs: Callable[..., APIModel], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, dict[str, APIModel]]]:
    """Every input rendered as its own package under one folder (on sys.path meanwhile)."""
    sys.path.insert(0, str(root := tmp_path_factory.mktemp("models")))
    apis = {}
    for package, specs in INPUTS.items():
        apis[package] = api = load_specs(*specs)
        folder = root / package
        for rel, text in render_models(api, package).items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8")
        (folder / "__init__.py").write_text("", encoding="utf-8")
    yield root, apis
    sys.path.remove(str(root))
    for name in list(sys.modules):
        if name.split(".")[0] in INPUTS:
            del sys.modules[name]


def _modules(root: Path, package: str) -> dict[str, ModuleType]:
    return {
        p.stem: importlib.import_module(f"{package}.models.{p.stem}")
        for p in sorted((root / package / "models").glob("*.py"))
    }


@pytest.mark.parametrize("package", list(INPUTS))
def test_every_kind_has_an_importable_class(
    trees: tuple[Path, dict[str, APIModel]], package: str
) -> None:
    root, apis = trees
    modules = _modules(root, package)
    api = apis[package]
    for gv in api.group_versions.values():
        for res in gv.resources.values():
            assert res.schema is not None
            for definition, kind in ((res.schema, res.kind), (res.list_schema, res.list_kind)):
                if definition is None:
                    continue
                module, name = model_ref(api, definition)
                assert module.startswith(".models.")
                cls = getattr(modules[module.rsplit(".", 1)[1]], name)
                assert issubclass(cls, msgspec.Struct)
                msgspec.json.Decoder(cls)  # every annotation resolves
                defaults = {f.encode_name: f.default for f in msgspec.structs.fields(cls)}
                assert defaults["kind"] == kind
                assert defaults["apiVersion"] == gv.api_version
            for sub in res.subresources.values():
                for definition in (sub.request_schema, sub.response_schema):
                    if definition is not None:
                        module, name = model_ref(api, definition)
                        assert module == "kgen.meta" or hasattr(
                            modules[module.rsplit(".", 1)[1]], name
                        )


def test_meta_types_come_from_kgen_meta(trees: tuple[Path, dict[str, APIModel]]) -> None:
    root, apis = trees
    assert model_ref(apis["k135"], "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta") == (
        "kgen.meta",
        "ObjectMeta",
    )
    core = _modules(root, "k135")["core_v1"]
    assert msgspec.structs.fields(core.Pod)[2].type == ObjectMeta | None | msgspec.UnsetType


def test_generated_trees_pass_mypy_strict(trees: tuple[Path, dict[str, APIModel]]) -> None:
    root, _ = trees
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(root / ".mypy"), *INPUTS],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _crd_documents(specs_dir: Path) -> Iterator[tuple[str, bytes]]:
    for doc in load_documents([specs_dir / "crds"]):
        yield f"{doc.source}#{doc.index}", json.dumps(doc.data).encode()


def test_real_crd_manifests_round_trip_through_json_schema_props(
    trees: tuple[Path, dict[str, APIModel]], specs_dir: Path
) -> None:
    """CustomResourceDefinition embeds the recursive JSONSchemaProps: every real CRD decodes
    into the generated class and encodes back to the same JSON."""
    root, _ = trees
    crd_class: type[object] = _modules(root, "k135")["apiextensions_v1"].CustomResourceDefinition
    count = 0
    for name, raw in _crd_documents(specs_dir):
        again = encode(decode(raw, crd_class))
        assert json.loads(again) == json.loads(raw), name
        count += 1
    assert count == 24


@pytest.mark.parametrize(
    ("package", "module"),
    [
        ("k135", "core_v1"),
        ("k135", "apiextensions_v1"),
        ("k121", "extensions_v1beta1"),
        ("crds", "gateway_v1"),
        ("crds", "monitoring_v1alpha1"),
    ],
)
def test_models_are_already_black_formatted(
    trees: tuple[Path, dict[str, APIModel]], package: str, module: str
) -> None:
    """The emitter writes black's layout itself, so formatting the models can be skipped."""
    root, _ = trees
    source = (root / package / "models" / f"{module}.py").read_text(encoding="utf-8")
    mode = black.Mode(line_length=100, target_versions={TargetVersion.PY311})
    assert black.format_str(source, mode=mode) == source


def test_generated_trees_pass_ruff(trees: tuple[Path, dict[str, APIModel]]) -> None:
    """pyflakes, pycodestyle, isort, bugbear, pyupgrade, simplify and ruff's own rules, minus
    line length, RUF001 (look-alike characters such as curly quotes in the specs' own
    descriptions) and RUF036 (``None`` before ``UnsetType``: kgen.meta's documented order)."""
    root, _ = trees
    result = subprocess.run(
        [
            *(sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache"),
            *("--line-length", "100", "--target-version", "py311"),
            *("--select", "E,F,W,I,B,UP,SIM,RUF", "--ignore", "E501,RUF001,RUF036"),
            *INPUTS,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
