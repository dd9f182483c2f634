"""Helpers of the example controllers' tests: waiting for outcomes, and reading the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from kgen.leaderelection import Lease, LeaseSpec
from kgen.meta import UNSET, ObjectMeta
from kgen.rest import RESTClient
from kgen.testing import APIServer

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
IMPORT_PATHS = (str(REPO / "generated"), str(REPO / "examples"))
"""What the examples need on ``sys.path``: the generated package, and each other."""

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


def lease(rest: RESTClient, namespace: str, name: str) -> LeaseSpec:
    """The spec of the Lease ``namespace/name`` as the server has it."""
    got = (
        rest.get()
        .group_version("coordination.k8s.io", "v1")
        .namespace(namespace)
        .resource("leases")
        .name(name)
        .do()
        .into(Lease)
    )
    assert isinstance(got.spec, LeaseSpec)
    return got.spec


def informer_lists(server: APIServer, namespace: str) -> int:
    """How many informer lists (paginated: ``limit=``) of the namespace's PostgresClusters."""
    path = f"/apis/databases.kgen.dev/v1/namespaces/{namespace}/postgresclusters?"
    return sum(
        1 for method, target in server.requests if target.startswith(path) and "limit=" in target
    )


class ExampleProcess:
    """An example script run as a user runs it (``PYTHONPATH`` as in examples/README.md,
    ``KUBECONFIG`` given), as a context manager: leaving stops it with SIGTERM and, when the
    block failed, attaches the script's stderr to the failure. Its stderr goes to a file next
    to the kubeconfig (a pipe nobody reads could fill up and stall the script)."""

    def __init__(self, script: str, *args: str, kubeconfig: Path) -> None:
        self.script = script
        self._log_path = kubeconfig.with_name(f"{script}.stderr")
        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "PYTHONPATH": os.pathsep.join(IMPORT_PATHS),
        }
        with self._log_path.open("w") as log:
            self._process = subprocess.Popen(
                [sys.executable, str(REPO / "examples" / script), *args],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self._result: tuple[int, str] | None = None

    def stop(self) -> tuple[int, str]:
        """SIGTERM (once) and wait: ``(exit status, stderr)``."""
        if self._result is None:
            self._process.send_signal(signal.SIGTERM)
            code = self._process.wait(timeout=60)
            self._result = (code, self._log_path.read_text())
        return self._result

    def wait(self, timeout: float) -> tuple[int, str]:
        """Wait for the script to exit by itself: ``(exit status, stderr)``."""
        code = self._process.wait(timeout=timeout)
        self._result = (code, self._log_path.read_text())
        return self._result

    def __enter__(self) -> ExampleProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _, stderr = self.stop()
        if exc is not None:
            exc.add_note(f"{self.script} stderr:\n{stderr}")
