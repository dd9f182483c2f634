"""kubectl's global flags as Overrides: the REST config fields they give, checked directly.

What kubectl itself does with the same flags is checked on the wire in
``test_kubectl_overrides.py``; these tests pin the fields that do not show there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kgen.config import EmptyConfigError, KubeconfigError, Overrides, load_kubeconfig

from .conftest import WriteFile

KUBECONFIG = """\
current-context: main
clusters:
- name: named
  cluster:
    server: https://named.example:6443
    certificate-authority-data: Q0EK
    tls-server-name: api.named
- name: ca-file
  cluster: {server: "https://file.example", certificate-authority: pki/ca.pem}
- name: plain
  cluster: {server: "http://127.0.0.1:8080"}
users:
- name: token
  user: {token: kube-token}
- name: certs
  user: {client-certificate-data: Q0VSVAo=, client-key-data: S0VZCg==}
- name: basic
  user: {username: bob, password: pw}
contexts:
- name: main
  context: {cluster: named, user: token, namespace: team}
- name: lost
  context: {cluster: nowhere, user: certs}
"""


@pytest.fixture
def kubeconfig(write: WriteFile) -> Path:
    write("kube/pki/ca.pem", "-----BEGIN CERTIFICATE-----\n")
    return write("kube/config", KUBECONFIG)


@pytest.fixture
def files(tmp_path: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding flag files (flags' relative paths start there)."""
    for name in ("ca.pem", "client.pem", "client.key"):
        write(f"cwd/{name}", f"{name}\n")
    monkeypatch.chdir(tmp_path / "cwd")
    return tmp_path / "cwd"


def test_server_override_clears_the_kubeconfig_tls_server_name(kubeconfig: Path) -> None:
    config = load_kubeconfig(kubeconfig, overrides=Overrides(server="https://other:443"))
    assert (config.host, config.tls_server_name) == ("https://other:443", "")
    assert config.ca_data == b"CA\n" and config.bearer_token == "kube-token"
    both = Overrides(server="https://other:443", tls_server_name="api.other")
    assert load_kubeconfig(kubeconfig, overrides=both).tls_server_name == "api.other"
    alone = load_kubeconfig(kubeconfig, overrides=Overrides(tls_server_name="api.alone"))
    assert (alone.host, alone.tls_server_name) == ("https://named.example:6443", "api.alone")


def test_ca_override_replaces_ca_data_and_insecure_override_clears_the_ca(
    kubeconfig: Path, files: Path
) -> None:
    config = load_kubeconfig(kubeconfig, overrides=Overrides(certificate_authority="ca.pem"))
    assert (config.ca_file, config.ca_data) == (str(files / "ca.pem"), b"")
    insecure = Overrides(insecure_skip_tls_verify=True)
    for context_cluster in ("named", "ca-file"):
        config = load_kubeconfig(kubeconfig, cluster=context_cluster, overrides=insecure)
        assert (config.insecure, config.ca_file, config.ca_data) == (True, "", b"")
    both = Overrides(insecure_skip_tls_verify=True, certificate_authority="ca.pem")
    with pytest.raises(KubeconfigError, match="certificate authority with insecure"):
        load_kubeconfig(kubeconfig, overrides=both)


def test_token_override_keeps_a_client_certificate_but_not_basic_auth(kubeconfig: Path) -> None:
    config = load_kubeconfig(kubeconfig, user="certs", overrides=Overrides(token="flag-token"))
    assert (config.bearer_token, config.cert_data) == ("flag-token", b"CERT\n")
    with pytest.raises(KubeconfigError, match="more than one authentication method"):
        load_kubeconfig(kubeconfig, user="basic", overrides=Overrides(token="flag-token"))
    with pytest.raises(KubeconfigError, match="more than one authentication method"):
        load_kubeconfig(kubeconfig, overrides=Overrides(username="u", password="p"))
    basic = load_kubeconfig(kubeconfig, user="basic", overrides=Overrides(password="new"))
    assert (basic.username, basic.password) == ("bob", "new")


