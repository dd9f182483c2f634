"""Helpers of the example controllers' tests: waiting for outcomes, and reading the server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from kgen.meta import UNSET, ObjectMeta
from kgen.rest import RESTClient

T = TypeVar("T")

WAIT = 20.0
"""Seconds an outcome may take before a test fails (generous: CI machines are shared)."""


def eventually(check: Callable[[], T], what: str, timeout: float = WAIT) -> T:
    """Poll ``check`` until it returns something truthy (returned); fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {what} (last: {result!r})")
        time.sleep(0.02)


def create_namespace(rest: RESTClient, name: str) -> None:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    rest.post().group_version("", "v1").resource("namespaces").body(body).do()


def core(rest: RESTClient, verb: str, namespace: str, resource: str, name: str = "") -> Any:
    """GET (``verb="get"``) or DELETE a core/v1 object or collection, as JSON."""
    request = getattr(rest, verb)().group_version("", "v1").namespace(namespace).resource(resource)
    if name:
        request = request.name(name)
    return request.do().json()


def events(rest: RESTClient, namespace: str) -> list[dict[str, Any]]:
    """Every core/v1 Event of ``namespace``."""
    items: list[dict[str, Any]] = core(rest, "get", namespace, "events")["items"]
    return items


def event_summary(rest: RESTClient, namespace: str) -> set[tuple[str, str, str, str]]:
    """``(object name, type, reason, reporting instance)`` of the Events of ``namespace``."""
    return {
        (
            e["involvedObject"]["name"],
            e["type"],
            e["reason"],
            e.get("reportingInstance") or e.get("source", {}).get("host", ""),
        )
        for e in events(rest, namespace)
    }


def new_cluster(name: str, **spec: Any) -> Any:
    """A PostgresCluster (10Gi of storage, ``profile`` if given) with ``spec`` fields."""
    from kgen_databases.models import databases_v1 as m

    storage = m.PostgresClusterSpecStorage(size="10Gi", profile=spec.pop("profile", UNSET))
    return m.PostgresCluster(
        metadata=ObjectMeta(name=name), spec=m.PostgresClusterSpec(storage=storage, **spec)
    )


def status_of(clientset: Any, namespace: str, name: str) -> Any:
    """The status of a PostgresCluster as the server has it (falsy when never written)."""
    return clientset.databases_v1.postgres_clusters(namespace).get(name).status
