"""An exec plugin's interactive mode, kubectl against kgen, with stdin a terminal or a file.

For each ``interactiveMode`` and each kind of standard input (a real pseudo-terminal, or a
regular file), ``kubectl version`` and a kgen ``RESTClient`` built by ``load_kubeconfig`` run the
same plugin against one recording HTTPS server. Both must succeed or both refuse to run the
plugin, and the ``spec.interactive`` the plugin receives in ``KUBERNETES_EXEC_INFO``, and whether
its stdin is a terminal, must be the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import trustme

from kgen.config import ExecPluginError, load_kubeconfig
from kgen.rest import RESTClient

from .conftest import WriteFile
from .helpers import DIRECT_KUBECTL
from .server import SERVER_NAME, Server

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
    runs.write(json.dumps({{"interactive": info["spec"]["interactive"], "tty": os.isatty(0)}}))
    runs.write("\\n")
print(json.dumps({{"apiVersion": info["apiVersion"], "status": {{"token": "t"}}}}))
"""


@pytest.fixture
def server() -> Iterator[tuple[Server, trustme.CA]]:
    ca = trustme.CA()
    running = Server(ca)
    yield running, ca
    running.stop()


@pytest.fixture
def stdin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IO[bytes]]:
    """Standard input for both: a pseudo-terminal ("tty") or a regular file ("file")."""
    if request.param == "file":
        (tmp_path / "stdin").write_bytes(b"")
        with open(tmp_path / "stdin", "rb") as file:
            yield file
        return
    leader, follower = os.openpty()
    with os.fdopen(leader, "rb", buffering=0), os.fdopen(follower, "rb", buffering=0) as tty:
        yield tty


def _kubeconfig(write: WriteFile, server: Server, ca: trustme.CA, mode: str) -> Path:
    ca.cert_pem.write_to_path(str(write("kube/ca.pem", "")))
    write("kube/plugin", PLUGIN).chmod(0o755)
    exec_config = {
        "command": "./plugin",
        "apiVersion": "client.authentication.k8s.io/v1",
        "interactiveMode": mode,
    }
    config: dict[str, Any] = {
        "current-context": "x",
        "clusters": [
            {
                "name": "c",
                "cluster": {
                    "server": server.url,
                    "certificate-authority": "ca.pem",
                    "tls-server-name": SERVER_NAME,
                },
            }
        ],
        "users": [{"name": "u", "user": {"exec": exec_config}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
    }
    return write("kube/config", json.dumps(config))


def _runs(folder: Path) -> list[dict[str, Any]]:
    runs = folder / "runs.jsonl"
    if not runs.exists():
        return []
    lines = runs.read_text().splitlines()
    runs.unlink()
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize("stdin", ["tty", "file"], indirect=True)
@pytest.mark.parametrize("mode", ["Never", "IfAvailable", "Always"])
def test_interactive_mode_like_kubectl(
    server: tuple[Server, trustme.CA],
    write: WriteFile,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stdin: IO[bytes],
    mode: str,
) -> None:
    running, ca = server
    kubeconfig = _kubeconfig(write, running, ca, mode)
    done = subprocess.run(
        [str(DIRECT_KUBECTL), "--kubeconfig", str(kubeconfig), "version", "-o", "json"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    by_kubectl = _runs(kubeconfig.parent)
    monkeypatch.setattr(sys, "stdin", stdin)
    refused = ""
    try:
        with RESTClient(load_kubeconfig(kubeconfig)) as client:
            client.get().abs_path("version").do()
    except ExecPluginError as exc:
        refused = str(exc)
    assert _runs(kubeconfig.parent) == by_kubectl
    if done.returncode == 0:
        assert not refused
        assert by_kubectl == [
            {
                "interactive": mode != "Never" and stdin.isatty(),
                "tty": mode != "Never" and stdin.isatty(),
            }
        ]
    else:
        assert "standard input is not a terminal" in done.stderr
        assert "standard input is not a terminal" in refused
        assert (mode, by_kubectl) == ("Always", [])