def test_client_certificate_overrides_replace_the_data_relative_to_the_cwd(
    kubeconfig: Path, files: Path
) -> None:
    flags = Overrides(client_certificate="client.pem", client_key="client.key")
    config = load_kubeconfig(kubeconfig, user="certs", overrides=flags)
    assert (config.cert_file, config.cert_data) == (str(files / "client.pem"), b"")
    assert (config.key_file, config.key_data) == (str(files / "client.key"), b"")
    with pytest.raises(KubeconfigError, match="client certificate needs a client key"):
        load_kubeconfig(kubeconfig, overrides=Overrides(client_certificate="client.pem"))
    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(kubeconfig, overrides=Overrides(client_key="missing.key"))
    assert caught.value.field == "overrides.client_key"
    assert str(files / "missing.key") in str(caught.value)


def test_impersonation_namespace_compression_and_timeout(kubeconfig: Path) -> None:
    flags = Overrides(
        impersonate="alice",
        impersonate_uid="7",
        impersonate_groups=("devs", "ops"),
        namespace="flag-ns",
        disable_compression=True,
        request_timeout="1m30s",
    )
    config = load_kubeconfig(kubeconfig, overrides=flags)
    assert (config.impersonate.user, config.impersonate.uid) == ("alice", "7")
    assert config.impersonate.groups == ("devs", "ops")
    assert (config.namespace, config.disable_compression, config.timeout) == ("flag-ns", True, 90)
    assert load_kubeconfig(kubeconfig).timeout is None


def test_repr_leaves_out_the_secrets() -> None:
    shown = repr(Overrides(token="tok-secret", username="bob", password="pw-secret"))
    assert "bob" in shown
    assert "tok-secret" not in shown and "pw-secret" not in shown


def test_shorthand_arguments_win_over_the_overrides_object(kubeconfig: Path) -> None:
    flags = Overrides(cluster="plain", namespace="from-flags")
    config = load_kubeconfig(kubeconfig, cluster="named", namespace="argument", overrides=flags)
    assert (config.host, config.namespace) == ("https://named.example:6443", "argument")


def test_server_override_needs_no_kubeconfig_entry(kubeconfig: Path, write: WriteFile) -> None:
    empty = write("empty", "")
    flags = Overrides(server="https://flag.example", token="flag-token", namespace="n")
    config = load_kubeconfig(empty, overrides=flags)
    assert (config.host, config.bearer_token, config.namespace) == (
        "https://flag.example",
        "flag-token",
        "n",
    )
    with pytest.raises(EmptyConfigError, match="no cluster is configured"):
        load_kubeconfig(empty, overrides=Overrides(token="flag-token"))
    with pytest.raises(EmptyConfigError, match="cluster 'nowhere' of context 'lost'"):
        load_kubeconfig(kubeconfig, context="lost")
    lost = load_kubeconfig(kubeconfig, context="lost", overrides=Overrides(server="https://s"))
    assert (lost.host, lost.cert_data) == ("https://s", b"CERT\n")


def test_no_server_together_with_other_problems_is_not_an_empty_config(write: WriteFile) -> None:
    empty = write("empty", "")
    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(empty, overrides=Overrides(token="t", username="u"))
    assert not isinstance(caught.value, EmptyConfigError)
    assert "no cluster is configured" in str(caught.value)
    assert "more than one authentication method" in str(caught.value)


def test_plain_http_server_override_drops_the_credentials(kubeconfig: Path) -> None:
    flags = Overrides(server="http://127.0.0.1:9", token="flag-token", impersonate="alice")
    config = load_kubeconfig(kubeconfig, overrides=flags)
    assert (config.bearer_token, config.ca_data, config.impersonate.user) == ("", b"", "alice")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7s", 7.0),
        ("12", 12.0),
        ("1m30s", 90.0),
        ("1h", 3600.0),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        (2.5, 2.5),
        ("0", None),
        ("", None),
        (0, None),
    ],
)
def test_request_timeout_values(value: float | str, seconds: float | None) -> None:
    assert Overrides(request_timeout=value).timeout_seconds() == seconds


@pytest.mark.parametrize("value", ["soon", "5 s", "-5s", "1d", -1.0])
def test_bad_request_timeout_names_the_override(kubeconfig: Path, value: float | str) -> None:
    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(kubeconfig, overrides=Overrides(request_timeout=value))
    assert caught.value.field == "overrides.request_timeout"
