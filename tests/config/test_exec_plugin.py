"""Exec credential plugins, run for real: small Python scripts written to tmp_path (S78)."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from kgen.config import (
    Cluster,
    ExecAuthProvider,
    ExecConfig,
    ExecEnvVar,
    ExecPluginError,
    KubeconfigError,
    Overrides,
    load_kubeconfig,
)
from kgen.rest import AuthProvider

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"

PLUGIN = """\
#!{python}
import json, os, sys
state = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(state, "calls"), "a") as calls:
    calls.write("x")
record = {{
    "info": json.loads(os.environ["KUBERNETES_EXEC_INFO"]),
    "args": sys.argv[1:],
    "var": os.environ.get("PLUGIN_VAR"),
    "inherited": os.environ.get("INHERITED_VAR"),
    "stdin_tty": os.isatty(0),
}}
with open(os.path.join(state, "last.json"), "w") as last:
    json.dump(record, last)
with open(os.path.join(state, "response.json")) as response:
    answer = json.load(response)
if "exit" in answer:
    sys.stderr.write(answer["stderr"])
    sys.exit(answer["exit"])
sys.stdout.write(answer["stdout"] if "stdout" in answer else json.dumps(answer))
"""


class Plugin:
    """A plugin script in its own folder; the test sets what it answers and reads what it saw."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.path = folder / "plugin"
        self.path.write_text(PLUGIN.format(python=sys.executable))
        self.path.chmod(0o755)

    def answer(self, api_version: str = V1, **status: Any) -> None:
        credential = {"apiVersion": api_version, "kind": "ExecCredential", "status": status}
        self.answer_raw(credential)

    def answer_raw(self, response: dict[str, Any]) -> None:
        (self.folder / "response.json").write_text(json.dumps(response))

    @property
    def calls(self) -> int:
        calls = self.folder / "calls"
        return len(calls.read_text()) if calls.exists() else 0

    @property
    def last(self) -> dict[str, Any]:
        record: dict[str, Any] = json.loads((self.folder / "last.json").read_text())
        return record

    def config(self, api_version: str = V1, **fields: Any) -> ExecConfig:
        fields.setdefault("interactive_mode", "Never")
        return ExecConfig(command=str(self.path), api_version=api_version, **fields)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def plugin(tmp_path: Path) -> Plugin:
    return Plugin(tmp_path / "plugin")


def bearer(provider: ExecAuthProvider) -> str | None:
    headers: dict[str, str] = {}
    provider.authorize(headers)
    return headers.get("Authorization")


