"""Fixtures shared by the whole suite.

The real API documents live outside the project, in ``../shared/specs`` (or wherever
``KGEN_SPECS_DIR`` points); tests that need them use the ``specs_dir`` fixture and are skipped,
with the reason, when the folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("KGEN_TESTING_CHECK_ENCODED", "1")
"""Every APIServer of the suite re-encodes each cached body it serves and fails the request if
a stored object was mutated after it was cached (kgen.testing._encoded)."""


def find_specs_dir() -> Path | None:
    """The folder of real specs, or None when this machine does not have it."""
    configured = os.environ.get("KGEN_SPECS_DIR")
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared" / "specs"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    found = find_specs_dir()
    if found is None:
        pytest.skip("real specs not found: set KGEN_SPECS_DIR or provide ../shared/specs")
    return found
