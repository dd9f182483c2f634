"""Parsing one kubeconfig file, kubectl's loading rules, and merging (S76)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from kgen.config import (
    KubeconfigError,
    default_filename,
    load_file,
    load_merged,
    loading_precedence,
    merged_view,
    parse_kubeconfig,
    resolve_path,
)

from .conftest import WriteFile
from .test_kubectl_agreement import FILE_A, FILE_B


def test_the_typed_model_holds_every_section(tmp_path: Path, write: WriteFile) -> None:
    path = write(
        "config",
        """
current-context: ctx
preferences: {colors: true}
clusters:
- name: c
  cluster:
    server: https://c
    certificate-authority-data: aGVsbG8=
    extensions: [{name: e, extension: {k: 2021-01-01}}]
users:
- name: u
  user:
    as-groups: [g]
    exec: {command: p, apiVersion: client.authentication.k8s.io/v1beta1}
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: ns}
extensions: [{name: top, extension: [1]}]
""",
    )
    config = load_file(path)
    assert config.current_context == "ctx"
    assert config.preferences.colors is True
    assert config.clusters["c"].certificate_authority_data == b"hello"
    assert config.clusters["c"].extensions == {"e": {"k": "2021-01-01"}}  # timestamps stay text
    assert config.clusters["c"].origin == str(path)
    user = config.auth_infos["u"]
    assert user.impersonate_groups == ("g",)
    assert user.exec is not None and user.exec.interactive_mode == "IfAvailable"
    assert config.contexts["ctx"].namespace == "ns"
    assert config.extensions == {"top": [1]}


def test_v1_exec_gets_no_interactive_mode_default() -> None:
    text = "users:\n- name: u\n  user: {exec: {command: p, apiVersion: client.authentication.k8s.io/v1}}"
    exec_config = parse_kubeconfig(text, "f").auth_infos["u"].exec
    assert exec_config is not None and exec_config.interactive_mode == ""


def test_empty_and_comment_only_files_are_empty_configs() -> None:
    assert parse_kubeconfig("", "f").is_empty()
    assert parse_kubeconfig("# nothing\n", "f").is_empty()
    assert not parse_kubeconfig("current-context: x", "f").is_empty()


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("users:\n- name: alice\n  user: {token: 5}", "users[name=alice].user.token", "str"),
        (
            "clusters:\n- name: c\n  cluster: {insecure-skip-tls-verify: 'yes'}",
            "clusters[name=c].cluster.insecure-skip-tls-verify",
            "bool",
        ),
        (
            "users:\n- name: u\n  user: {exec: {command: p, env: [{name: 1}]}}",
            "users[name=u].user.exec.env[0].name",
            "str",
        ),
        (
            "clusters:\n- name: c\n  cluster: {certificate-authority-data: '!!'}",
            "clusters[name=c].cluster.certificate-authority-data",
            "base64",
        ),
        ("contexts:\n- {name: a}\n- {name: a}", "contexts[1]", "duplicate name 'a'"),
        ("contexts:\n- name: [x]", "contexts[0].name", "expected a string"),
        ("clusters: 3", "clusters", "list of named entries"),
        ("current-context: [a]", "current-context", "expected a string"),
        ("users:\n- name: u\n  user: [1]", "users[name=u].user", "expected a mapping"),
        ("preferences: {colors: 1}", "preferences.colors", "bool"),
    ],
)
def test_errors_name_the_file_and_the_field(text: str, field: str, reason: str) -> None:
    with pytest.raises(KubeconfigError) as caught:
        parse_kubeconfig(text, "/etc/kube.yaml")
    assert caught.value.file == "/etc/kube.yaml"
    assert caught.value.field == field
    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"/etc/kube.yaml: {field}: ")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("clusters: [", "invalid YAML"),
        ("- a\n- b", "expected a mapping at the top level"),
        ("kind: Pod\napiVersion: v1", "expected kind Config"),
    ],
)
def test_whole_file_errors_name_the_file(text: str, reason: str) -> None:
    with pytest.raises(KubeconfigError, match=reason) as caught:
        parse_kubeconfig(text, "k.yaml")
    assert caught.value.file == "k.yaml" and caught.value.field is None


def test_merging_some_with_conflict(tmp_path: Path, write: WriteFile) -> None:
    a, b = write("a", FILE_A), write("b", FILE_B)
    merged = load_merged(environ={"KUBECONFIG": f"{a}{os.pathsep}{b}"})
    assert merged.auth_infos["red-user"].token == "red-token"
    assert merged.auth_infos["red-user"].username == ""  # whole entry from the first file
    cow = merged.clusters["cow-cluster"]
    assert (cow.server, cow.insecure_skip_tls_verify, cow.origin) == (
        "http://cow.org:8080",
        False,
        str(a),
    )
    assert merged.auth_infos["yellow-user"].origin == str(b)
    assert merged.clusters["donkey-cluster"].origin == str(b)
    assert merged.contexts["federal-context"].cluster == "cow-cluster"
    assert merged.current_context == "federal-context"
    assert merged.preferences.colors is True


def test_explicit_path_reads_only_that_file(tmp_path: Path, write: WriteFile) -> None:
    a, b = write("a", FILE_A + "current-context: from-a\n"), write("b", FILE_B)
    merged = load_merged(a, environ={"KUBECONFIG": str(b)})
    assert merged.current_context == "from-a"
    assert "yellow-user" not in merged.auth_infos


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(KubeconfigError, match="cannot read kubeconfig") as caught:
        load_merged(missing)
    assert caught.value.file == str(missing)


def test_missing_listed_files_are_tolerated_and_warned_only_when_all_are(
    tmp_path: Path, write: WriteFile, caplog: pytest.LogCaptureFixture
) -> None:
    a = write("a", FILE_A)
    missing = [str(tmp_path / "x"), str(tmp_path / "y")]
    with caplog.at_level(logging.WARNING, logger="kgen.config"):
        merged = load_merged(environ={"KUBECONFIG": os.pathsep.join([missing[0], str(a)])})
        assert "red-user" in merged.auth_infos
        assert not caplog.records
        assert load_merged(environ={"KUBECONFIG": os.pathsep.join(missing)}).is_empty()
    assert "none of the kubeconfig files" in caplog.text


def test_precedence_list(tmp_path: Path) -> None:
    sep = os.pathsep
    assert loading_precedence({"KUBECONFIG": f"a{sep}{sep}b{sep}a{sep}c{sep}"}) == ["a", "b", "c"]
    assert loading_precedence({"HOME": str(tmp_path)}) == [str(tmp_path / ".kube" / "config")]
    assert loading_precedence({"HOME": str(tmp_path), "KUBECONFIG": ""}) == [
        str(tmp_path / ".kube" / "config")
    ]


def test_home_config_may_be_absent(tmp_path: Path) -> None:
    assert load_merged(environ={"HOME": str(tmp_path)}).is_empty()


def test_unreadable_listed_file_is_an_error(tmp_path: Path, write: WriteFile) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(KubeconfigError, match="cannot read kubeconfig") as caught:
        load_merged(environ={"KUBECONFIG": str(folder)})
    assert caught.value.file == str(folder)


def test_relative_paths_resolve_against_the_naming_file(tmp_path: Path) -> None:
    origin = str(tmp_path / "sub" / "config")
    assert resolve_path("ca.pem", origin) == str(tmp_path / "sub" / "ca.pem")
    assert resolve_path("../k/ca.pem", origin) == str(tmp_path / "sub" / ".." / "k" / "ca.pem")
    assert resolve_path("/abs/ca.pem", origin) == "/abs/ca.pem"
    assert resolve_path("", origin) == ""


def test_flatten_error_names_the_file_and_field(tmp_path: Path, write: WriteFile) -> None:
    path = write("k", "users:\n- name: u\n  user: {client-key: missing.key}\n")
    with pytest.raises(KubeconfigError, match=r"missing\.key") as caught:
        merged_view(path)
    assert caught.value.file == str(path)
    assert caught.value.field == "users[name=u].user.client-key"
    assert merged_view(path, flat=False)["users"][0]["user"] == {"client-key": "missing.key"}


def test_default_filename_for_changes(tmp_path: Path, write: WriteFile) -> None:
    sep = os.pathsep
    absent, second = str(tmp_path / "absent"), str(write("second", ""))
    env = {"KUBECONFIG": f"{absent}{sep}{second}", "HOME": str(tmp_path)}
    assert default_filename("explicit", environ=env) == "explicit"
    assert default_filename(environ=env) == second
    assert default_filename(environ={"KUBECONFIG": f"{absent}{sep}x"}) == absent
    assert default_filename(environ={"HOME": str(tmp_path)}) == str(tmp_path / ".kube" / "config")