@pytest.mark.parametrize("api_version", [V1, V1BETA1])
def test_token_args_env_and_exec_info(
    plugin: Plugin, api_version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INHERITED_VAR", "from-parent")
    plugin.answer(api_version, token="token1")
    config = plugin.config(
        api_version, args=("get", "token"), env=(ExecEnvVar(name="PLUGIN_VAR", value="set"),)
    )
    provider = ExecAuthProvider(config)
    assert isinstance(provider, AuthProvider)
    assert bearer(provider) == "Bearer token1"
    assert provider.client_certificate() is None
    seen = plugin.last
    assert seen["args"] == ["get", "token"]
    assert (seen["var"], seen["inherited"]) == ("set", "from-parent")
    assert seen["info"] == {
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": {"interactive": False},
    }
    assert seen["stdin_tty"] is False


def test_cluster_info_is_provided_on_request(plugin: Plugin, tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(b"CA PEM\n")
    cluster = Cluster(
        server="https://k:6443",
        tls_server_name="k.internal",
        certificate_authority="ca.pem",
        proxy_url="http://proxy:3128",
        extensions={"client.authentication.k8s.io/exec": {"audience": "k"}, "other": 1},
        origin=str(tmp_path / "kubeconfig"),
    )
    plugin.answer(token="t")
    provider = ExecAuthProvider(plugin.config(provide_cluster_info=True), cluster=cluster)
    bearer(provider)
    assert plugin.last["info"]["spec"] == {
        "interactive": False,
        "cluster": {
            "server": "https://k:6443",
            "tls-server-name": "k.internal",
            "certificate-authority-data": "Q0EgUEVNCg==",
            "proxy-url": "http://proxy:3128",
            "config": {"audience": "k"},
        },
    }
    without = ExecAuthProvider(plugin.config(), cluster=cluster)
    bearer(without)
    assert "cluster" not in plugin.last["info"]["spec"]


def test_cached_token_is_reused_until_a_401(plugin: Plugin) -> None:
    plugin.answer(V1BETA1, token="token1")
    provider = ExecAuthProvider(plugin.config(V1BETA1))
    assert bearer(provider) == "Bearer token1"
    plugin.answer(V1BETA1, token="token2")
    assert bearer(provider) == "Bearer token1"
    assert plugin.calls == 1
    assert provider.on_unauthorized() is False  # the 401 itself goes back to the caller
    assert provider.on_unauthorized() is False
    assert bearer(provider) == "Bearer token2"
    assert bearer(provider) == "Bearer token2"
    assert plugin.calls == 2


def test_expiry_reruns_the_plugin_without_a_401(plugin: Plugin) -> None:
    clock = FakeClock()
    expiry = clock.now + timedelta(hours=1)
    plugin.answer(token="token1", expirationTimestamp=expiry.strftime("%Y-%m-%dT%H:%M:%SZ"))
    provider = ExecAuthProvider(plugin.config(), clock=clock)
    assert bearer(provider) == "Bearer token1"
    plugin.answer(token="token2")
    clock.now = expiry
    assert bearer(provider) == "Bearer token1"  # not yet past
    clock.now = expiry + timedelta(seconds=1)
    assert bearer(provider) == "Bearer token2"
    clock.now += timedelta(days=365)
    assert bearer(provider) == "Bearer token2"  # no expiry: cached for good
    assert plugin.calls == 2


def test_existing_authorization_header_never_runs_the_plugin(plugin: Plugin) -> None:
    plugin.answer(token="t")
    provider = ExecAuthProvider(plugin.config())
    headers = {"authorization": "Bearer mine"}
    provider.authorize(headers)
    assert headers == {"authorization": "Bearer mine"}
    assert plugin.calls == 0


def test_client_certificate_from_the_plugin(plugin: Plugin) -> None:
    plugin.answer(clientCertificateData="CERT PEM", clientKeyData="KEY PEM")
    provider = ExecAuthProvider(plugin.config())
    assert provider.client_certificate() == (b"CERT PEM", b"KEY PEM")
    assert bearer(provider) is None
    assert plugin.calls == 1


def test_missing_binary_gives_the_install_hint(tmp_path: Path) -> None:
    config = ExecConfig(
        command=str(tmp_path / "no-such-plugin"),
        api_version=V1,
        interactive_mode="Never",
        install_hint="Install it with: pip install kgen-auth",
    )
    with pytest.raises(ExecPluginError, match="executable not found; Install it with") as caught:
        bearer(ExecAuthProvider(config))
    assert caught.value.command == str(tmp_path / "no-such-plugin")


def test_failing_plugin_reports_exit_code_and_stderr(plugin: Plugin) -> None:
    plugin.answer_raw({"exit": 3, "stderr": "login expired\n"})
    with pytest.raises(ExecPluginError, match="exited with code 3: login expired") as caught:
        bearer(ExecAuthProvider(plugin.config()))
    assert (caught.value.exit_code, caught.value.stderr) == (3, "login expired\n")


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ({"stdout": "not json"}, "not a JSON ExecCredential"),
        ({"stdout": "[]"}, "not a JSON ExecCredential object"),
        ({"apiVersion": V1BETA1, "status": {"token": "t"}}, "configured for " + V1),
        ({"apiVersion": V1}, "has no status"),
        ({"apiVersion": V1, "status": {}}, "neither a token nor a certificate"),
        ({"apiVersion": V1, "status": {"clientKeyData": "k"}}, "not both"),
        ({"apiVersion": V1, "status": {"token": 5}}, "must be strings"),
        (
            {"apiVersion": V1, "status": {"token": "t", "expirationTimestamp": "soon"}},
            "not an RFC 3339 time",
        ),
    ],
)
def test_unusable_output_is_an_error(
    plugin: Plugin, response: dict[str, Any], message: str
) -> None:
    plugin.answer_raw(response)
    with pytest.raises(ExecPluginError, match=message):
        bearer(ExecAuthProvider(plugin.config()))


def test_invalid_exec_config_is_rejected_at_construction(plugin: Plugin) -> None:
    with pytest.raises(KubeconfigError, match="interactiveMode 'Sometimes' is not valid"):
        ExecAuthProvider(plugin.config(interactive_mode="Sometimes"))
    with pytest.raises(KubeconfigError, match=r"exec\.command must be specified"):
        ExecAuthProvider(ExecConfig(api_version=V1, interactive_mode="Never"))


@pytest.fixture
def terminal() -> Iterator[IO[bytes]]:
    """A real pseudo-terminal to stand for an interactive stdin."""
    leader, follower = os.openpty()
    with os.fdopen(leader, "rb", buffering=0), os.fdopen(follower, "rb", buffering=0) as tty:
        yield tty


@pytest.fixture
def not_terminal(tmp_path: Path) -> Iterator[IO[bytes]]:
    (tmp_path / "stdin").write_bytes(b"")
    with open(tmp_path / "stdin", "rb") as stdin:
        yield stdin


