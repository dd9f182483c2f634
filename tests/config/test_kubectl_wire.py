"""kubectl and kgen, given the same kubeconfig and context, send the same identity on the wire.

For each context, ``kubectl version`` and a kgen ``RESTClient`` built by ``load_kubeconfig``
each make one request (``GET /version`` under the server's path prefix) to the same recording
server on 127.0.0.1 (HTTPS with a certificate only ``tls-server-name`` matches, or plain HTTP).
The path, the Authorization header, the impersonation headers, the client certificate presented
and, for exec plugins, the ``KUBERNETES_EXEC_INFO`` the plugin received must be the same.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from kgen.config import load_kubeconfig
from kgen.rest import RESTClient

from .conftest import WriteFile
from .helpers import DIRECT_KUBECTL
from .server import SERVER_NAME, Seen, Server

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(DIRECT_KUBECTL is None, reason="kubectl is not installed"),
]

PLUGIN = f"""\
#!{sys.executable}
import json, os
here = os.path.dirname(os.path.abspath(__file__))
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
with open(os.path.join(here, "runs.jsonl"), "a") as runs:
    runs.write(json.dumps({{"info": info, "env": os.environ.get("FROM_KUBECONFIG")}}) + "\\n")
with open(os.path.join(here, "status.json")) as status:
    print(json.dumps({{"apiVersion": info["apiVersion"], "status": json.load(status)}}))
"""


def _kubeconfig(https: Server, plain: Server, client: trustme.LeafCert) -> str:
    cert = client.cert_chain_pems[0].bytes().decode()
    key = client.private_key_pem.bytes().decode()

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    users = {
        "token-impersonate": {
            "token": "static-token",
            "as": "alice",
            "as-uid": "1234",
            "as-groups": ["devs", "ops"],
            "as-user-extra": {"scopes": ["view", "edit"], "reason": ["audit"]},
        },
        "token-file": {"tokenFile": "secrets/token"},
        "basic": {"username": "bob", "password": "s3cret:with-colon"},
        "cert-data": {"client-certificate-data": b64(cert), "client-key-data": b64(key)},
        "cert-files": {"client-certificate": "pki/client.pem", "client-key": "pki/client.key"},
        "exec-beta": {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "bin/plugin",
                "args": ["--flag", "value"],
                "env": [{"name": "FROM_KUBECONFIG", "value": "yes-it-is"}],
                "provideClusterInfo": True,
            }
        },
        "exec-v1": {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": "bin/plugin",
                "interactiveMode": "Never",
            }
        },
    }
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "https",
                "cluster": {
                    "server": https.url,
                    "certificate-authority": "pki/ca.pem",
                    "tls-server-name": SERVER_NAME,
                    "extensions": [
                        {
                            "name": "client.authentication.k8s.io/exec",
                            "extension": {"audience": "kgen-tests", "n": 1},
                        }
                    ],
                },
            },
            {"name": "plain", "cluster": {"server": plain.url}},
            {
                "name": "prefixed",
                "cluster": {
                    "server": f"{https.url}/prefix/path?query=dropped#fragment",
                    "certificate-authority": "pki/ca.pem",
                    "tls-server-name": SERVER_NAME,
                },
            },
        ],
        "users": [{"name": name, "user": user} for name, user in users.items()],
        "contexts": [
            {"name": name, "context": {"cluster": "https", "user": name}} for name in users
        ]
        + [
            {"name": "plain-http", "context": {"cluster": "plain", "user": "token-impersonate"}},
            {"name": "path-prefix", "context": {"cluster": "prefixed", "user": "token-file"}},
        ],
    }
    return json.dumps(config)


CONTEXTS = [
    "token-impersonate",
    "token-file",
    "basic",
    "cert-data",
    "cert-files",
    "exec-beta",
    "exec-v1",
    "plain-http",
    "path-prefix",
]


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def servers(ca: trustme.CA) -> Iterator[tuple[Server, Server]]:
    https, plain = Server(ca, client_cert="optional"), Server(None)
    yield https, plain
    https.stop()
    plain.stop()


def _identity(seen: Seen) -> dict[str, Any]:
    impersonation = sorted(
        (name.lower(), value)
        for name, value in seen.headers
        if name.lower().startswith("impersonate-")
    )
    return {
        "path": seen.path.split("?")[0],  # kubectl version adds its own timeout parameter
        "authorization": seen.header("Authorization"),
        "impersonation": impersonation,
        "peer": seen.peer_names,
    }


@pytest.mark.parametrize("context", CONTEXTS)
def test_same_identity_on_the_wire_as_kubectl(
    servers: tuple[Server, Server],
    ca: trustme.CA,
    write: WriteFile,
    tmp_path: Path,
    context: str,
) -> None:
    https, plain = servers
    client = ca.issue_cert("kgen-client")
    kubeconfig = write("kube/config", _kubeconfig(https, plain, client))
    ca.cert_pem.write_to_path(str(write("kube/pki/ca.pem", "")))
    client.cert_chain_pems[0].write_to_path(str(write("kube/pki/client.pem", "")))
    client.private_key_pem.write_to_path(str(write("kube/pki/client.key", "")))
    write("kube/secrets/token", "token-from-file\n")
    write("kube/bin/plugin", PLUGIN).chmod(0o755)
    write("kube/bin/status.json", json.dumps({"token": "plugin-token"}))

    command = [str(DIRECT_KUBECTL), "--kubeconfig", str(kubeconfig), "--context", context]
    done = subprocess.run(
        [*command, "version", "-o", "json"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with RESTClient(load_kubeconfig(kubeconfig, context=context)) as kgen_client:
        assert kgen_client.get().abs_path("version").do().json()["major"] == "1"

    server = plain if context == "plain-http" else https
    by_kubectl, by_kgen = server.seen
    assert _identity(by_kgen) == _identity(by_kubectl)
    runs = tmp_path / "kube" / "bin" / "runs.jsonl"
    if context.startswith("exec"):
        from_kubectl, from_kgen = (json.loads(line) for line in runs.read_text().splitlines())
        assert from_kgen == from_kubectl
        assert by_kgen.header("Authorization") == ["Bearer plugin-token"]
    else:
        assert not runs.exists()
