"""Importing a generated clientset, its models and its informers loads none of the heavy
libraries: requests/urllib3 come with the first REST client, yaml with the first kubeconfig,
aiohttp and websockets with the first async client or stream, the spec readers only with the
generator. Each check runs in a fresh interpreter; the names stay importable (they load on
first use). The time this saves is measured by ``python -m bench import``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("requests", "urllib3", "yaml", "aiohttp", "websockets", "jinja2", "black", "ssl")
LAZY_KGEN = ("kgen.spec._load", "kgen.spec._documents", "kgen.config", "kgen.discovery")

_IMPORT = """
import json, sys
import kgen_databases.clientset, kgen_databases.models.databases_v1
import kgen_databases.informers.databases_v1
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str, tmp_path: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PYTHONPATH": f"{REPO}:{REPO / 'generated'}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_generated_package_imports_without_the_heavy_libraries(tmp_path: Path) -> None:
    loaded = _modules_after(_IMPORT, tmp_path)
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert not loaded & set(LAZY_KGEN)


def test_the_lazy_names_load_on_first_use(tmp_path: Path) -> None:
    code = _IMPORT.replace(
        "print(",
        """from kgen.rest import Config
from kgen.streams import open_async_logs, AsyncExecSession
from kgen.spec import load, Document
from kgen_databases.clientset import Clientset
cs = Clientset(Config(host="https://127.0.0.1:1"))
assert cs.discovery.__class__.__name__ == "DiscoveryClient"
assert callable(open_async_logs) and callable(load) and Document.__name__ == "Document"
print(""",
        1,
    )
    loaded = _modules_after(code, tmp_path)
    for module in (
        "requests",
        "aiohttp",
        "kgen.spec._load",
        "kgen.discovery",
        "kgen.rest._adapter",
    ):
        assert module in loaded, module