@pytest.mark.parametrize(
    ("mode", "use_terminal", "interactive"),
    [
        ("Never", True, False),
        ("IfAvailable", True, True),
        ("IfAvailable", False, False),
        ("Always", True, True),
    ],
)
def test_interactive_mode_against_a_terminal_or_not(
    plugin: Plugin,
    terminal: IO[bytes],
    not_terminal: IO[bytes],
    mode: str,
    use_terminal: bool,
    interactive: bool,
) -> None:
    plugin.answer(token="t")
    stdin = terminal if use_terminal else not_terminal
    provider = ExecAuthProvider(plugin.config(interactive_mode=mode), stdin=stdin)
    assert bearer(provider) == "Bearer t"
    assert plugin.last["info"]["spec"]["interactive"] is interactive
    assert plugin.last["stdin_tty"] is interactive


def test_always_interactive_without_a_terminal_is_an_error(
    plugin: Plugin, not_terminal: IO[bytes]
) -> None:
    plugin.answer(token="t")
    provider = ExecAuthProvider(plugin.config(interactive_mode="Always"), stdin=not_terminal)
    with pytest.raises(ExecPluginError, match="standard input is not a terminal"):
        bearer(provider)
    assert plugin.calls == 0


def test_relative_command_resolves_against_the_kubeconfig(tmp_path: Path) -> None:
    plugin = Plugin(tmp_path / "kube" / "bin")
    plugin.answer(V1BETA1, token="from-relative")
    kubeconfig = tmp_path / "kube" / "config"
    kubeconfig.write_text(
        "clusters:\n- name: c\n  cluster: {server: 'https://c'}\n"
        "users:\n- name: u\n  user:\n    exec: {command: bin/plugin, apiVersion: "
        f"{V1BETA1}, provideClusterInfo: true}}\n"
        "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
    )
    provider = load_kubeconfig(kubeconfig).auth_provider
    assert isinstance(provider, ExecAuthProvider)
    assert bearer(provider) == "Bearer from-relative"
    assert plugin.last["info"]["spec"]["cluster"] == {"server": "https://c"}
    again = load_kubeconfig(kubeconfig).auth_provider
    assert isinstance(again, ExecAuthProvider)
    assert bearer(again) == "Bearer from-relative"
    assert plugin.calls == 1  # one provider per (plugin, cluster) in the process


def test_concurrent_requests_share_one_plugin_run(plugin: Plugin) -> None:
    plugin.answer(token="shared")
    provider = ExecAuthProvider(plugin.config())
    barrier = threading.Barrier(8)
    seen: list[str | None] = []

    def request() -> None:
        barrier.wait()
        seen.append(bearer(provider))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["Bearer shared"] * 8
    assert plugin.calls == 1


@pytest.mark.parametrize("message", ["used by the manifest reader", ""])
def test_stdin_marked_unavailable(
    plugin: Plugin, terminal: IO[bytes], not_terminal: IO[bytes], message: str
) -> None:
    plugin.answer(token="t")

    def unavailable(mode: str, stdin: IO[bytes]) -> ExecAuthProvider:
        config = plugin.config(interactive_mode=mode)
        return ExecAuthProvider(
            config, stdin=stdin, stdin_unavailable=True, stdin_unavailable_message=message
        )

    assert bearer(unavailable("IfAvailable", terminal)) == "Bearer t"
    assert plugin.last["info"]["spec"]["interactive"] is False
    assert plugin.last["stdin_tty"] is False
    expected = "standard input is unavailable" + (f": {message}" if message else "") + "$"
    with pytest.raises(ExecPluginError, match=expected):
        bearer(unavailable("Always", terminal))
    with pytest.raises(ExecPluginError, match="standard input is not a terminal"):
        bearer(unavailable("Always", not_terminal))
    assert plugin.calls == 1


def test_stdin_unavailable_through_load_kubeconfig(
    tmp_path: Path, terminal: IO[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = Plugin(tmp_path / "kube" / "bin")
    plugin.answer(token="t")
    kubeconfig = tmp_path / "kube" / "config"
    kubeconfig.write_text(
        "clusters:\n- name: c\n  cluster: {server: 'https://c'}\n"
        "users:\n- name: u\n  user:\n    exec: {command: bin/plugin, apiVersion: "
        f"{V1}, interactiveMode: Always}}\n"
        "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
    )
    monkeypatch.setattr(sys, "stdin", terminal)
    taken = Overrides(stdin_unavailable=True, stdin_unavailable_message="reading manifests")
    refused = load_kubeconfig(kubeconfig, overrides=taken).auth_provider
    assert isinstance(refused, ExecAuthProvider)
    with pytest.raises(ExecPluginError, match="standard input is unavailable: reading manifests"):
        bearer(refused)
    interactive = load_kubeconfig(kubeconfig).auth_provider
    assert isinstance(interactive, ExecAuthProvider) and interactive is not refused
    assert bearer(interactive) == "Bearer t"
    assert plugin.last["info"]["spec"]["interactive"] is True
