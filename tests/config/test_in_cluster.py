"""In-cluster configuration from a service-account folder, with overrides, and load()'s choice
(S77)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trustme

from kgen.config import (
    InClusterError,
    KubeconfigError,
    Overrides,
    in_cluster_config,
    in_cluster_possible,
    load,
)
from kgen.rest import RESTClient

from .conftest import WriteFile
from .server import VERSION, Server

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
ENV = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}


@pytest.fixture
def account(tmp_path: Path, write: WriteFile) -> Path:
    write("sa/token", "sa-token\n")
    write("sa/ca.crt", CA)
    write("sa/namespace", "pod-ns\n")
    return tmp_path / "sa"


def test_host_token_file_ca_and_namespace(account: Path) -> None:
    config = in_cluster_config(environ=ENV, service_account_dir=account)
    assert config.host == "https://10.0.0.1:443"
    assert config.bearer_token == "sa-token"
    assert config.bearer_token_file == str(account / "token")  # re-read: tokens rotate
    assert config.ca_file == str(account / "ca.crt")
    assert config.namespace == "pod-ns"


def test_ipv6_host_is_bracketed(account: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"}
    assert (
        in_cluster_config(environ=env, service_account_dir=account).host == "https://[fd00::1]:6443"
    )


def test_namespace_precedence(account: Path) -> None:
    env = {**ENV, "POD_NAMESPACE": "from-env"}
    assert in_cluster_config(environ=env, service_account_dir=account).namespace == "from-env"
    assert in_cluster_config("override", environ=env, service_account_dir=account).namespace == (
        "override"
    )
    (account / "namespace").unlink()
    assert in_cluster_config(environ=ENV, service_account_dir=account).namespace == "default"


def test_missing_ca_is_logged_and_left_out(account: Path, caplog: pytest.LogCaptureFixture) -> None:
    (account / "ca.crt").unlink()
    with caplog.at_level(logging.ERROR, logger="kgen.config"):
        config = in_cluster_config(environ=ENV, service_account_dir=account)
    assert config.ca_file == ""
    assert "ca.crt" in caplog.text


@pytest.mark.parametrize("unset", ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"])
def test_outside_a_cluster_is_a_clear_error(account: Path, unset: str) -> None:
    env = {k: v for k, v in ENV.items() if k != unset}
    with pytest.raises(InClusterError, match="not running in a cluster"):
        in_cluster_config(environ=env, service_account_dir=account)
    assert not in_cluster_possible(environ=env, service_account_dir=account)


def test_missing_or_empty_token_is_an_error(account: Path) -> None:
    (account / "token").write_text("\n")
    with pytest.raises(InClusterError, match="is empty"):
        in_cluster_config(environ=ENV, service_account_dir=account)
    (account / "token").unlink()
    with pytest.raises(InClusterError, match="cannot read the service-account token"):
        in_cluster_config(environ=ENV, service_account_dir=account)
    assert not in_cluster_possible(environ=ENV, service_account_dir=account)


KUBECONFIG = """\
clusters: [{name: c, cluster: {server: "https://from-kubeconfig"}}]
contexts: [{name: x, context: {cluster: c, namespace: kube-ns}}]
current-context: x
"""


def test_load_uses_in_cluster_in_a_pod_without_kubeconfig(account: Path, tmp_path: Path) -> None:
    env = {**ENV, "HOME": str(tmp_path)}
    assert load(environ=env, service_account_dir=account).host == "https://10.0.0.1:443"
    assert load(namespace="n", environ=env, service_account_dir=account).namespace == "n"
    empty = {**env, "KUBECONFIG": str(tmp_path / "absent")}
    assert load(environ=empty, service_account_dir=account).host == "https://10.0.0.1:443"


def test_load_uses_a_kubeconfig_that_configures_something(
    account: Path, tmp_path: Path, write: WriteFile
) -> None:
    path = write("elsewhere", KUBECONFIG)
    env = {**ENV, "HOME": str(tmp_path)}
    assert load(path, environ=env, service_account_dir=account).host == "https://from-kubeconfig"
    with_env = {**env, "KUBECONFIG": str(path)}
    assert load(environ=with_env, service_account_dir=account).namespace == "kube-ns"
    write(".kube/config", KUBECONFIG)
    assert load(environ=env, service_account_dir=account).host == "https://from-kubeconfig"
    assert load(context="x", environ=env, service_account_dir=account).namespace == "kube-ns"


def test_load_outside_a_pod_reads_home(tmp_path: Path, write: WriteFile) -> None:
    write(".kube/config", KUBECONFIG)
    config = load(environ={"HOME": str(tmp_path)}, service_account_dir=tmp_path / "absent")
    assert (config.host, config.namespace) == ("https://from-kubeconfig", "kube-ns")


def test_load_with_nothing_anywhere_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="no cluster is configured"):
        load(environ={"HOME": str(tmp_path)}, service_account_dir=tmp_path / "absent")


def test_overrides_for_server_token_and_ca_apply_in_cluster(
    account: Path, write: WriteFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("cwd/other-ca.pem", CA)
    monkeypatch.chdir(tmp_path / "cwd")
    flags = Overrides(
        server="https://api.other:6443",
        token="flag-token",
        certificate_authority="other-ca.pem",
        namespace="flag-ns",
        request_timeout="5s",
    )
    config = in_cluster_config(overrides=flags, environ=ENV, service_account_dir=account)
    assert config.host == "https://api.other:6443"
    assert (config.bearer_token, config.bearer_token_file) == ("flag-token", "")  # no rotation
    assert config.ca_file == str(tmp_path / "cwd" / "other-ca.pem")
    assert (config.namespace, config.timeout) == ("flag-ns", 5.0)
    only_ns = in_cluster_config("arg-ns", overrides=flags, environ=ENV, service_account_dir=account)
    assert only_ns.namespace == "arg-ns"
    missing = Overrides(certificate_authority="missing.pem")
    with pytest.raises(KubeconfigError) as caught:
        in_cluster_config(overrides=missing, environ=ENV, service_account_dir=account)
    assert caught.value.field == "overrides.certificate_authority"


def test_overrides_that_cannot_apply_in_cluster_are_ignored_with_a_warning(
    account: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flags = Overrides(insecure_skip_tls_verify=True, username="u", impersonate="alice")
    with caplog.at_level(logging.WARNING, logger="kgen.config"):
        config = in_cluster_config(overrides=flags, environ=ENV, service_account_dir=account)
    assert (config.insecure, config.username, config.impersonate.user) == (False, "", "")
    assert config.bearer_token_file == str(account / "token")
    assert "not used: insecure_skip_tls_verify, username, impersonate" in caplog.text


def test_load_in_a_pod_applies_token_ca_and_namespace_overrides(
    account: Path, tmp_path: Path, write: WriteFile
) -> None:
    ca = write("flag-ca.pem", CA)
    env = {**ENV, "HOME": str(tmp_path)}
    flags = Overrides(token="flag-token", certificate_authority=str(ca), namespace="flag-ns")
    config = load(overrides=flags, environ=env, service_account_dir=account)
    assert config.host == "https://10.0.0.1:443"
    assert (config.bearer_token, config.ca_file, config.namespace) == (
        "flag-token",
        str(ca),
        "flag-ns",
    )


def test_load_in_a_pod_with_a_server_override_means_the_kubeconfig(
    account: Path, tmp_path: Path
) -> None:
    """As in client-go: the server alone makes the kubeconfig usable, so no pod credentials."""
    env = {**ENV, "HOME": str(tmp_path)}
    config = load(
        overrides=Overrides(server="https://other"), environ=env, service_account_dir=account
    )
    assert (config.host, config.bearer_token, config.ca_file) == ("https://other", "", "")


def test_load_in_a_pod_with_a_kubeconfig_that_names_no_server(
    account: Path, tmp_path: Path, write: WriteFile
) -> None:
    env = {**ENV, "HOME": str(tmp_path)}
    empty = write("empty", "")
    assert load(empty, environ=env, service_account_dir=account).host == "https://10.0.0.1:443"
    lost = write("lost", "contexts: [{name: x, context: {cluster: gone}}]\ncurrent-context: x\n")
    assert load(lost, environ=env, service_account_dir=account).host == "https://10.0.0.1:443"
    with pytest.raises(KubeconfigError, match="context 'nope' does not exist"):
        load(lost, context="nope", environ=env, service_account_dir=account)
    with pytest.raises(KubeconfigError, match="more than one authentication method"):
        load(overrides=Overrides(token="t", username="u"), environ=env, service_account_dir=account)


def test_in_cluster_with_a_token_override_over_verified_tls(
    tmp_path: Path, write: WriteFile
) -> None:
    ca = trustme.CA()
    server = Server(ca, cert_names=("127.0.0.1",))
    try:
        write("sa/token", "sa-token\n")
        ca.cert_pem.write_to_path(str(write("sa/ca.crt", "")))
        env = {
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": str(server.port),
            "HOME": str(tmp_path),
        }
        for flags in (Overrides(), Overrides(token="flag-token")):
            config = load(overrides=flags, environ=env, service_account_dir=tmp_path / "sa")
            with RESTClient(config) as client:
                assert client.get().abs_path("version").do().json() == VERSION
    finally:
        server.stop()
    assert [seen.header("Authorization") for seen in server.seen] == [
        ["Bearer sa-token"],
        ["Bearer flag-token"],
    ]
