"""Fixtures of the async typed client tests: a package generated from the real 1.35 swagger
(models, apply configurations, both clientsets, listers, both informer flavors), importable as
``aiok135``, and kgen.testing's server over TLS with token auth on the same document. Tests run their coroutines with
:func:`tests.rest_async.conftest.run` (asyncio debug mode, failing on pending tasks and
ResourceWarnings)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.generator.emit import render_package
from kgen.rest import Config
from kgen.spec import load
from kgen.testing import APIServer

PACKAGE = "aiok135"
SWAGGER = "kubernetes/v1.35/swagger.json"


@pytest.fixture(scope="session")
def generated(specs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package, unformatted (layout only differs), on sys.path meanwhile."""
    root = tmp_path_factory.mktemp("aio")
    api = load([specs_dir / SWAGGER])
    emitters = ("models", "applyconfigurations", "clientset", "listers", "informers")
    rendered = render_package(api, PACKAGE, emitters, input_hash="test", formatted=False)
    for files in rendered.values():
        for rel, text in files.items():
            target = root / PACKAGE / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in list(sys.modules):
        if name.split(".")[0] == PACKAGE:
            del sys.modules[name]


def module(name: str) -> Any:
    """``aiok135.<name>``."""
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="module")
def server(specs_dir: Path) -> Iterator[APIServer]:
    with APIServer(
        specs=[specs_dir / SWAGGER],
        tls="self-signed",
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_handlers(server: APIServer) -> Iterator[None]:
    yield
    server.containers.clear()
    server.faults.clear()


@pytest.fixture
def config(server: APIServer) -> Config:
    """An unthrottled config for ``server``: its CA and its token."""
    assert server.ca_pem is not None
    return Config(host=server.url, ca_data=server.ca_pem, bearer_token=server.token, qps=-1)
