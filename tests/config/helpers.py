"""Running the real kubectl for comparison with kgen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

KUBECTL = shutil.which("kubectl")
VERSIONED_KUBECTL_DIR = Path("/usr/lib/google-cloud-sdk/bin")
VERSIONED_KUBECTLS = sorted(
    VERSIONED_KUBECTL_DIR.glob("kubectl.1.*"), key=lambda p: int(p.name.rsplit(".", 1)[1])
)
DIRECT_KUBECTL = os.environ.get("KGEN_TEST_KUBECTL") or (
    str(VERSIONED_KUBECTLS[-1]) if VERSIONED_KUBECTLS else KUBECTL
)
"""A kubectl that talks to the server itself (the installed ``kubectl`` may be a dispatcher that
first asks the server for its version to pick one of the versioned binaries); the newest
versioned one, unless ``KGEN_TEST_KUBECTL`` names another."""


def kubectl_view(
    home: Path,
    kubeconfig: str | None,
    cwd: Path,
    kubectl: str | None = None,
    extra: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """``kubectl config view --merge --flatten --raw -o json`` (plus ``extra`` arguments) with
    HOME and KUBECONFIG set."""
    binary = kubectl or KUBECTL
    if binary is None:
        pytest.skip("kubectl is not installed")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
    if kubeconfig is not None:
        env["KUBECONFIG"] = kubeconfig
    return subprocess.run(
        [binary, "config", "view", "--merge", "--flatten", "--raw", "-o", "json", *extra],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def kubectl_json(
    home: Path,
    kubeconfig: str | None,
    cwd: Path,
    kubectl: str | None = None,
    extra: Sequence[str] = (),
) -> Any:
    done = kubectl_view(home, kubeconfig, cwd, kubectl, extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
