"""The cache of stored objects' bodies (kgen.testing._encoded): every answer byte for byte the
one the server makes without it, before and after every kind of write.

Each read is served twice over the same tracker, holding the store's lock so nothing changes
in between: by the server's handler (bodies from the cache) and by a handler with
``cache_bodies=False`` (every answer encoded whole, as before the cache). Reads cover LIST
(all namespaces, one namespace, label and field selectors, limit and continue,
resourceVersion 0 / Exact / NotOlderThan), GET, watch from a resourceVersion, each as JSON,
PartialObjectMetadata(List), Table and protobuf, on real pods (the peers' benchmark pods,
1.35 swagger) and on a CRD stored in v1 and served in v1beta1 and v1alpha1. Between the
sweeps come the writes whose bodies must not be served stale: update, merge, strategic and
JSON patches, server-side apply, status, a delete held by a finalizer (deletionTimestamp),
the finalizer's removal, a plain delete, compaction; and the controllers' own writes.
"""

from __future__ import annotations

import importlib
import itertools
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import yaml

from kgen.testing import APIServer
from kgen.testing._encoded import EncodedObjects, StaleBodyError
from kgen.testing._handler import Handler, Request, Response

from .test_controllers import eventually

REPO = Path(__file__).resolve().parents[2]
GROUP = "databases.kgen.dev"
META = "g=meta.k8s.io;v=v1"
ACCEPTS = (
    "",
    "application/json",
    f"application/json;as=PartialObjectMetadataList;{META}",
    f"application/json;as=PartialObjectMetadata;{META}",
    f"application/json;as=Table;{META}",
    "application/vnd.kubernetes.protobuf",
    "application/vnd.kubernetes.protobuf, application/json",
)


class Twin:
    """The server's handler and a cache-less one over the same tracker."""

    def __init__(self, server: APIServer) -> None:
        self.server = server
        self.cached = server.handler
        self.reference = Handler(server.tracker, auth=server.handler.auth, cache_bodies=False)
        self.served = 0

    def call(self, method: str, path: str, body: Any = None, content_type: str = "") -> Any:
        """One write through the server's handler; its JSON answer (2xx asserted)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode() if body else b""
        headers = {"content-type": content_type or "application/json"}
        path, _, query = path.partition("?")
        response = self.cached.handle(Request(method, path, parse_qs(query), headers, data))
        assert 200 <= response.status < 300, response.body
        return json.loads(response.body)

    def same(self, path: str, accept: str = "", frames: int = 0, **query: str) -> tuple[int, bytes]:
        """Serve ``GET path?query`` by both handlers; assert status, headers and body (or the
        first ``frames`` watch frames) are the same; return the status and body."""
        request = Request(
            "GET", path, {k: [v] for k, v in query.items()}, {"accept": accept} if accept else {}
        )
        for _ in range(3):  # a Table's AGE column is wall-clock text: it may tick in between
            with self.server.tracker.store.lock:
                ours, theirs = self.cached.handle(request), self.reference.handle(request)
                mine, other = _content(ours, frames), _content(theirs, frames)
            if mine == other or "as=Table" not in accept:
                break
        assert ours.status == theirs.status, (path, query, accept, ours.body)
        assert ours.headers == theirs.headers, (path, query, accept)
        assert mine == other, (path, query, accept)
        self.served += 1
        return ours.status, mine

    def sweep(self, collections: list[str], since: str) -> None:
        """Every read of the module docstring on each collection (a list path); watches
        replay the events after ``since``."""
        for path in collections:
            for accept in ACCEPTS:
                status = self.same(path, accept)[0]
                if status != 200:
                    continue
                rv = str(self.server.tracker.store.revision)
                for query in (
                    {"resourceVersion": "0"},
                    {"resourceVersion": rv, "resourceVersionMatch": "Exact"},
                    {"resourceVersion": rv, "resourceVersionMatch": "NotOlderThan"},
                    {"labelSelector": "app in (web,db)"},
                    {"labelSelector": "!tier"},
                ):
                    self.same(path, accept, **query)
                self._pages(path, accept)
            if path.endswith("/pods"):
                for selector in ("spec.nodeName=node-1", "status.phase!=Running"):
                    self.same(path, fieldSelector=selector)
            names = [i["metadata"] for i in json.loads(self.same(path)[1])["items"]][:3]
            for meta in names:
                one = f"{_namespaced(path, meta.get('namespace', ''))}/{meta['name']}"
                for accept in ACCEPTS:
                    self.same(one, accept)
            events = self._events_after(path, since)
            for accept in ("", "application/json", ACCEPTS[3], ACCEPTS[4], ACCEPTS[5]):
                self.same(
                    path,
                    accept,
                    frames=events,
                    watch="true",
                    resourceVersion=since,
                    timeoutSeconds="1",
                )

    def _pages(self, path: str, accept: str) -> None:
        token, pages = "", 0
        while pages < 4:
            query = {"limit": "3", **({"continue": token} if token else {})}
            self.same(path, accept, **query)
            status, body = self.same(path, **query)  # the same token in every representation
            token = json.loads(body)["metadata"].get("continue", "") if status == 200 else ""
            pages += 1
            if not token:
                return

    def _events_after(self, path: str, since: str) -> int:
        """How many events a watch of ``path`` from ``since`` replays (at most 50)."""
        parts = path.strip("/").split("/")
        plural, namespace = parts[-1], (
            parts[parts.index("namespaces") + 1] if ("namespaces" in parts[:-1]) else ""
        )
        count = sum(
            1
            for e in self.server.tracker.store._history
            if e.revision > int(since)
            and e.resource[1] == plural
            and (not namespace or e.key[0] == namespace)
        )
        return min(count, 50)


def _content(response: Response, frames: int) -> bytes:
    if response.stream is None:
        return response.body
    try:
        return b"".join(itertools.islice(response.stream, frames))
    finally:
        response.close()


def _namespaced(collection: str, namespace: str) -> str:
    if not namespace or "/namespaces/" in collection:
        return collection
    prefix, _, plural = collection.rpartition("/")
    return f"{prefix}/namespaces/{namespace}/{plural}"


def _realistic_pods(specs_dir: Path, count: int) -> list[dict[str, Any]]:
    """The deterministic pods of the peers' benchmark (``bench-peers/make_pods.py``)."""
    sys.path.insert(0, str(specs_dir.parent / "bench-peers"))
    try:
        make_pods = importlib.import_module("make_pods")
    finally:
        sys.path.pop(0)
    pods: list[dict[str, Any]] = make_pods.make_pod_list(count, 1)["items"]
    for i, pod in enumerate(pods):
        meta = pod["metadata"]
        for field in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
            meta.pop(field, None)
        meta["labels"] = {**(meta.get("labels") or {}), "app": ("web", "db", "cache")[i % 3]}
        if i % 2:
            meta["labels"]["tier"] = "fe"
        pod["spec"]["nodeName"] = f"node-{i % 3}"
    return pods


