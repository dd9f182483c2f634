"""Generated code is already in black's layout: black runs only where a line of code is too long
(kgen.generator.formatting), so every other file must be exactly what black would write.

The real inputs are the session's rendered packages (tests/generator/conftest.py: the 1.21,
1.30 and 1.35 swagger, the 1.35 v3 document set with discovery, the CRDs of ../shared/specs).
Black costs about 2 s of CPU per MB, so of those packages a representative subset is checked
(about 1 MB): in every folder its ``__init__.py`` and its module with the longest name (long
names are what the wrapping helpers handle), and for the 1.35 swagger and the CRDs also its
biggest module outside ``models`` and ``applyconfigurations`` (the biggest models modules are
checked by tests/generator/models/test_models_real.py); files over 50 kB only for those two
(the others' are the same templates over the same kind of names). kgen's
example CRDs with names padded to many lengths (the hostile inputs) are rendered and checked
whole, each file, so that every shape a helper can choose (one line, body on its own line,
exploded, given up to black) is met.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import black
import pytest

from kgen.generator.emit import EMITTERS, render_package
from kgen.generator.formatting import MODE, needs_black
from kgen.spec import APIModel, load

EXAMPLE = Path(__file__).resolve().parents[2] / "openapi-specs" / "databases.kgen.dev.yaml"
BIGGEST_TOO = {"k135", "crds"}


def _representative(folder: Path, biggest: bool) -> Iterator[Path]:
    modules = sorted(m for m in folder.glob("*.py") if biggest or m.stat().st_size <= 50_000)
    biggest = biggest and folder.name not in ("models", "applyconfigurations")
    chosen = {folder / "__init__.py"} & set(modules)
    others = [m for m in modules if m.name != "__init__.py"]
    if others:
        chosen.add(max(others, key=lambda m: (len(m.stem), m.stem)))
        if biggest:
            chosen.add(max(others, key=lambda m: m.stat().st_size))
    yield from sorted(chosen)


def _unstable(files: dict[str, str]) -> list[str]:
    """The paths of ``files`` that black would change."""
    return [
        path
        for path, text in files.items()
        if path.endswith(".py") and black.format_str(text, mode=MODE) != text
    ]


def test_real_packages_are_black_stable(packages: tuple[Path, dict[str, APIModel]]) -> None:
    root, apis = packages
    checked: dict[str, str] = {}
    for package in apis:
        folders = {p.parent for p in (root / package).rglob("*.py")}
        for folder in sorted(folders):
            for module in _representative(folder, package in BIGGEST_TOO):
                rel = module.relative_to(root).as_posix()
                checked[rel] = module.read_text(encoding="utf-8")
    assert len(checked) > 90
    assert _unstable(checked) == []


def test_the_135_package_is_written_without_black(
    packages: tuple[Path, dict[str, APIModel]],
) -> None:
    """The point of it all: no file of the 1.35 package needs black (the wrapping helpers know
    every shape a Kubernetes name puts in a generated line)."""
    root, _ = packages
    needing = [
        p.relative_to(root).as_posix()
        for p in (root / "k135").rglob("*.py")
        if needs_black(p.name, p.read_text(encoding="utf-8"))
    ]
    assert needing == []


def _padded(pad: str) -> str:
    """kgen's example CRDs with ``pad`` in the group, kind, plural, singular and a property
    name (``replicas``, also named by the scale subresource), so every derived name grows."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in (
        ("databases.kgen.dev", f"databases-{pad.lower()}.kgen.dev"),
        ("PostgresCluster", f"Postgres{pad}Cluster"),
        ("postgrescluster", f"postgres{pad.lower()}cluster"),
        ("StorageProfile", f"Storage{pad}Profile"),
        ("storageprofile", f"storage{pad.lower()}profile"),
        ("replicas", f"replicas{pad}"),
    ):
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("length", [0, 16, 40, 85, 130])
def test_hostile_long_names_are_black_stable(tmp_path: Path, length: int) -> None:
    """Names from 0 to 130 characters longer than the example's: whatever the helpers write
    themselves, or leave to black, is black's layout."""
    spec = tmp_path / "padded.yaml"
    spec.write_text(_padded(("Extraordinarily" * 10)[:length]), encoding="utf-8")
    package = "pkg" + "_long" * (length // 5)
    rendered = render_package(load([spec]), package, EMITTERS, input_hash="test")
    files = {p: t for emitter in rendered.values() for p, t in emitter.items()}
    assert len(files) > 30
    assert _unstable(files) == []
