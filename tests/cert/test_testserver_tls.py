"""``kgen testserver --self-signed-tls``: HTTPS with a CA and serving certificate made by
kgen.cert; kubectl and kgen's own client trust it through the written kubeconfig alone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kgen.cert import parse_certs_pem
from kgen.config import load_kubeconfig
from kgen.rest import RESTClient

_VERSIONED = Path("/usr/lib/google-cloud-sdk/bin/kubectl.1.33")


@pytest.mark.kubectl
def test_self_signed_tls_is_trusted_through_the_kubeconfig(specs_dir: Path, tmp_path: Path) -> None:
    kubectl = str(_VERSIONED) if _VERSIONED.exists() else shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    kubeconfig = tmp_path / "kubeconfig"
    crd = specs_dir / "crds" / "cert-manager" / "cert-manager.crds.yaml"
    command = [sys.executable, "-m", "kgen", "testserver", "--spec", str(crd)]
    command += ["--self-signed-tls", "--kubeconfig-out", str(kubeconfig)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("kgen test API server listening on https://")
        token_line = process.stdout.readline()
        assert token_line == "token: kgen-testing-token\n"
        while "press Ctrl-C" not in process.stdout.readline():
            pass
        flags = [f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path}/cache"]
        got = subprocess.run(
            [kubectl, *flags, "get", "clusterissuers", "-o", "name"],
            capture_output=True,
            text=True,
            env={**os.environ, "HOME": str(tmp_path)},
            timeout=60,
        )
        assert got.returncode == 0 and got.stdout == "", got.stderr
        config = load_kubeconfig(kubeconfig)
        (ca,) = parse_certs_pem(config.ca_data)
        assert ca.subject.rfc4514_string() == "CN=kgen-testing-ca"
        with RESTClient(config) as rest:
            assert rest.get().abs_path("/version").do().json()["major"]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped")


def test_self_signed_tls_excludes_given_certificates(tmp_path: Path) -> None:
    cert = tmp_path / "tls.crt"
    cert.write_text("x")
    command = [sys.executable, "-m", "kgen", "testserver", "--spec", str(cert)]
    done = subprocess.run(
        [*command, "--self-signed-tls", "--ca", str(cert)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--self-signed-tls makes its own certificate" in done.stderr
    assert "Traceback" not in done.stderr
