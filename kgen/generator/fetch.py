"""``--from-cluster`` and ``kgen fetch-specs``: saving a live server's API documents to files.

The documents are saved under the names Kubernetes itself publishes them with, so the folder
can be given back to ``kgen generate --spec/--discovery`` later:

* OpenAPI v3 (preferred): ``openapi-v3/<path with / as __>_openapi.json`` for every group/version
  listed by ``/openapi/v3`` (``api__v1_openapi.json``, ``apis__apps__v1_openapi.json``);
  OpenAPI v2 when the server has no v3: ``swagger.json``.
* Discovery: ``discovery/api.json`` and ``discovery/apis.json`` as aggregated discovery
  (apidiscovery.k8s.io/v2) when the server offers it, else the legacy documents.

The connection comes from the current kubeconfig through :mod:`kgen.rest`. Runs in the
calling thread; blocks on network I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests

from kgen.config import ConfigError, load_kubeconfig
from kgen.discovery import AGGREGATED_ACCEPT
from kgen.rest import RESTClient, StatusError, UnexpectedResponseError, is_not_found

__all__ = ["FetchError", "Fetched", "fetch_documents"]


class FetchError(Exception):
    """The cluster's documents could not be fetched; the message says which and why."""


@dataclass(frozen=True)
class Fetched:
    """What was saved: the spec documents (or folder) and the discovery documents."""

    specs: tuple[Path, ...]
    discovery: tuple[Path, ...]


def _get(rest: RESTClient, url: str, accept: str = "application/json") -> bytes:
    parts = urlsplit(url)
    request = rest.get().abs_path(parts.path).header("Accept", accept)
    for key, value in parse_qsl(parts.query):
        request = request.param(key, value)
    return request.do().body


def _openapi(rest: RESTClient, folder: Path) -> Path:
    try:
        index = json.loads(_get(rest, "/openapi/v3"))
    except StatusError as exc:
        if not is_not_found(exc):
            raise
        target = folder / "swagger.json"
        target.write_bytes(_get(rest, "/openapi/v2"))
        return target
    v3 = folder / "openapi-v3"
    v3.mkdir(parents=True, exist_ok=True)
    for path, entry in sorted(index.get("paths", {}).items()):
        segments = path.split("/")
        is_group_version = (segments[0] == "api" and len(segments) == 2) or (
            segments[0] == "apis" and len(segments) == 3
        )
        if is_group_version:
            url = entry.get("serverRelativeURL") or f"/openapi/v3/{path}"
            (v3 / f"{'__'.join(segments)}_openapi.json").write_bytes(_get(rest, url))
    return v3


def _discovery(rest: RESTClient, folder: Path) -> list[Path]:
    target = folder / "discovery"
    target.mkdir(parents=True, exist_ok=True)
    saved = []
    for root in ("api", "apis"):
        body = _get(rest, f"/{root}", accept=f"{AGGREGATED_ACCEPT}, application/json")
        path = target / f"{root}.json"
        path.write_bytes(body)
        saved.append(path)
        if json.loads(body).get("kind") == "APIGroupDiscoveryList":
            continue
        # legacy discovery: one APIResourceList per group/version
        listing = json.loads(body)
        if root == "api":
            group_versions = [f"api/{v}" for v in listing.get("versions", [])]
        else:
            group_versions = [
                f"apis/{v['groupVersion']}"
                for g in listing.get("groups", [])
                for v in g.get("versions", [])
            ]
        for gv in group_versions:
            path = target / f"{gv.replace('/', '__')}.json"
            path.write_bytes(_get(rest, f"/{gv}"))
            saved.append(path)
    return saved


def fetch_documents(folder: Path) -> Fetched:
    """Save the current kubeconfig cluster's OpenAPI and discovery documents under ``folder``.

    Raises :class:`FetchError` (kubeconfig unusable, server unreachable or refusing)."""
    try:
        config = load_kubeconfig()
    except ConfigError as exc:
        raise FetchError(f"cannot use the kubeconfig: {exc}") from exc
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with RESTClient(config) as rest:
            spec = _openapi(rest, folder)
            discovery = _discovery(rest, folder)
    except (StatusError, UnexpectedResponseError, requests.RequestException, ValueError) as exc:
        raise FetchError(f"cannot fetch the API documents from {config.host}: {exc}") from exc
    except OSError as exc:
        raise FetchError(f"cannot save the API documents in {folder}: {exc}") from exc
    return Fetched((spec,), tuple(discovery))