@pytest.fixture
def twin(specs_dir: Path, tmp_path: Path) -> Iterator[Twin]:
    example = REPO / "openapi-specs" / "databases.kgen.dev.yaml"
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "swagger.json", example],
        allow_anonymous=True,
        window=10_000,
    ) as server:
        tracker = server.tracker
        namespaces = tracker.resource("", "v1", "namespaces")
        pods = tracker.resource("", "v1", "pods")
        for pod in _realistic_pods(specs_dir, 24):
            namespace = pod["metadata"]["namespace"]
            if tracker.store.get(namespaces.key, ("", namespace)) is None:
                tracker.create(namespaces, "", {"metadata": {"name": namespace}})
            tracker.create(pods, namespace, pod)
        yield Twin(server)


def _cluster(name: str, version: str = "v1", **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"version": "16", "replicas": 2}
    spec |= {"storage": {"size": "10Gi"}} if version == "v1" else {"storageSize": "10Gi"}
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "PostgresCluster",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
    }


CLUSTERS = "/apis/databases.kgen.dev/{}/namespaces/default/postgresclusters"
COLLECTIONS = [
    "/api/v1/pods",
    "/api/v1/namespaces/team-a/pods",
    "/api/v1/namespaces",
    CLUSTERS.format("v1"),
    CLUSTERS.format("v1beta1"),
    CLUSTERS.format("v1alpha1"),
]


def test_every_read_is_the_same_before_and_after_every_write(twin: Twin) -> None:
    start = str(twin.server.tracker.store.revision)
    twin.call("POST", CLUSTERS.format("v1"), _cluster("orders", app="web"))
    twin.call("POST", CLUSTERS.format("v1beta1"), _cluster("billing", "v1beta1", app="db"))
    twin.sweep(COLLECTIONS, start)
    assert twin.cached.encoded is not None and len(twin.cached.encoded) > 2 * 24  # JSON, protobuf
    pod = (
        "/api/v1/namespaces/team-a/pods/"
        + json.loads(twin.same("/api/v1/namespaces/team-a/pods")[1])["items"][0]["metadata"]["name"]
    )
    cluster = CLUSTERS.format("v1") + "/orders"
    current = twin.call("GET", pod)
    current["metadata"]["labels"]["app"] = "updated"
    writes: list[tuple[str, str, Any, str]] = [
        ("PUT", pod, current, ""),
        ("PATCH", pod, {"metadata": {"labels": {"tier": "be"}}}, "application/merge-patch+json"),
        (
            "PATCH",
            pod,
            {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}},
            "application/strategic-merge-patch+json",
        ),
        (
            "PATCH",
            pod,
            [{"op": "add", "path": "/metadata/annotations/checked", "value": "yes"}],
            "application/json-patch+json",
        ),
        (
            "PATCH",
            pod + "?fieldManager=tester&force=true",
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": pod.rpartition("/")[2], "labels": {"owner": "me"}},
                }
            ).encode(),
            "application/apply-patch+yaml",
        ),
        (
            "PATCH",
            cluster,
            {"metadata": {"labels": {"app": "cache"}}},
            "application/merge-patch+json",
        ),
        (
            "PATCH",
            CLUSTERS.format("v1alpha1") + "/billing",
            {"spec": {"replicas": 3}},
            "application/merge-patch+json",
        ),
    ]
    for method, path, body, content_type in writes:
        before = twin.same(path.partition("?")[0])[1]
        answer = twin.call(method, path, body, content_type)
        assert twin.same(path.partition("?")[0])[1] != before, (method, path)
        assert json.loads(twin.same(path.partition("?")[0])[1]) == answer
        twin.sweep(COLLECTIONS[:2] + COLLECTIONS[3:4], start)
    status = twin.call("GET", pod)
    status["status"]["phase"] = "Failed"
    twin.call("PUT", pod + "/status", status)
    assert json.loads(twin.same(pod)[1])["status"]["phase"] == "Failed"
    twin.call(
        "PATCH",
        pod,
        {"metadata": {"finalizers": ["kgen.dev/hold"]}},
        "application/merge-patch+json",
    )
    twin.call("DELETE", pod)
    held = json.loads(twin.same(pod)[1])
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["finalizers"]
    twin.sweep(COLLECTIONS[:2], start)
    twin.call("PATCH", pod, {"metadata": {"finalizers": None}}, "application/merge-patch+json")
    assert twin.same(pod)[0] == 404
    twin.call("DELETE", cluster)
    assert twin.same(cluster)[0] == 404
    twin.sweep(COLLECTIONS, start)
    twin.server.compact()
    twin.sweep(COLLECTIONS, str(twin.server.tracker.store.revision))
    assert twin.same("/api/v1/pods", resourceVersion=start, resourceVersionMatch="Exact")[0] == 410
    assert twin.served > 500


