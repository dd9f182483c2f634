"""Building a kgen.rest.Config from a kubeconfig context, with kubectl's overrides."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kgen.config import ExecAuthProvider, KubeconfigError, load_kubeconfig
from kgen.rest import Config, ImpersonationConfig

from .conftest import WriteFile

KUBECONFIG = """\
current-context: main
clusters:
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority: pki/ca.pem
    tls-server-name: api.prod
    proxy-url: socks5://proxy:1080
    disable-compression: true
- name: data
  cluster:
    server: https://10.0.0.9/base/?ignored=1#frag
    certificate-authority-data: Q0EK
- name: lab
  cluster: {server: "https://lab:443", insecure-skip-tls-verify: true}
- name: plain
  cluster: {server: "http://127.0.0.1:8080"}
users:
- name: token-file
  user: {tokenFile: secrets/token}
- name: both-tokens
  user: {token: inline, tokenFile: secrets/token}
- name: certs
  user: {client-certificate: pki/client.pem, client-key: pki/client.key}
- name: cert-data
  user: {client-certificate-data: Q0VSVAo=, client-key-data: S0VZCg==}
- name: basic
  user: {username: bob, password: pw}
- name: admin-as
  user:
    token: t
    as: alice
    as-uid: "42"
    as-groups: [devs, ops]
    as-user-extra: {scopes: [a, b]}
- name: plugin
  user:
    exec: {command: bin/get-token, apiVersion: client.authentication.k8s.io/v1,
           interactiveMode: Never}
contexts:
- name: main
  context: {cluster: prod, user: token-file, namespace: team-a}
- name: no-namespace
  context: {cluster: data, user: cert-data}
- name: lab
  context: {cluster: lab, user: basic}
- name: plain
  context: {cluster: plain, user: admin-as}
- name: ghost-user
  context: {cluster: data, user: nobody}
- name: ghost-cluster
  context: {cluster: nowhere, user: basic}
