from __future__ import annotations

import subprocess
import sys

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
