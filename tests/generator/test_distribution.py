"""``kgen generate --distribution``: a project pip installs, needing only kgen's runtime."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from click.testing import CliRunner

from kgen import __version__
from kgen.cli import main
from kgen.generator.distribution import kgen_requirement


def _generate(out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        main, ["generate", "-o", str(out), "--distribution", "acme-db-client", *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_pip_installs_the_project_and_it_imports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _generate(out, "--distribution-version", "2.3.0")
    project = tomllib.loads((out / "pyproject.toml").read_text())["project"]
    assert project["name"] == "acme-db-client" and project["version"] == "2.3.0"
    assert project["dependencies"] == [kgen_requirement()]
    assert (out / "README.md").read_text().startswith("# acme-db-client\n")
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(site), str(out)], check=True, timeout=300)
    installed = {p.name for p in (site / "kgen_databases").iterdir()}
    assert {"py.typed", "clientset.py", "fake", "models"} <= installed
    assert ".kgen-stamp.json" not in installed
    (info,) = site.glob("acme_db_client-2.3.0.dist-info")
    assert f"Requires-Dist: kgen-runtime<0.2,>={__version__}" in (info / "METADATA").read_text()
    code = (
        "import kgen_databases.clientset, kgen_databases.fake as f\n"
        "print(kgen_databases.clientset.__file__)\n"
        "print(len(f.new_simple_clientset().databases_v1.postgres_clusters('a').list().items))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(site)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [str(site / "kgen_databases" / "clientset.py"), "0"]


def test_check_and_rerun_cover_the_project_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert "project files written: pyproject.toml, README.md" in _generate(out)
    assert "project files written" not in _generate(out)  # unchanged: nothing rewritten
    (out / "README.md").write_text("edited\n")
    checked = CliRunner().invoke(
        main, ["generate", "-o", str(out), "--distribution", "acme-db-client", "--check"]
    )
    assert checked.exit_code == 1
    assert "project files out of date: README.md" in checked.output
    assert (out / "README.md").read_text() == "edited\n"


def test_bad_names_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    for flags, message in (
        (["--distribution", "-bad name"], "is not a project name"),
        (["--distribution", "ok", "--distribution-version", "one"], "is not a version"),
    ):
        result = CliRunner().invoke(main, ["generate", "-o", str(tmp_path / "out"), *flags])
        assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "out").exists()


def test_the_kgen_range_is_the_generating_minor_release() -> None:
    assert kgen_requirement("0.1.0") == "kgen-runtime>=0.1.0,<0.2"
    assert kgen_requirement("0.4.2") == "kgen-runtime>=0.4.2,<0.5"
    assert kgen_requirement("1.2.0") == "kgen-runtime>=1.2.0,<2"
