"""kubectl as the judge of the CertificateSigningRequest flow, over HTTPS served with a
kgen.cert CA and serving certificate: ``kubectl certificate approve`` and ``deny`` (the real
approver client, writing the approval subresource) end kgen.cert's wait."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from client.apiserver import kube_model

from kgen.cert import (
    CSR_RESOURCE,
    CertificateDeniedError,
    generate_self_signed_ca,
    generate_serving_cert,
    make_csr,
    new_ec_private_key,
    request_certificate,
    subject_name,
    wait_for_certificate,
)
from kgen.dynamic import DynamicClient
from kgen.rest import Config, RESTClient
from kgen.testing import APIServer

pytestmark = pytest.mark.kubectl

_VERSIONED = Path("/usr/lib/google-cloud-sdk/bin/kubectl.1.33")


@pytest.fixture(scope="module")
def https_server(specs_dir: Path) -> Iterator[APIServer]:
    ca = generate_self_signed_ca("kgen-testing-ca")
    serving = generate_serving_cert(ca, "127.0.0.1", alternate_dns=["localhost"])
    server = APIServer(
        kube_model(specs_dir), tls=(serving.cert_pem, serving.key_pem), ca_pem=ca.cert_pem
    )
    with server:
        yield server


def _kubectl(server: APIServer, tmp_path: Path, *args: str) -> str:
    binary = str(_VERSIONED) if _VERSIONED.exists() else shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    done = subprocess.run(
        [binary, f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path / 'cache'}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def _rest(server: APIServer) -> RESTClient:
    return RESTClient(
        Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem or b"", qps=-1)
    )


@pytest.mark.parametrize(("verdict", "done"), [("approve", "approved"), ("deny", "denied")])
def test_kubectl_decides_what_kgen_waits_for(
    https_server: APIServer, tmp_path: Path, verdict: str, done: str
) -> None:
    key = new_ec_private_key()
    with _rest(https_server) as rest:
        name, uid = request_certificate(
            rest,
            make_csr(key, subject_name(f"user-{verdict}")),
            f"judged-{verdict}",
            "kubernetes.io/kube-apiserver-client",
            ["client auth"],
            private_key=key,
        )
        out = _kubectl(https_server, tmp_path, "certificate", verdict, name)
        assert out.strip() == f"certificatesigningrequest.certificates.k8s.io/{name} {done}"
        stored = json.loads(
            _kubectl(
                https_server, tmp_path, "get", "certificatesigningrequests", name, "-o", "json"
            )
        )
        (condition,) = stored["status"]["conditions"]
        assert condition["type"] == ("Approved" if verdict == "approve" else "Denied")
        assert condition["status"] == "True" and condition["lastUpdateTime"]
        if verdict == "deny":
            with pytest.raises(CertificateDeniedError, match="KubectlDeny"):
                wait_for_certificate(rest, name, uid, timeout=5)
            return
        # approved, not yet signed: the wait keeps waiting until the signer writes status
        result: list[bytes] = []
        waiter = threading.Thread(
            target=lambda: result.append(wait_for_certificate(rest, name, uid, timeout=10))
        )
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive()
        signed = generate_serving_cert(generate_self_signed_ca("signer"), "user", key=key)
        stored["status"]["certificate"] = base64.b64encode(signed.cert_pem).decode()
        DynamicClient(rest).resource(CSR_RESOURCE).update_subresource(name, "status", stored, dict)
        waiter.join(5)
        assert result == [signed.cert_pem]