"""


@pytest.fixture
def kubeconfig(tmp_path: Path, write: WriteFile) -> Path:
    write("kube/pki/ca.pem", "-----BEGIN CERTIFICATE-----\n")
    write("kube/pki/client.pem", "cert\n")
    write("kube/pki/client.key", "key\n")
    write("kube/secrets/token", "file-token\n")
    return write("kube/config", KUBECONFIG)


def test_current_context_with_ca_file_and_token_file(kubeconfig: Path) -> None:
    config = load_kubeconfig(kubeconfig)
    folder = kubeconfig.parent
    assert config.host == "https://prod.example:6443"
    assert config.ca_file == str(folder / "pki" / "ca.pem")
    assert config.tls_server_name == "api.prod"
    assert config.proxy_url == "socks5://proxy:1080"
    assert config.disable_compression is True
    assert config.bearer_token == "file-token"  # read (trimmed) from the file...
    assert config.bearer_token_file == str(folder / "secrets" / "token")  # ...kept for rotation
    assert config.namespace == "team-a"
    assert config.insecure is False and config.auth_provider is None


def test_inline_token_wins_but_the_file_is_kept(kubeconfig: Path) -> None:
    config = load_kubeconfig(kubeconfig, user="both-tokens")
    assert config.bearer_token == "inline"
    assert config.bearer_token_file == str(kubeconfig.parent / "secrets" / "token")


def test_context_override_data_fields_and_default_namespace(kubeconfig: Path) -> None:
    config = load_kubeconfig(kubeconfig, context="no-namespace")
    assert config.host == "https://10.0.0.9/base/"  # query and fragment dropped with a path
    assert config.ca_data == b"CA\n" and config.ca_file == ""
    assert (config.cert_data, config.key_data) == (b"CERT\n", b"KEY\n")
    assert config.namespace == "default"


def test_cluster_user_and_namespace_overrides(kubeconfig: Path) -> None:
    config = load_kubeconfig(kubeconfig, cluster="data", user="certs", namespace="other")
    folder = kubeconfig.parent
    assert config.host == "https://10.0.0.9/base/"
    assert config.cert_file == str(folder / "pki" / "client.pem")
    assert config.key_file == str(folder / "pki" / "client.key")
    assert config.bearer_token == "" and config.namespace == "other"


def test_basic_auth_and_insecure_warns(kubeconfig: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="kgen.config"):
        config = load_kubeconfig(kubeconfig, context="lab")
    assert (config.username, config.password, config.insecure) == ("bob", "pw", True)
    assert "insecure-skip-tls-verify" in caplog.text


def test_impersonation(kubeconfig: Path) -> None:
    config = load_kubeconfig(kubeconfig, context="plain", cluster="prod")
    assert config.impersonate == ImpersonationConfig(
        user="alice", uid="42", groups=("devs", "ops"), extra={"scopes": ("a", "b")}
    )
    assert config.bearer_token == "t"


def test_plain_http_server_gets_impersonation_but_no_credentials(
    kubeconfig: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kgen.config"):
        config = load_kubeconfig(kubeconfig, context="plain")
    assert config.host == "http://127.0.0.1:8080"
    assert config.bearer_token == "" and config.impersonate.user == "alice"
    assert "not https: the credentials of user 'admin-as' are not used" in caplog.text


def test_exec_user_becomes_a_shared_auth_provider(kubeconfig: Path) -> None:
    first = load_kubeconfig(kubeconfig, user="plugin")
    second = load_kubeconfig(kubeconfig, user="plugin")
    assert isinstance(first.auth_provider, ExecAuthProvider)
    assert first.auth_provider is second.auth_provider


def test_context_user_that_does_not_exist_means_anonymous(
    kubeconfig: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kgen.config"):
        config = load_kubeconfig(kubeconfig, context="ghost-user")
    assert config.bearer_token == "" and config.cert_data == b""
    assert "'nobody'" in caplog.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"context": "nope"}, "context 'nope' does not exist"),
        ({"user": "nope"}, "user 'nope' does not exist"),
        ({"cluster": "nope"}, "cluster 'nope' does not exist"),
        ({"context": "ghost-cluster"}, "cluster 'nowhere' of context 'ghost-cluster'"),
    ],
)
def test_unknown_names_are_errors(
    kubeconfig: Path, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(
            kubeconfig,
            context=overrides.get("context"),
            cluster=overrides.get("cluster"),
            user=overrides.get("user"),
        )
    assert message in str(caught.value)


def test_dangling_current_context_is_an_error(write: WriteFile) -> None:
    path = write("k", "current-context: gone\n")
    with pytest.raises(KubeconfigError, match="current-context names context 'gone'"):
        load_kubeconfig(path)


def test_nothing_configured_is_an_error(write: WriteFile) -> None:
    with pytest.raises(KubeconfigError, match="no cluster is configured"):
        load_kubeconfig(write("k", ""))


INVALID = {
    "unreadable CA": (
        "{server: 'https://x', certificate-authority: gone.pem}",
        "{token: t}",
        "clusters[name=c].cluster.certificate-authority: cannot read",
    ),
    "unreadable client cert": (
        "{server: 'https://x'}",
        "{client-certificate: gone.pem, client-key-data: S0VZCg==}",
        "users[name=u].user.client-certificate: cannot read",
    ),
    "cert without key": (
        "{server: 'https://x'}",
        "{client-certificate-data: S0VZCg==}",
        "a client certificate needs a client key",
    ),
    "token and basic": (
        "{server: 'https://x'}",
        "{token: t, username: u}",
        "more than one authentication method: token, basic auth",
    ),
    "token file and basic": (
        "{server: 'https://x'}",
        "{tokenFile: t, password: p}",
        "more than one authentication method: token, basic auth",
    ),
    "cert path and data": (
        "{server: 'https://x'}",
        "{client-certificate: c.pem, client-certificate-data: Q0EK, client-key-data: Q0EK}",
        "client-certificate and client-certificate-data are both set",
    ),
    "no server": ("{}", "{}", "no server found for cluster 'c'"),
    "CA with insecure": (
        "{server: 'https://x', certificate-authority-data: Q0EK, insecure-skip-tls-verify: true}",
        "{}",
        "certificate authority with insecure-skip-tls-verify",
    ),
    "bad proxy": ("{server: 'https://x', proxy-url: 'ftp://p'}", "{}", "proxy-url"),
    "legacy auth provider": (
        "{server: 'https://x'}",
        "{auth-provider: {name: gcp}}",
        "'gcp' auth provider has been removed from client-go",
    ),
    "groups without user": ("{server: 'https://x'}", "{as-groups: [g]}", "need as (the user)"),
    "exec without interactiveMode": (
        "{server: 'https://x'}",
        "{exec: {command: p, apiVersion: client.authentication.k8s.io/v1}}",
        "exec.interactiveMode must be specified",
    ),
    "exec with bad apiVersion": (
        "{server: 'https://x'}",
        "{exec: {command: p, apiVersion: client.authentication.k8s.io/v2, interactiveMode: Never}}",
        "exec.apiVersion 'client.authentication.k8s.io/v2' is not one of",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_cluster_or_user_is_reported_with_file_and_field(
    write: WriteFile, case: str
) -> None:
    cluster, user, message = INVALID[case]
    text = (
        f"clusters:\n- name: c\n  cluster: {cluster}\nusers:\n- name: u\n  user: {user}\n"
        "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
    )
    path = write("kubeconfig", text)
    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_all_problems_are_reported_together(write: WriteFile) -> None:
    text = (
        "clusters:\n- name: c\n  cluster: {proxy-url: 'ftp://p'}\n"
        "users:\n- name: u\n  user: {token: t, password: p}\n"
        "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
    )
    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(write("k", text))
    for part in ("no server found", "proxy-url", "more than one authentication method"):
        assert part in str(caught.value)


def test_unreadable_token_file_names_the_field(write: WriteFile) -> None:
    text = (
        "clusters:\n- name: c\n  cluster: {server: 'https://x'}\n"
        "users:\n- name: u\n  user: {tokenFile: no-such-token}\n"
        "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
    )
    path = write("k", text)
    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(path)
    assert caught.value.field == "users[name=u].user.tokenFile"
    assert caught.value.file == str(path)


def test_result_is_a_rest_config(kubeconfig: Path) -> None:
    assert isinstance(load_kubeconfig(kubeconfig), Config)
