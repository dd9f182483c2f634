from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kgen.rest import Config, RESTClient
from kgen.spec import load
from kgen.spec.model import APIModel
from kgen.testing import APIServer


@pytest.fixture(scope="session")
def kube_model(specs_dir: Path) -> APIModel:
    """Kubernetes 1.30 plus the cert-manager CRDs, as kgen.testing serves them."""
    return load(
        [
            specs_dir / "kubernetes" / "v1.30" / "swagger.json",
            specs_dir / "crds" / "cert-manager" / "cert-manager.crds.yaml",
        ],
        [],
    )


@pytest.fixture
def api(kube_model: APIModel) -> Iterator[tuple[APIServer, RESTClient]]:
    """A running in-process API server and a REST client authenticated to it."""
    with (
        APIServer(kube_model) as server,
        RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest,
    ):
        yield server, rest
