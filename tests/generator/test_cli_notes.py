"""The CLI says what the loader had to infer: without discovery documents, scope, verbs and
subresources come from the OpenAPI paths, and the user is told so (on stderr, unless --quiet)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kgen.cli import main


def _models(specs_dir: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    swagger = specs_dir / "kubernetes" / "v1.35" / "swagger.json"
    args = ["models", "--spec", str(swagger), "--package", "k", "-o", str(out), *extra]
    result = CliRunner().invoke(main, [*args, "--include-group", "apps/v1"])
    return result.exit_code, result.stdout, result.stderr


def test_missing_discovery_is_reported(specs_dir: Path, tmp_path: Path) -> None:
    code, stdout, stderr = _models(specs_dir, tmp_path)
    assert code == 0
    assert "note: no discovery for 36 group-versions" in stderr
    assert "derived from the OpenAPI paths" in stderr
    assert "note:" not in stdout


def test_discovery_documents_narrow_the_note(specs_dir: Path, tmp_path: Path) -> None:
    # A 1.33-era aggregated document against the 1.35 spec: most group-versions are covered,
    # and what the two disagree on is named.
    discovery = specs_dir / "kubernetes" / "discovery" / "aggregated_v2.json"
    code, _, stderr = _models(specs_dir, tmp_path, "--discovery", str(discovery))
    assert code == 0
    assert "no discovery for 36 group-versions" not in stderr
    assert "note: discovery lists deviceclasses in resource.k8s.io/v1alpha3" in stderr


def test_quiet_prints_no_note(specs_dir: Path, tmp_path: Path) -> None:
    code, stdout, stderr = _models(specs_dir, tmp_path, "--quiet")
    assert code == 0
    assert stdout == "" and stderr == ""


def test_crds_need_no_discovery_and_get_no_note(tmp_path: Path) -> None:
    """The example CRDs state scope, verbs and subresources themselves: nothing is inferred."""
    result = CliRunner().invoke(main, ["generate", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "note:" not in result.stderr
    assert (tmp_path / "kgen_databases" / "clientset.py").is_file()
