"""A kubeconfig, through load_kubeconfig and kgen.rest.RESTClient, against a real HTTPS server.

The server runs on 127.0.0.1 with a certificate from a throwaway CA (trustme) issued for a name
that only ``tls-server-name`` supplies; credentials come from an exec plugin script.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from kgen.config import load_kubeconfig
from kgen.rest import RESTClient, StatusError, is_unauthorized

from .conftest import WriteFile
from .server import SERVER_NAME, VERSION, Server


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[Server]:
    running = Server(ca)
    yield running
    running.stop()


@pytest.fixture
def mtls_server(ca: trustme.CA) -> Iterator[Server]:
    running = Server(ca, client_cert="required")
    yield running
    running.stop()


PLUGIN = f"""\
#!{sys.executable}
import json, os
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "runs"), "a") as runs:
    runs.write("x")
with open(os.path.join(here, "status.json")) as status:
    print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "status": json.load(status)}}))
"""


def write_kubeconfig(write: WriteFile, ca: trustme.CA, port: int) -> Path:
    ca.cert_pem.write_to_path(str(write("kube/pki/ca.pem", "")))
    plugin = write("kube/bin/creds", PLUGIN)
    plugin.chmod(0o755)
    return write(
        "kube/config",
        f"""\
current-context: e2e
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:{port}
    certificate-authority: pki/ca.pem
    tls-server-name: {SERVER_NAME}
users:
- name: plugin-user
  user:
    as: alice
    as-groups: [devs]
    exec:
      command: bin/creds
      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
contexts:
- name: e2e
  context: {{cluster: local, user: plugin-user, namespace: apps}}
""",
    )


def test_exec_token_refreshes_after_a_401_over_verified_tls(
    server: Server, ca: trustme.CA, write: WriteFile, tmp_path: Path
) -> None:
    kubeconfig = write_kubeconfig(write, ca, server.port)
    status = tmp_path / "kube" / "bin" / "status.json"
    status.write_text(json.dumps({"token": "token1"}))
    server.accepted_token = "token2"
    config = load_kubeconfig(kubeconfig)
    assert config.namespace == "apps"
    with RESTClient(config) as client:
        with pytest.raises(StatusError) as caught:
            client.get().abs_path("version").do()
        assert is_unauthorized(caught.value)  # the 401 reaches the caller...
        status.write_text(json.dumps({"token": "token2"}))
        # ...and marked token1 stale: the next request runs the plugin again.
        assert client.get().abs_path("version").do().json() == VERSION
        assert client.get().abs_path("version").do().json() == VERSION
    runs = (tmp_path / "kube" / "bin" / "runs").read_text()
    assert runs == "xx"
    assert [seen.header("Authorization") for seen in server.seen] == [
        ["Bearer token1"],
        ["Bearer token2"],
        ["Bearer token2"],
    ]
    assert all(seen.header("Impersonate-User") == ["alice"] for seen in server.seen)
    assert all(seen.header("Impersonate-Group") == ["devs"] for seen in server.seen)


def test_exec_client_certificate_is_presented(
    mtls_server: Server, ca: trustme.CA, write: WriteFile, tmp_path: Path
) -> None:
    kubeconfig = write_kubeconfig(write, ca, mtls_server.port)
    client_cert = ca.issue_cert("plugin-client")
    status = {
        "clientCertificateData": client_cert.cert_chain_pems[0].bytes().decode(),
        "clientKeyData": client_cert.private_key_pem.bytes().decode(),
    }
    (tmp_path / "kube" / "bin" / "status.json").write_text(json.dumps(status))
    with RESTClient(load_kubeconfig(kubeconfig)) as client:
        assert client.get().abs_path("version").do().json() == VERSION
    assert [seen.peer_names for seen in mtls_server.seen] == [["plugin-client"]]
