"""kgen.testing's in-process API server, loaded with Kubernetes 1.30 and the cert-manager CRDs,
for the end-to-end tests of the client, discovery, restmapper and dynamic packages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from kgen.rest import Config, RESTClient
from kgen.spec import load
from kgen.spec.model import APIModel
from kgen.testing import APIServer


@cache
def kube_model(specs_dir: Path) -> APIModel:
    """Built once per session (the model is read-only once loaded)."""
    return load(
        [
            specs_dir / "kubernetes" / "v1.30" / "swagger.json",
            specs_dir / "crds" / "cert-manager" / "cert-manager.crds.yaml",
        ],
        [],
    )


@contextmanager
def running_api(specs_dir: Path) -> Iterator[tuple[APIServer, RESTClient]]:
    """A running API server and a REST client authenticated to it; both stopped afterwards."""
    with (
        APIServer(kube_model(specs_dir)) as server,
        RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest,
    ):
        yield server, rest
