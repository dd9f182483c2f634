"""kubectl's global flags and kgen's Overrides, judged by kubectl on the wire.

``kubectl config view`` ignores ``--server``, ``--token`` and the other cluster and user flags
(it prints the files, not the configuration a command would use), so it cannot judge them. Each
case here instead runs ``kubectl version`` with the flags and builds a kgen ``RESTClient`` from
``load_kubeconfig(..., overrides=...)`` with the same values, against one recording HTTPS server
on 127.0.0.1 whose certificate names only ``api.kgen.test``. Both must end the same way (the
configuration is refused, the TLS handshake fails, or the request arrives) and, when a request
arrives, carry the same identity: Authorization, impersonation headers, client certificate, and
the ``timeout`` query parameter for ``--request-timeout``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from kgen.config import KubeconfigError, Overrides, load_kubeconfig
from kgen.rest import RESTClient

from .conftest import WriteFile
from .helpers import DIRECT_KUBECTL
from .server import SERVER_NAME, Seen, Server

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(DIRECT_KUBECTL is None, reason="kubectl is not installed"),
]

FLAGS = {
    "context": "--context",
    "cluster": "--cluster",
    "user": "--user",
    "server": "--server",
    "certificate_authority": "--certificate-authority",
    "insecure_skip_tls_verify": "--insecure-skip-tls-verify",
    "tls_server_name": "--tls-server-name",
    "token": "--token",
    "username": "--username",
    "password": "--password",
    "client_certificate": "--client-certificate",
    "client_key": "--client-key",
    "impersonate": "--as",
    "impersonate_uid": "--as-uid",
    "impersonate_groups": "--as-group",
    "request_timeout": "--request-timeout",
}

# Each case: the overrides, and how it must end: "refused" (the configuration is invalid),
# "tls" (the server's certificate is not accepted) or "ok" (the request arrives).
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "baseline": ({}, "ok"),
    "server-clears-tls-server-name": ({"cluster": "elsewhere", "server": "{url}"}, "tls"),
    "server-with-tls-server-name": (
        {"cluster": "elsewhere", "server": "{url}", "tls_server_name": SERVER_NAME},
        "ok",
    ),
    "tls-server-name-alone": ({"cluster": "no-name", "tls_server_name": SERVER_NAME}, "ok"),
    "wrong-ca": ({"cluster": "wrong-ca"}, "tls"),
    "ca-replaces-ca-data": ({"cluster": "wrong-ca", "certificate_authority": "pki/ca.pem"}, "ok"),
    "insecure-clears-ca-data": ({"cluster": "wrong-ca", "insecure_skip_tls_verify": True}, "ok"),
    "insecure-and-ca": (
        {"insecure_skip_tls_verify": True, "certificate_authority": "pki/ca.pem"},
        "refused",
    ),
    "token-replaces-token": ({"token": "flag-token"}, "ok"),
    "token-with-client-cert": ({"user": "cert-data", "token": "flag-token"}, "ok"),
    "token-with-basic": ({"user": "basic", "token": "flag-token"}, "refused"),
    "basic-with-token": ({"username": "u", "password": "p"}, "refused"),
    "basic-with-client-cert": ({"user": "cert-data", "username": "u", "password": "p"}, "ok"),
    "client-cert-with-token": (
        {"client_certificate": "pki/other.pem", "client_key": "pki/other.key"},
        "ok",
    ),
    "impersonation": (
        {"impersonate": "alice", "impersonate_uid": "7", "impersonate_groups": ("g1", "g2")},
        "ok",
    ),
    "timeout-duration": ({"request_timeout": "7s"}, "ok"),
    "timeout-seconds": ({"request_timeout": "12"}, "ok"),
    "plain-http-drops-credentials": ({"server": "{plain}", "token": "flag-token"}, "ok"),
}


def _kubeconfig(server: Server, wrong: trustme.CA, client: trustme.LeafCert) -> str:
    def pem(blob: trustme.Blob) -> str:
        return base64.b64encode(blob.bytes()).decode()

    trusted = {"certificate-authority": "pki/ca.pem", "tls-server-name": SERVER_NAME}
    clusters = {
        "good": {"server": server.url, **trusted},
        "elsewhere": {"server": "https://127.0.0.1:9", **trusted},
        "no-name": {"server": server.url, "certificate-authority": "pki/ca.pem"},
        "wrong-ca": {
            "server": server.url,
            "certificate-authority-data": pem(wrong.cert_pem),
            "tls-server-name": SERVER_NAME,
        },
    }
    users = {
        "token": {"token": "kube-token"},
        "cert-data": {
            "client-certificate-data": pem(client.cert_chain_pems[0]),
            "client-key-data": pem(client.private_key_pem),
        },
        "basic": {"username": "bob", "password": "pw"},
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "main",
            "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
            "users": [{"name": n, "user": u} for n, u in users.items()],
            "contexts": [{"name": "main", "context": {"cluster": "good", "user": "token"}}],
        }
    )


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def servers(ca: trustme.CA) -> Iterator[tuple[Server, Server]]:
    https, plain = Server(ca, client_cert="optional"), Server(None)
    yield https, plain
    https.stop()
    plain.stop()


def _flags(overrides: dict[str, Any]) -> list[str]:
    flags = []
    for name, value in overrides.items():
        if value is True:
            flags.append(FLAGS[name])
        else:
            for item in value if isinstance(value, tuple) else (value,):
                flags += [FLAGS[name], item]
    return flags


def _run_kubectl(kubeconfig: Path, flags: list[str], home: Path, cwd: Path) -> tuple[str, str]:
    """How ``kubectl version`` with ``flags`` ended (see CASES), and its stderr."""
    done = subprocess.run(
        [str(DIRECT_KUBECTL), "--kubeconfig", str(kubeconfig), *flags, "version", "-o", "json"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode == 0:
        return "ok", done.stderr
    return ("tls" if "x509:" in done.stderr else "refused"), done.stderr


def _run_kgen(kubeconfig: Path, overrides: Overrides) -> str:
    try:
        config = load_kubeconfig(kubeconfig, overrides=overrides)
    except KubeconfigError:
        return "refused"
    with RESTClient(config) as client:
        try:
            client.get().abs_path("version").do()
        except requests.exceptions.SSLError as exc:
            assert "certificate" in str(exc), exc
            return "tls"
    return "ok"


def _identity(seen: Seen, with_query: bool) -> dict[str, Any]:
    return {
        "path": seen.path if with_query else seen.path.split("?")[0],
        "authorization": seen.header("Authorization"),
        "impersonation": sorted(
            (name.lower(), value)
            for name, value in seen.headers
            if name.lower().startswith("impersonate-")
        ),
        "peer": seen.peer_names,
    }


def _files(ca: trustme.CA, write: WriteFile, server: Server) -> Path:
    """The kubeconfig (under kube/) and the flags' files (under cwd/); returns the kubeconfig."""
    client, other = ca.issue_cert("kube-client"), ca.issue_cert("flag-client")
    kubeconfig = write("kube/config", _kubeconfig(server, trustme.CA(), client))
    ca.cert_pem.write_to_path(str(write("kube/pki/ca.pem", "")))
    other.cert_chain_pems[0].write_to_path(str(write("cwd/pki/other.pem", "")))
    other.private_key_pem.write_to_path(str(write("cwd/pki/other.key", "")))
    ca.cert_pem.write_to_path(str(write("cwd/pki/ca.pem", "")))
    return kubeconfig


