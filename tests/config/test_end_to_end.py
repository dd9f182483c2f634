"""A kubeconfig, through load_kubeconfig and kgen.rest.RESTClient, against a real HTTPS server.

The server runs on 127.0.0.1 with a certificate from a throwaway CA (trustme) issued for a name
that only ``tls-server-name`` supplies; credentials come from an exec plugin script.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from kgen.config import load_kubeconfig
from kgen.rest import RESTClient, StatusError, is_unauthorized

from .conftest import WriteFile

SERVER_NAME = "api.kgen.test"
UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 401}


class Server:
    """An HTTPS server that answers 200 only to the token (or client certificate) it accepts."""

    def __init__(self, ca: trustme.CA, *, require_client_cert: bool) -> None:
        self.accepted_token = ""
        self.seen: list[dict[str, str]] = []
        self.peer_names: list[str] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(SERVER_NAME).configure_cert(context)
        if require_client_cert:
            ca.configure_trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append(dict(self.headers.items()))
                peer = self.connection.getpeercert()
                if peer:
                    server.peer_names.extend(name for _, name in peer["subjectAltName"])
                token_ok = self.headers.get("Authorization") == f"Bearer {server.accepted_token}"
                ok = token_ok or bool(peer)
                body = json.dumps({"ok": True} if ok else UNAUTHORIZED).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[Server]:
    running = Server(ca, require_client_cert=False)
    yield running
    running.stop()


@pytest.fixture
def mtls_server(ca: trustme.CA) -> Iterator[Server]:
    running = Server(ca, require_client_cert=True)
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
        assert client.get().abs_path("version").do().json() == {"ok": True}
        assert client.get().abs_path("version").do().json() == {"ok": True}
    runs = (tmp_path / "kube" / "bin" / "runs").read_text()
    assert runs == "xx"
    assert [seen["Authorization"] for seen in server.seen] == [
        "Bearer token1",
        "Bearer token2",
        "Bearer token2",
    ]
    assert all(seen["Impersonate-User"] == "alice" for seen in server.seen)
    assert all(seen["Impersonate-Group"] == "devs" for seen in server.seen)


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
        assert client.get().abs_path("version").do().json() == {"ok": True}
    assert mtls_server.peer_names == ["plugin-client"]
