"""kubectl as the judge of kgen.scale: ``kubectl scale`` and kgen's ScaleClient, over HTTPS
against one server, agree on what is stored and on what the other wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kgen.client import GroupResource
from kgen.rest import RESTClient
from kgen.scale import ScaleClient
from kgen.testing import APIServer

from .conftest import workload

pytestmark = pytest.mark.kubectl

_VERSIONED = Path("/usr/lib/google-cloud-sdk/bin/kubectl.1.33")


def _kubectl(server: APIServer, tmp_path: Path) -> list[str]:
    """kubectl bound to ``server`` (its kubeconfig, a cache and HOME of its own)."""
    binary = str(_VERSIONED) if _VERSIONED.exists() else shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    return [binary, f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path / 'cache'}"]


def _run(argv: list[str], *args: str, stdin: str | None = None) -> str:
    home = argv[2].removeprefix("--cache-dir=")
    done = subprocess.run(
        [*argv, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": home},
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize(
    ("kind", "arg", "resource"),
    [
        ("Deployment", "deployment", GroupResource("apps", "deployments")),
        ("StatefulSet", "statefulset", GroupResource("apps", "statefulsets")),
        ("Prometheus", "prometheus", GroupResource("monitoring.coreos.com", "prometheuses")),
    ],
)
def test_kubectl_scale_and_scale_client_agree(
    scale_server: APIServer, rest: RESTClient, tmp_path: Path, kind: str, arg: str, resource: Any
) -> None:
    kubectl = _kubectl(scale_server, tmp_path)
    name = f"judged-{arg}"
    _run(kubectl, "create", "-f", "-", stdin=json.dumps(workload(kind, name, 1)))
    scales = ScaleClient.from_discovery(rest).scales("default")

    out = _run(kubectl, "scale", f"{arg}/{name}", "--replicas=4")
    assert out.strip().endswith(f"/{name} scaled")
    assert scales.get(resource, name).spec.replicas == 4

    scale = scales.get(resource, name)
    scale.spec.replicas = 2
    scales.update(resource, scale)
    stored = json.loads(_run(kubectl, "get", f"{arg}/{name}", "-o", "json"))
    assert stored["spec"]["shards" if kind == "Prometheus" else "replicas"] == 2

    # --current-replicas is kubectl's precondition: it reads the scale kgen wrote
    _run(kubectl, "scale", f"{arg}/{name}", "--current-replicas=2", "--replicas=3")
    assert scales.get(resource, name).spec.replicas == 3
