"""``kgen testserver`` as a new user meets it: bad options are named before anything starts,
the kubeconfig it writes draws no warning, and SIGTERM stops it promptly and cleanly."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme
import yaml
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from kgen.config import load_kubeconfig
from kgen.rest import RESTClient
from kgen.testing import APIServer, ServingPairError
from kgen.testing._cli import testserver as serve_command
from tests.testing.conftest import small_model


def _swagger(specs_dir: Path) -> str:
    return str(specs_dir / "kubernetes" / "v1.35" / "swagger.json")


def test_kubeconfig_out_in_a_missing_folder_is_a_usage_error(
    specs_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "kc"
    result = CliRunner().invoke(
        serve_command, ["--spec", _swagger(specs_dir), "--kubeconfig-out", str(target)]
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a usage error, no traceback
    assert (
        f"Invalid value for '--kubeconfig-out': {target}: the folder {target.parent} does not "
        "exist" in result.output
    )
    assert not target.parent.exists()
    assert "listening" not in result.output


def test_kubeconfig_out_naming_a_folder_is_a_usage_error(specs_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        serve_command, ["--spec", _swagger(specs_dir), "--kubeconfig-out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert f"'--kubeconfig-out': File '{tmp_path}' is a directory" in result.output


def test_write_kubeconfig_leaves_nothing_when_it_fails(tmp_path: Path) -> None:
    with APIServer(small_model()) as server:
        with pytest.raises(FileNotFoundError):
            server.write_kubeconfig(tmp_path / "missing" / "kc")
        (tmp_path / "taken").mkdir()
        with pytest.raises(OSError):
            server.write_kubeconfig(tmp_path / "taken")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
        assert not any((tmp_path / "taken").iterdir())
        written = server.write_kubeconfig(tmp_path / "kc")
        assert written.stat().st_mode & 0o777 == 0o600
        assert sorted(p.name for p in tmp_path.iterdir()) == ["kc", "taken"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pair")
    ca = trustme.CA()
    ours, other = ca.issue_cert("localhost"), ca.issue_cert("elsewhere")
    key = serialization.load_pem_private_key(ours.private_key_pem.bytes(), None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    files = {
        "cert": ours.cert_chain_pems[0].bytes(),
        "key": ours.private_key_pem.bytes(),
        "other-key": other.private_key_pem.bytes(),
        "encrypted-key": encrypted,
        "garbage": b"not PEM at all\n",
        "bad-key": b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.pem"
        paths[name].write_bytes(data)
    return paths


@pytest.mark.parametrize(
    ("cert", "key", "option", "reason"),
    [
        ("garbage", "key", "--tls-cert", "not a PEM certificate: no CERTIFICATE block"),
        ("key", "key", "--tls-cert", "not a PEM certificate: no CERTIFICATE block"),
        ("cert", "garbage", "--tls-key", "not a PEM private key: no '-----BEGIN' line"),
        ("cert", "bad-key", "--tls-key", "not a PEM private key (Could not deserialize"),
        ("cert", "encrypted-key", "--tls-key", "the private key is encrypted"),
        ("cert", "other-key", "--tls-key", "does not match the certificate (subject "),
    ],
)
def test_bad_tls_files_are_named_with_the_reason(
    specs_dir: Path, pair: dict[str, Path], cert: str, key: str, option: str, reason: str
) -> None:
    command = ["--spec", _swagger(specs_dir), "--tls-cert", str(pair[cert])]
    result = CliRunner().invoke(serve_command, [*command, "--tls-key", str(pair[key])])
    assert result.exit_code == 2, result.output
    bad = pair[cert] if option == "--tls-cert" else pair[key]
    assert f"Invalid value for '{option}': {bad}: {reason}" in result.output
    assert "cannot listen" not in result.output


def test_the_server_itself_names_the_bad_part(pair: dict[str, Path]) -> None:
    from kgen.testing._tls import serving_context

    with pytest.raises(ServingPairError) as info:
        serving_context(pair["cert"].read_bytes(), pair["other-key"].read_bytes())
    assert info.value.part == "key"
    assert str(info.value).startswith("TLS key: does not match the certificate")
    serving_context(pair["cert"].read_bytes(), pair["key"].read_bytes())  # the right pair


def test_a_plain_http_kubeconfig_holds_no_credentials_and_draws_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with APIServer(small_model(), allow_anonymous=True) as server:
        path = server.write_kubeconfig(tmp_path / "kubeconfig")
        assert yaml.safe_load(path.read_text())["users"] == [{"name": "kgen-testing", "user": {}}]
        with caplog.at_level(logging.WARNING, logger="kgen"):
            config = load_kubeconfig(path)
        assert not caplog.records
        with RESTClient(config) as rest:
            assert rest.get().abs_path("/api/v1/namespaces").do().json()["kind"] == "NamespaceList"


def test_the_warning_stays_for_credentials_sent_to_plain_http(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A hand-written kubeconfig with a token for an http:// server is a real misconfiguration."""
    with APIServer(small_model(), allow_anonymous=True) as server:
        config = server.config_dict()
        config["users"][0]["user"] = {"token": "t"}
        path = tmp_path / "kubeconfig"
        path.write_text(yaml.safe_dump(config))
        with caplog.at_level(logging.WARNING, logger="kgen"):
            load_kubeconfig(path)
    assert [r.getMessage() for r in caplog.records] == [
        "cluster 'kgen-testing' is not https: the credentials of user 'kgen-testing' are not used"
    ]


