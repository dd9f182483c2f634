"""``kgen fetch-specs`` and ``--from-cluster`` against kgen.testing's server via a kubeconfig."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner

from kgen.cli import main
from kgen.testing import APIServer

EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "openapi-specs" / "databases.kgen.dev.yaml"


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A kubeconfig naming kgen.testing's server over HTTPS (tokens never go over plain HTTP)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    tls = (cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes())
    with APIServer(specs=[EXAMPLE_SPEC], tls=tls, ca_pem=ca.cert_pem.bytes()) as server:
        path = server.write_kubeconfig(tmp_path / "kubeconfig")
        monkeypatch.setenv("KUBECONFIG", str(path))
        yield path


def test_fetch_specs_saves_documents_that_generate(kubeconfig: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    saved = tmp_path / "saved"
    result = runner.invoke(main, ["fetch-specs", str(saved)])
    assert result.exit_code == 0, result.output
    documents = sorted(p.relative_to(saved).as_posix() for p in saved.rglob("*.json"))
    assert "discovery/apis.json" in documents
    assert any(d.startswith("openapi-v3/apis__databases.kgen.dev__v1") for d in documents)

    spec = saved / "openapi-v3"
    discovery = [str(p) for p in (saved / "discovery").glob("*.json")]
    args = ["clientset", "--spec", str(spec), "--package", "fromdocs", "-o", str(tmp_path)]
    args += [a for d in discovery for a in ("--discovery", d)]
    generated = runner.invoke(main, args)
    assert generated.exit_code == 0, generated.output
    typed = (tmp_path / "fromdocs" / "typed" / "databases_v1.py").read_text()
    assert "class PostgresClusterClient(" in typed and "get_scale = subresource_getter(" in typed


def test_from_cluster_generates_the_clusters_api(kubeconfig: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["generate", "--from-cluster", "--package", "live", "-o", str(tmp_path), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "live" / "informers" / "databases_v1.py").is_file()


def test_unreachable_cluster_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    result = CliRunner().invoke(main, ["fetch-specs", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.startswith("Error: cannot fetch the API documents from")
    assert "Traceback" not in result.output and os.linesep not in result.output.strip()