@pytest.mark.parametrize("case", list(CASES))
def test_flags_end_the_same_way_with_the_same_identity_as_kubectl(
    servers: tuple[Server, Server],
    ca: trustme.CA,
    write: WriteFile,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    https, plain = servers
    kubeconfig = _files(ca, write, https)
    fields, expected = CASES[case]
    fields = {
        name: value.format(url=https.url, plain=plain.url) if isinstance(value, str) else value
        for name, value in fields.items()
    }
    cwd = tmp_path / "cwd"  # relative flag paths start from the working directory
    by_kubectl, stderr = _run_kubectl(kubeconfig, _flags(fields), tmp_path, cwd)
    monkeypatch.chdir(cwd)
    by_kgen = _run_kgen(kubeconfig, Overrides(**fields))
    assert (by_kubectl, by_kgen) == (expected, expected), stderr
    server = plain if case.startswith("plain") else https
    if expected != "ok":
        assert server.seen == []
        return
    from_kubectl, from_kgen = server.seen
    with_query = "request_timeout" in fields
    assert _identity(from_kgen, with_query) == _identity(from_kubectl, with_query)


def test_client_certificate_flags_replace_the_data_as_newer_client_go_does(
    servers: tuple[Server, Server],
    ca: trustme.CA,
    write: WriteFile,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where kgen follows the client-go of the reference (1.36 line), not the installed kubectl.

    kubectl 1.33 and older refuse ``--client-certificate``/``--client-key`` for a user with
    ``client-certificate-data``/``client-key-data`` (both forms set); newer client-go lets the
    flags replace the data, and kgen does the same.
    """
    https, _ = servers
    kubeconfig = _files(ca, write, https)
    fields: dict[str, Any] = {
        "user": "cert-data",
        "client_certificate": "pki/other.pem",
        "client_key": "pki/other.key",
    }
    cwd = tmp_path / "cwd"
    by_kubectl, stderr = _run_kubectl(kubeconfig, _flags(fields), tmp_path, cwd)
    if by_kubectl == "refused":
        assert "client-cert-data and client-cert are both specified" in stderr
    else:
        assert (by_kubectl, https.seen[-1].peer_names) == ("ok", ["flag-client"]), stderr
    monkeypatch.chdir(cwd)
    assert _run_kgen(kubeconfig, Overrides(**fields)) == "ok"
    assert https.seen[-1].peer_names == ["flag-client"]
