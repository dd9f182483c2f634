"""The README's runtime tour runs as written: against a package generated from the real 1.35
API and kgen.testing's server, through a kubeconfig, in a fresh interpreter."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from kgen.testing import APIServer
from tests.streams.shell import shell

REPO = Path(__file__).resolve().parent.parent


def tour_snippet(which: int = 0) -> str:
    """The tour's first python block (``which=1``: the asyncio one after it)."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## A tour of the runtime", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) > which, "the README's tour lacks a python block"
    return str(blocks[which])


@contextmanager
def tour_cluster(specs_dir: Path, tmp_path: Path) -> Iterator[tuple[APIServer, Path]]:
    """The tour's package (mykube) generated under ``tmp_path`` and a server holding what the
    tour reads (pods web-1, web-2, db-1; deployment web; an exec shell; web-1's log), with
    the kubeconfig written to it."""
    swagger = specs_dir / "kubernetes" / "v1.35" / "swagger.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "kgen",
            "generate",
            "--spec",
            str(swagger),
            "--package",
            "mykube",
            "-o",
            str(tmp_path),
            "--include-group",
            "core/v1",
            "--include-group",
            "apps/v1",
            "-q",
        ],
        check=True,
    )
    # Plain HTTP: as in client-go, a kubeconfig's credentials are only used over TLS, so this
    # server lets anonymous requests in.
    with APIServer(specs=[swagger], allow_anonymous=True) as server:
        session = requests.Session()
        base = f"{server.url}/api/v1/namespaces/default/pods"
        for name, app in (("web-1", "web"), ("web-2", "web"), ("db-1", "db")):
            pod = {
                "metadata": {"name": name, "labels": {"app": app}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            }
            session.post(base, json=pod).raise_for_status()
        deployment = {
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
        session.post(
            f"{server.url}/apis/apps/v1/namespaces/default/deployments", json=deployment
        ).raise_for_status()
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        server.containers.on_exec(shell)
        log = server.containers.log("default", "web-1", "c")
        log.write("booting\nstarted\nready\n")
        log.end()
        yield server, kubeconfig


def test_readme_tour_runs(specs_dir: Path, tmp_path: Path) -> None:
    with tour_cluster(specs_dir, tmp_path) as (_, kubeconfig):
        check = (
            "\nimport json\n"
            "print(json.dumps({'listed': sorted(p.metadata.name for p in pods.items),"
            " 'web': type(web).__name__ + ':' + web.metadata.name,"
            " 'cached': sorted(p.metadata.name for p in running),"
            " 'handled': type(first).__name__ + ':' + str(first.metadata.namespace),"
            " 'scaled': [scaled.spec.replicas, mine.spec.replicas, repr(mine.spec.template)],"
            " 'exec': [output[0].decode(), output[1]]}))\n"
        )
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONPATH": str(tmp_path)}
        out = subprocess.run(
            [sys.executable, "-c", tour_snippet() + check],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[:-1] == ["started", "ready"]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "listed": ["web-1", "web-2"],
        "web": "Deployment:web",
        "cached": ["web-1", "web-2"],
        "handled": "Pod:default",
        "scaled": [3, 2, "UNSET"],
        "exec": ["hi\n", 3],
    }


def test_readme_async_tour_runs(specs_dir: Path, tmp_path: Path) -> None:
    with tour_cluster(specs_dir, tmp_path) as (_, kubeconfig):
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONPATH": str(tmp_path)}
        out = subprocess.run(
            [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", tour_snippet(1)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines() == [
        "PodList ['web-1', 'web-2']",
        "Pod:web-1 Pod:db-1",
        "Scale 1",
        "DELETED db-1",
        "b'hi\\n' 3",
        "['web-1', 'web-2']",
    ]
