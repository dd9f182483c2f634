"""Credentials of AsyncRESTClient that change while it runs: a real exec plugin from a
kubeconfig (run in a thread: the event loop keeps going while it works) whose token is replaced
after a 401, and a bearer token file that is rotated. Against kgen.testing.APIServer over TLS."""

from __future__ import annotations

import asyncio
import base64
import sys
from pathlib import Path

import pytest
import yaml

from kgen.config import load_kubeconfig
from kgen.rest import Config, StatusError, is_unauthorized
from kgen.rest.aio import AsyncRESTClient
from kgen.testing import APIServer

from .conftest import run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

PLUGIN = f"""\
#!{sys.executable}
import json, os, time
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "runs"), "a") as runs:
    runs.write("x")
time.sleep(0.3)  # a slow plugin (a cloud login, say)
with open(os.path.join(here, "token")) as token:
    status = {{"token": token.read().strip()}}
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "status": status}}))
"""


def exec_kubeconfig(server: APIServer, folder: Path) -> Path:
    plugin = folder / "creds"
    plugin.write_text(PLUGIN)
    plugin.chmod(0o755)
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "async",
        "clusters": [
            {
                "name": "local",
                "cluster": {
                    "server": server.url,
                    "certificate-authority-data": base64.b64encode(server.ca_pem or b"").decode(),
                },
            }
        ],
        "users": [
            {
                "name": "plugin",
                "user": {
                    "exec": {
                        "command": str(plugin),
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "async", "context": {"cluster": "local", "user": "plugin"}}],
    }
    path = folder / "config"
    path.write_text(yaml.safe_dump(kubeconfig))
    return path


def test_exec_plugin_runs_in_a_thread_and_its_token_is_replaced_after_a_401(
    server: APIServer, tmp_path: Path
) -> None:
    (tmp_path / "token").write_text("stale-token")
    config = load_kubeconfig(exec_kubeconfig(server, tmp_path))
    config.qps = -1

    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick = asyncio.create_task(ticker())
        try:
            async with AsyncRESTClient(config) as client:
                with pytest.raises(StatusError) as caught:
                    await client.get().abs_path("/version").do()
                assert is_unauthorized(caught.value)  # the 401 reaches the caller...
                (tmp_path / "token").write_text(server.token)
                # ...and the stale token is dropped: the plugin runs again, once.
                for _ in range(3):
                    assert "gitVersion" in (await client.get().abs_path("/version").do()).json()
        finally:
            tick.cancel()
            await asyncio.gather(tick, return_exceptions=True)
        return ticks

    ticks = run(main)
    assert (tmp_path / "runs").read_text() == "xx"
    assert ticks > 20, "the loop was blocked while the plugin ran"


def test_a_rotated_bearer_token_file_is_picked_up(server: APIServer, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("old-token\n")
    now = [0.0]
    config = Config(
        host=server.url, ca_data=server.ca_pem or b"", bearer_token_file=str(token_file), qps=-1
    )

    async def main() -> None:
        async with AsyncRESTClient(config, clock=lambda: now[0]) as client:
            with pytest.raises(StatusError) as caught:
                await client.get().abs_path("/version").do()
            assert is_unauthorized(caught.value)
            token_file.write_text(server.token + "\n")
            now[0] += 49.0  # still within the 50 s the token in hand is trusted
            with pytest.raises(StatusError):
                await client.get().abs_path("/version").do()
            now[0] += 2.0
            assert "gitVersion" in (await client.get().abs_path("/version").do()).json()

    run(main)
