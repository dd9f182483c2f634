from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import kgen
from kgen.cli import main


def test_version_matches_package() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"kgen, version {kgen.__version__}"


def test_help_lists_usage() -> None:
    result = CliRunner().invoke(main, ["--help"], prog_name="kgen")
    assert result.exit_code == 0
    assert "Usage: kgen" in result.output


def test_console_script_is_installed() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kgen", "--version"], capture_output=True, text=True, check=True
    )
    assert kgen.__version__ in out.stdout


def test_package_help_states_the_rule_spec_applies(tmp_path: Path) -> None:
    """The help says --package is required with --spec, and --spec indeed requires it."""
    shown = CliRunner().invoke(main, ["generate", "--help"], terminal_width=200).output
    line = " ".join(shown[shown.index("--package") :].split("--output-dir")[0].split())
    assert "Required with --spec or --from-cluster" in line
    assert "[default:" not in line
    spec = tmp_path / "crd.yaml"
    spec.write_text("kind: CustomResourceDefinition\n")
    refused = CliRunner().invoke(main, ["generate", "--spec", str(spec), "-o", str(tmp_path)])
    assert refused.exit_code == 2
    assert "--package is required with --spec or --from-cluster" in refused.output