def test_the_cache_keeps_only_stored_objects_and_drops_replaced_ones(twin: Twin) -> None:
    encoded = twin.cached.encoded
    assert encoded is not None
    twin.same("/api/v1/pods")
    pods = len(
        twin.server.tracker.list(twin.server.tracker.resource("", "v1", "pods"), "")["items"]
    )
    kept = len(encoded)
    assert kept == pods  # one body per listed pod, nothing else (the list's envelope is not kept)
    listed = json.loads(twin.same("/api/v1/namespaces/team-a/pods")[1])["items"]
    name = listed[0]["metadata"]["name"]
    twin.call(
        "PATCH",
        f"/api/v1/namespaces/team-a/pods/{name}",
        {"metadata": {"labels": {"changed": "1"}}},
        "application/merge-patch+json",
    )
    assert len(encoded) == kept - 1  # the replaced object's body went with the event
    twin.call("DELETE", f"/api/v1/namespaces/team-a/pods/{listed[1]['metadata']['name']}")
    assert len(encoded) == kept - 2
    start = str(twin.server.tracker.store.revision - 2)
    twin.same("/api/v1/namespaces/team-a/pods", frames=2, watch="true", resourceVersion=start)
    assert len(encoded) == kept - 1  # the event's current object is kept, the deleted one not
    twin.same(CLUSTERS.format("v1beta1"))
    assert len(encoded) == kept - 1  # converted objects are not the stored ones


def test_a_stored_object_mutated_in_place_is_caught_when_checking(twin: Twin) -> None:
    store = twin.server.tracker.store
    encoded = EncodedObjects(store, check=True)
    obj = store.get(
        ("", "pods"),
        (
            "team-a",
            twin.server.tracker.list(twin.server.tracker.resource("", "v1", "pods"), "team-a")[
                "items"
            ][0]["metadata"]["name"],
        ),
    )
    assert obj is not None
    first = encoded.json(("", "pods"), obj)
    assert encoded.json(("", "pods"), obj) is first  # served from the cache
    obj["metadata"]["labels"]["sneaky"] = "edit"  # what no caller may do to a stored object
    try:
        with pytest.raises(StaleBodyError, match="mutated after its body was cached"):
            encoded.json(("", "pods"), obj)
    finally:
        del obj["metadata"]["labels"]["sneaky"]


def test_controllers_writes_are_served_fresh(specs_dir: Path) -> None:
    with APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "swagger.json"],
        allow_anonymous=True,
        controllers=True,
    ) as server:
        twin = Twin(server)
        start = str(server.tracker.store.revision)
        labels = {"app": "web"}
        twin.call(
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            {
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
                    },
                },
            },
        )
        collections = [
            "/api/v1/namespaces/default/pods",
            "/apis/apps/v1/namespaces/default/replicasets",
            "/apis/apps/v1/namespaces/default/deployments",
        ]

        def available() -> bool | None:
            twin.sweep(collections, start)  # reads while the controllers write
            status = json.loads(twin.same(collections[2] + "/web")[1]).get("status") or {}
            return status.get("availableReplicas") == 3 or None

        eventually(available, "three available replicas", timeout=30)
        twin.call(
            "PATCH",
            collections[2] + "/web",
            {"spec": {"replicas": 1}},
            "application/merge-patch+json",
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            twin.sweep(collections, start)
            if len(json.loads(twin.same(collections[0])[1])["items"]) == 1:
                break
        assert len(json.loads(twin.same(collections[0])[1])["items"]) == 1