@pytest.fixture
def serving(specs_dir: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    kubeconfig = tmp_path / "kubeconfig"
    command = [sys.executable, "-m", "kgen", "testserver", "--spec", _swagger(specs_dir)]
    process = subprocess.Popen(
        [*command, "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        while "press Ctrl-C" not in (line := process.stdout.readline()):
            assert line, process.stderr.read() if process.stderr else ""
        yield process, kubeconfig
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


@pytest.mark.kubectl
def test_sigterm_stops_promptly_with_streams_open(
    serving: tuple[subprocess.Popen[str], Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    process, kubeconfig = serving
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    written = yaml.safe_load(kubeconfig.read_text())
    assert written["users"] == [{"name": "kgen-testing", "user": {}}]  # http: no token
    with caplog.at_level(logging.WARNING, logger="kgen"):
        config = load_kubeconfig(kubeconfig)
    assert not caplog.records  # no "not https: credentials not used"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
    flags = [f"--cache-dir={tmp_path}/cache"]
    made = subprocess.run(
        [kubectl, *flags, "create", "configmap", "c"], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    watching = subprocess.Popen(
        [kubectl, *flags, "get", "configmaps", "--watch"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watching.stdout is not None
        assert watching.stdout.readline().startswith("NAME")
        with RESTClient(config) as rest:  # a kept-alive connection of kgen's own, left open
            assert rest.get().abs_path("/version").do().json()["major"]
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
            took = time.monotonic() - started
    finally:
        watching.kill()
        watching.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.endswith("stopped\n") and "Traceback" not in err
    assert took < 1.0, f"SIGTERM to exit took {took:.2f} s"


def test_sigterm_joins_every_thread_in_process(specs_dir: Path, tmp_path: Path) -> None:
    """Run in this process (signals reach the main thread), so the threads can be counted."""
    kubeconfig = tmp_path / "kubeconfig"
    before = set(threading.enumerate())
    handler_before = signal.getsignal(signal.SIGTERM)
    seen: dict[str, object] = {}

    def user() -> None:
        deadline = time.monotonic() + 60
        while not kubeconfig.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        with requests.get(f"{server}/api/v1/configmaps?watch=1", stream=True, timeout=30) as watch:
            seen["status"] = watch.status_code
            seen["threads"] = len(threading.enumerate())
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in watch.iter_content(None):
                pass

    helper = threading.Thread(target=user)
    helper.start()
    result = CliRunner().invoke(
        serve_command, ["--spec", _swagger(specs_dir), "--kubeconfig-out", str(kubeconfig)]
    )
    helper.join(30)
    assert seen["status"] == 200
    assert result.exit_code == 0, result.output
    assert result.output.endswith("stopped\n")
    assert set(threading.enumerate()) == before
    assert signal.getsignal(signal.SIGTERM) is handler_before  # restored
