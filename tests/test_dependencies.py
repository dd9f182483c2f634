"""An application that imports kgen's runtime and a generated package needs none of the
generator's tools: with jinja2 and black unimportable, every runtime package and every module
of a generated package import, and ``kgen generate`` says what to install. The ``kgen``
distribution (packaging/kgen) is the runtime pinned exactly plus those tools."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from kgen import __version__

REPO = Path(__file__).resolve().parent.parent
GENERATOR_ONLY = ("jinja2", "black", "datamodel_code_generator")

_BLOCK = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {GENERATOR_ONLY!r}:
            raise ImportError(f"{{name}} is blocked: only generation may need it")
        return None
sys.meta_path.insert(0, Block())
"""

_RUNTIME = """
import importlib, pkgutil
import kgen
runtime = [m.name for m in pkgutil.iter_modules(kgen.__path__, "kgen.")
           if m.name not in ("kgen.generator", "kgen.templates", "kgen.__main__")]
for name in runtime:
    importlib.import_module(name)
import kgen_databases
generated = [m.name for m in pkgutil.walk_packages(kgen_databases.__path__, "kgen_databases.")]
for name in generated:
    importlib.import_module(name)
from kgen_databases.fake import new_simple_clientset
with new_simple_clientset() as cs:
    assert len(cs.databases_v1.postgres_clusters("default").list().items) == 0
print(len(runtime), len(generated))
"""


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK + code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO / "generated"), "PATH": "/usr/bin:/bin"},
    )


def test_runtime_and_generated_package_import_without_the_generators_tools(
    tmp_path: Path,
) -> None:
    done = _run(_RUNTIME, tmp_path)
    assert done.returncode == 0, done.stderr
    runtime, generated = map(int, done.stdout.split())
    assert runtime >= 20 and generated >= 10


def test_generate_without_the_tools_names_the_extra(tmp_path: Path) -> None:
    code = "from kgen.cli import main\n" "main(['generate', '-o', 'out'], prog_name='kgen')\n"
    done = _run(code, tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "Error: generating code needs jinja2 and black, which kgen-runtime alone does not "
        "install: pip install kgen (or 'kgen-runtime[generate]')"
    )
    assert not (tmp_path / "out").exists()


def test_the_runtime_declares_none_of_the_generators_tools() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == "kgen-runtime"
    names = {d.split(">")[0].split("=")[0].split("[")[0].lower() for d in project["dependencies"]}
    assert not names & {"jinja2", "black", "datamodel-code-generator"}
    generate = {d.split(">")[0].lower() for d in project["optional-dependencies"]["generate"]}
    assert generate == {"jinja2", "black"}
    assert "generate" in project["optional-dependencies"]["dev"][0]


def test_the_kgen_distribution_is_the_runtime_with_the_tools(tmp_path: Path) -> None:
    """``pip install kgen`` generates: its wheel (built here, offline) requires exactly this
    runtime version with the ``generate`` extra, forwards the runtime's other extras, and
    ships no module of its own (every module is the runtime's)."""
    folder = REPO / "packaging" / "kgen"
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    runtime_version = __version__  # the runtime's version (pyproject reads kgen/_version.py)
    assert project["version"] == runtime_version
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "-w", str(tmp_path), str(folder)], check=True, timeout=300)
    (wheel,) = tmp_path.glob(f"kgen-{runtime_version}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"kgen-{runtime_version}.dist-info/METADATA").decode()
    assert [n for n in names if not n.startswith(f"kgen-{runtime_version}.dist-info/")] == []
    requires = sorted(line for line in metadata.splitlines() if line.startswith("Requires-Dist"))
    assert requires == [
        f"Requires-Dist: kgen-runtime[async]=={runtime_version}; extra == 'async'",
        f"Requires-Dist: kgen-runtime[generate]=={runtime_version}",
        f"Requires-Dist: kgen-runtime[prometheus]=={runtime_version}; extra == 'prometheus'",
    ]
