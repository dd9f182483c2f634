"""CRD versions: custom resources stored in the storage version and served in the version a
request names, through the CRD's conversion strategy (``None``, and ``Webhook`` answered by a
Python hook), judged by kgen's dynamic client, the generated typed client of kgen's example API
(openapi-specs/databases.kgen.dev.yaml: v1 stored, v1beta1 and v1alpha1 served), the Gateway
API CRDs and two kubectl versions."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kgen.client import GroupVersionResource
from kgen.dynamic import DynamicClient, DynamicResourceClient
from kgen.rest import Config, RESTClient, StatusError
from kgen.testing import APIServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "openapi-specs" / "databases.kgen.dev.yaml"
GROUP = "databases.kgen.dev"
CRD = f"postgresclusters.{GROUP}"
CRDS = GroupVersionResource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
KUBECTLS = ["kubectl", "/usr/lib/google-cloud-sdk/bin/kubectl.1.30"]


def _clusters(version: str) -> GroupVersionResource:
    return GroupVersionResource(GROUP, version, "postgresclusters")


def _manifests(strategy: str) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]
    if strategy == "Webhook":
        docs[0]["spec"]["conversion"] = {
            "strategy": "Webhook",
            "webhook": {
                "conversionReviewVersions": ["v1"],
                "clientConfig": {
                    "service": {"name": "pg-webhook", "namespace": "operators", "path": "/convert"}
                },
            },
        }
    return docs


def _server(tmp: Path, specs_dir: Path, strategy: str, **extra: Any) -> APIServer:
    path = tmp / f"databases-{strategy}.yaml"
    path.write_text(yaml.safe_dump_all(_manifests(strategy)))
    gateway = specs_dir / "crds" / "gateway-api"
    return APIServer(
        specs=[
            specs_dir / "kubernetes" / "v1.35" / "swagger.json",
            path,
            gateway / "gateway.networking.k8s.io_gatewayclasses.yaml",
            gateway / "gateway.networking.k8s.io_referencegrants.yaml",
        ],
        **extra,
    )


@pytest.fixture(scope="module")
def plain(specs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIServer]:
    """The example CRD as shipped (strategy None)."""
    with _server(tmp_path_factory.mktemp("none"), specs_dir, "None") as server:
        yield server


@pytest.fixture(scope="module")
def hooked(specs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIServer]:
    """The example CRD with ``conversion.strategy: Webhook``."""
    folder = tmp_path_factory.mktemp("webhook")
    with _server(folder, specs_dir, "Webhook", allow_anonymous=True) as server:
        yield server


def _dynamic(server: APIServer) -> Iterator[DynamicClient]:
    with RESTClient(Config(host=server.url, bearer_token=server.token, qps=-1)) as rest:
        yield DynamicClient(rest)


@pytest.fixture
def plain_client(plain: APIServer) -> Iterator[DynamicClient]:
    yield from _dynamic(plain)


@pytest.fixture
def hooked_client(hooked: APIServer) -> Iterator[DynamicClient]:
    hooked.on_convert(CRD, None)
    yield from _dynamic(hooked)
    hooked.on_convert(CRD, None)


def _in(client: DynamicClient, version: str) -> DynamicResourceClient:
    return client.resource(_clusters(version)).namespace("default")


def _stored(server: APIServer, name: str) -> dict[str, Any]:
    found = server.tracker.store.get((GROUP, "postgresclusters"), ("default", name))
    assert found is not None
    return found


def _v1beta1(name: str, size: str = "10Gi", **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1beta1",
        "kind": "PostgresCluster",
        "metadata": {"name": name, **meta},
        "spec": {"version": "16", "replicas": 2, "storageSize": size},
    }


def _v1(name: str, size: str = "10Gi") -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "PostgresCluster",
        "metadata": {"name": name},
        "spec": {"version": "16", "replicas": 2, "storage": {"size": size}},
    }


# --- strategy None -------------------------------------------------------------------------


def test_none_stores_in_the_storage_version_and_serves_every_version(
    plain: APIServer, plain_client: DynamicClient
) -> None:
    created = _in(plain_client, "v1beta1").create(_v1beta1("orders"))
    assert created["apiVersion"] == f"{GROUP}/v1beta1"
    stored = _stored(plain, "orders")
    assert stored["apiVersion"] == f"{GROUP}/v1"  # the storage version
    # None converts apiVersion only; what v1's schema lacks is then pruned, as on a cluster
    assert stored["spec"] == {"version": "16", "replicas": 2}
    assert created["spec"] == {"version": "16", "replicas": 2}
    alpha = _in(plain_client, "v1alpha1").get("orders")
    assert alpha["apiVersion"] == f"{GROUP}/v1alpha1"
    assert alpha["spec"] == created["spec"]  # None: only apiVersion changes
    assert alpha["metadata"]["uid"] == created["metadata"]["uid"]
    listed = _in(plain_client, "v1alpha1").list()
    assert listed["apiVersion"] == f"{GROUP}/v1alpha1"
    assert {i["apiVersion"] for i in listed["items"]} == {f"{GROUP}/v1alpha1"}


def test_none_watch_events_come_in_the_watched_version(
    plain: APIServer, plain_client: DynamicClient
) -> None:
    start = _in(plain_client, "v1").list()["metadata"]["resourceVersion"]
    _in(plain_client, "v1").create(_v1("watched"))
    with _in(plain_client, "v1alpha1").watch(resource_version=start, timeout_seconds=5) as watch:
        event = next(e for e in watch if e.object["metadata"]["name"] == "watched")
    assert event.type == "ADDED"
    assert event.object["apiVersion"] == f"{GROUP}/v1alpha1"


def test_gateway_crd_with_an_older_storage_version(plain_client: DynamicClient) -> None:
    grants = plain_client.resource(
        GroupVersionResource("gateway.networking.k8s.io", "v1", "referencegrants")
    ).namespace("default")
    grant = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "ReferenceGrant",
        "metadata": {"name": "g"},
        "spec": {
            "from": [{"group": "", "kind": "Service", "namespace": "other"}],
            "to": [{"group": "", "kind": "Secret"}],
        },
    }
    created = grants.create(grant)
    assert created["apiVersion"] == "gateway.networking.k8s.io/v1"
    beta = plain_client.resource(
        GroupVersionResource("gateway.networking.k8s.io", "v1beta1", "referencegrants")
    ).namespace("default")
    assert beta.get("g")["apiVersion"] == "gateway.networking.k8s.io/v1beta1"


def test_writes_in_any_version_keep_managed_fields_per_version(
    plain: APIServer, plain_client: DynamicClient
) -> None:
    v1 = _in(plain_client, "v1")
    v1.apply(_v1("owned"), field_manager="v1-writer")
    _in(plain_client, "v1alpha1").apply(  # v1alpha1 keeps any spec: None loses nothing
        {
            "apiVersion": f"{GROUP}/v1alpha1",
            "kind": "PostgresCluster",
            "metadata": {"name": "owned", "labels": {"tier": "gold"}},
        },
        field_manager="alpha-writer",
    )
    stored = _stored(plain, "owned")
    assert stored["apiVersion"] == f"{GROUP}/v1" and stored["spec"]["storage"] == {"size": "10Gi"}
    assert stored["metadata"]["labels"] == {"tier": "gold"}
    managed = {m["manager"]: m["apiVersion"] for m in v1.get("owned")["metadata"]["managedFields"]}
    assert managed == {"v1-writer": f"{GROUP}/v1", "alpha-writer": f"{GROUP}/v1alpha1"}
    patched = _in(plain_client, "v1alpha1").patch(
        "owned", {"spec": {"replicas": 5}}, "application/merge-patch+json"
    )
    assert patched["apiVersion"] == f"{GROUP}/v1alpha1" and patched["spec"]["replicas"] == 5
    assert _stored(plain, "owned")["apiVersion"] == f"{GROUP}/v1"


def test_changing_the_storage_version_keeps_old_objects_and_records_stored_versions(
    plain: APIServer, plain_client: DynamicClient
) -> None:
    _in(plain_client, "v1").create(_v1("before"))
    crds = plain_client.resource(CRDS)
    crd = crds.get(CRD)
    assert crd["status"]["storedVersions"] == ["v1"]
    for version in crd["spec"]["versions"]:
        version["storage"] = version["name"] == "v1beta1"
    crds.update(crd)
    try:
        assert crds.get(CRD)["status"]["storedVersions"] == ["v1", "v1beta1"]
        _in(plain_client, "v1").create(_v1("after"))
        assert _stored(plain, "after")["apiVersion"] == f"{GROUP}/v1beta1"
        assert _stored(plain, "before")["apiVersion"] == f"{GROUP}/v1"
        for version in ("v1", "v1beta1", "v1alpha1"):
            assert _in(plain_client, version).get("before")["apiVersion"] == f"{GROUP}/{version}"
    finally:
        crd = crds.get(CRD)
        for version in crd["spec"]["versions"]:
            version["storage"] = version["name"] == "v1"
        crds.update(crd)
    assert crds.get(CRD)["status"]["storedVersions"] == ["v1", "v1beta1"]  # never forgotten


# --- strategy Webhook -----------------------------------------------------------------------


class SizeConverter:
    """v1beta1 ``spec.storageSize`` <-> v1 ``spec.storage.size``: a real conversion."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, obj: dict[str, Any], desired: str) -> dict[str, Any]:
        self.calls.append((obj["apiVersion"], desired, obj["metadata"]["name"]))
        spec = obj.get("spec") or {}
        if desired.endswith("/v1"):
            size = spec.pop("storageSize", None)
            if size is not None:
                spec["storage"] = {"size": size}
        else:
            storage = spec.pop("storage", None) or {}
            if "size" in storage:
                spec["storageSize"] = storage["size"]
        obj["apiVersion"] = desired
        return obj


def test_webhook_converts_writes_to_storage_and_reads_back(
    hooked: APIServer, hooked_client: DynamicClient
) -> None:
    convert = SizeConverter()
    hooked.on_convert(CRD, convert)
    created = _in(hooked_client, "v1beta1").create(_v1beta1("sized", "20Gi"))
    assert created["spec"]["storageSize"] == "20Gi"
    stored = _stored(hooked, "sized")
    assert stored["apiVersion"] == f"{GROUP}/v1"
    assert stored["spec"]["storage"] == {"size": "20Gi"} and "storageSize" not in stored["spec"]
    assert convert.calls == [  # to storage, then the answer back in the request's version
        (f"{GROUP}/v1beta1", f"{GROUP}/v1", "sized"),
        (f"{GROUP}/v1", f"{GROUP}/v1beta1", "sized"),
    ]
    convert.calls.clear()
    assert _in(hooked_client, "v1").get("sized")["spec"]["storage"] == {"size": "20Gi"}
    assert convert.calls == []  # the storage version needs no conversion
    listed = _in(hooked_client, "v1beta1").list()
    assert [i["spec"]["storageSize"] for i in listed["items"]] == ["20Gi"]
    assert listed["items"][0]["apiVersion"] == f"{GROUP}/v1beta1"


def test_webhook_list_is_one_review_and_watch_converts_events(
    hooked: APIServer, hooked_client: DynamicClient
) -> None:
    reviews: list[dict[str, Any]] = []
    convert = SizeConverter()

    def handle(review: dict[str, Any]) -> dict[str, Any]:
        reviews.append(copy.deepcopy(review))
        request = review["request"]
        return {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "ConversionReview",
            "response": {
                "uid": request["uid"],
                "convertedObjects": [
                    convert(o, request["desiredAPIVersion"]) for o in request["objects"]
                ],
                "result": {"status": "Success"},
            },
        }

    hooked.on_conversion_review(CRD, handle)
    beta = _in(hooked_client, "v1beta1")
    for name in ("w1", "w2"):
        beta.create(_v1beta1(name))
    start = beta.list()["metadata"]["resourceVersion"]
    reviews.clear()
    alpha = _in(hooked_client, "v1alpha1")
    items = alpha.list()["items"]
    assert len(reviews) == 1 and len(reviews[0]["request"]["objects"]) == len(items) >= 2
    assert reviews[0]["apiVersion"] == "apiextensions.k8s.io/v1"
    assert reviews[0]["request"]["desiredAPIVersion"] == f"{GROUP}/v1alpha1"
    with beta.watch(resource_version=start, timeout_seconds=5) as watch:
        beta.patch("w1", {"metadata": {"labels": {"a": "b"}}}, "application/merge-patch+json")
        event = next(e for e in watch if e.type == "MODIFIED")
    assert event.object["apiVersion"] == f"{GROUP}/v1beta1"
    assert event.object["spec"]["storageSize"] == "10Gi"


def test_webhook_without_a_hook_fails_as_an_unreachable_webhook(
    hooked: APIServer, hooked_client: DynamicClient
) -> None:
    with pytest.raises(StatusError) as failed:
        _in(hooked_client, "v1beta1").create(_v1beta1("nohook"))
    assert failed.value.code == 500 and failed.value.reason == "InternalError"
    assert str(failed.value) == (
        f"Internal error occurred: conversion webhook for {GROUP}/v1beta1, Kind=PostgresCluster "
        'failed: Post "https://pg-webhook.operators.svc:443/convert?timeout=30s": no conversion '
        f"hook is registered for {CRD} (kgen.testing: APIServer.on_convert)"
    )
    v1 = _in(hooked_client, "v1")  # the storage version needs no webhook
    v1.create(_v1("stored-v1"))
    assert v1.get("stored-v1")["apiVersion"] == f"{GROUP}/v1"
    with pytest.raises(StatusError) as read:
        _in(hooked_client, "v1beta1").get("stored-v1")
    assert read.value.code == 500 and read.value.reason == ""
    assert str(read.value).startswith(
        f"conversion webhook for {GROUP}/v1, Kind=PostgresCluster failed: Post "
    )


def _failing(hooked: APIServer, client: DynamicClient, hook: Any) -> str:
    _in(client, "v1").create(_v1("victim"))
    hooked.on_convert(CRD, hook)
    try:
        with pytest.raises(StatusError) as failed:
            _in(client, "v1beta1").get("victim")
        assert failed.value.code == 500
        return str(failed.value)
    finally:
        hooked.on_convert(CRD, None)
        _in(client, "v1").delete("victim")


def test_webhook_answers_are_checked_as_kube_apiserver_checks_them(
    hooked: APIServer, hooked_client: DynamicClient
) -> None:
    gvk = f"conversion webhook for {GROUP}/v1, Kind=PostgresCluster"

    def renames(obj: dict[str, Any], desired: str) -> dict[str, Any]:
        obj["metadata"]["name"] = "other"
        return obj | {"apiVersion": desired}

    assert _failing(hooked, hooked_client, renames) == (
        f"{gvk} returned invalid object: must have the same name: victim != other"
    )

    def wrong_version(obj: dict[str, Any], desired: str) -> dict[str, Any]:
        return obj

    assert _failing(hooked, hooked_client, wrong_version) == (
        f"{gvk} returned invalid object at index 0: invalid groupVersion "
        f"(expected {GROUP}/v1beta1, received {GROUP}/v1)"
    )

    def raises(obj: dict[str, Any], desired: str) -> dict[str, Any]:
        raise RuntimeError("cannot convert v1 storage sizes")

    assert _failing(hooked, hooked_client, raises) == (
        f"{gvk} failed: cannot convert v1 storage sizes"
    )

    def new_uid(obj: dict[str, Any], desired: str) -> dict[str, Any]:
        obj["metadata"]["uid"] = "0000"
        return obj | {"apiVersion": desired}

    assert "must have the same UID" in _failing(hooked, hooked_client, new_uid)


def test_webhook_review_answers_are_checked(
    hooked: APIServer, hooked_client: DynamicClient
) -> None:
    gvk = f"conversion webhook for {GROUP}/v1, Kind=PostgresCluster"
    _in(hooked_client, "v1").create(_v1("reviewed"))

    def answer(review: dict[str, Any], **response: Any) -> dict[str, Any]:
        return {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "ConversionReview",
            "response": {"uid": review["request"]["uid"], "result": {"status": "Success"}}
            | response,
        }

    cases = {
        "none back": (
            lambda r: answer(r, convertedObjects=[]),
            f"{gvk} returned 0 objects, expected 1",
        ),
        "wrong uid": (
            lambda r: answer(r) | {"response": {"uid": "x"}},
            f'{gvk} failed: expected response.uid="',
        ),
        "failure": (
            lambda r: answer(r, result={"status": "Failure", "message": "sizes differ"}),
            f"{gvk} failed: sizes differ",
        ),
    }
    try:
        for hook, expected in cases.values():
            hooked.on_conversion_review(CRD, hook)
            with pytest.raises(StatusError) as failed:
                _in(hooked_client, "v1beta1").get("reviewed")
            assert str(failed.value).startswith(expected)
        with pytest.raises(StatusError) as listed:
            _in(hooked_client, "v1beta1").list()
        assert str(listed.value).startswith(
            f"conversion webhook for {GROUP}/v1, Kind=PostgresClusterList failed: sizes differ"
        )
    finally:
        _in(hooked_client, "v1").delete("reviewed")


def test_webhook_may_change_labels_and_annotations_only(
    hooked: APIServer, hooked_client: DynamicClient
) -> None:
    def relabels(obj: dict[str, Any], desired: str) -> dict[str, Any]:
        meta = obj["metadata"]
        meta["labels"] = {"converted": "yes"}
        meta["generation"] = 99
        meta["finalizers"] = ["x/y"]
        return obj | {"apiVersion": desired}

    v1 = _in(hooked_client, "v1")
    original = v1.create(_v1("meta"))
    hooked.on_convert(CRD, relabels)
    shown = _in(hooked_client, "v1beta1").get("meta")["metadata"]
    assert shown["labels"] == {"converted": "yes"}
    assert shown["generation"] == original["metadata"]["generation"]
    assert "finalizers" not in shown


# --- the typed client and kubectl ------------------------------------------------------------


def test_generated_typed_clients_of_each_version(
    hooked: APIServer, hooked_client: DynamicClient
) -> None:
    sys.path.insert(0, str(REPO / "generated"))
    try:
        from kgen_databases.clientset import Clientset
        from kgen_databases.models import databases_v1beta1 as beta
    finally:
        sys.path.remove(str(REPO / "generated"))
    from kgen.meta import ObjectMeta

    hooked.on_convert(CRD, SizeConverter())
    clientset = Clientset(Config(host=hooked.url, bearer_token=hooked.token, qps=-1))
    try:
        made = clientset.databases_v1beta1.postgres_clusters("default").create(
            beta.PostgresCluster(
                metadata=ObjectMeta(name="typed"),
                spec=beta.PostgresClusterSpec(version="15", storage_size="5Gi"),
            )
        )
        assert made.spec is not None and made.spec.storage_size == "5Gi"
        got = clientset.databases_v1.postgres_clusters("default").get("typed")
        assert got.spec is not None and got.spec.storage.size == "5Gi"
        assert got.api_version == f"{GROUP}/v1"
    finally:
        clientset.rest_client.close()


@pytest.mark.kubectl
@pytest.mark.parametrize("binary", KUBECTLS)
def test_kubectl_reads_each_version(
    hooked: APIServer, hooked_client: DynamicClient, binary: str, tmp_path: Path
) -> None:
    if shutil.which(binary) is None:
        pytest.fail(f"{binary} is not installed")
    kubeconfig = hooked.write_kubeconfig(tmp_path / "kubeconfig")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    name = "kubectl-" + Path(binary).name.replace(".", "-")
    hooked.on_convert(CRD, SizeConverter())
    _in(hooked_client, "v1beta1").create(_v1beta1(name, "7Gi"))
    got = kubectl("get", f"postgresclusters.v1alpha1.{GROUP}", name, "-o", "json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["apiVersion"] == f"{GROUP}/v1alpha1"
    raw = kubectl(
        "get", "--raw", f"/apis/{GROUP}/v1beta1/namespaces/default/postgresclusters/{name}"
    )
    assert raw.returncode == 0, raw.stderr
    assert json.loads(raw.stdout)["spec"]["storageSize"] == "7Gi"
    listed = kubectl("get", f"postgresclusters.v1.{GROUP}", "-o", "json")
    assert {i["apiVersion"] for i in json.loads(listed.stdout)["items"]} == {f"{GROUP}/v1"}
    table = kubectl("get", f"postgresclusters.v1.{GROUP}", name)  # v1's printer columns
    assert table.returncode == 0, table.stderr
    assert table.stdout.split("\n")[0].split() == ["NAME", "REPLICAS", "PHASE"]
    assert table.stdout.split("\n")[1].split()[:2] == [name, "2"]
    hooked.on_convert(CRD, None)
    failed = kubectl("get", f"postgresclusters.v1beta1.{GROUP}", name)
    assert failed.returncode == 1
    assert failed.stderr.startswith(
        f"Error from server: conversion webhook for {GROUP}/v1, Kind=PostgresCluster failed"
    ), failed.stderr


def test_a_watch_whose_event_cannot_be_converted_ends_with_an_error_event(
    hooked: APIServer, hooked_client: DynamicClient
) -> None:
    v1 = _in(hooked_client, "v1")
    start = v1.list()["metadata"]["resourceVersion"]
    v1.create(_v1("unwatchable"))
    beta = _in(hooked_client, "v1beta1")
    # kgen's watch raises the ERROR event's Status
    with (
        beta.watch(resource_version=start, timeout_seconds=5) as watch,
        pytest.raises(StatusError) as failed,
    ):
        list(watch)
    assert failed.value.code == 500 and failed.value.reason == ""
    assert str(failed.value).startswith(
        f"conversion webhook for {GROUP}/v1, Kind=PostgresCluster failed: Post "
    )
    v1.delete("unwatchable")


def test_webhook_may_not_move_objects_or_write_bad_labels(
    hooked: APIServer, hooked_client: DynamicClient
) -> None:
    gvk = f"conversion webhook for {GROUP}/v1, Kind=PostgresCluster"

    def moves(obj: dict[str, Any], desired: str) -> dict[str, Any]:
        obj["metadata"]["namespace"] = "kube-system"
        return obj | {"apiVersion": desired}

    assert _failing(hooked, hooked_client, moves) == (
        f"{gvk} returned invalid object: must have the same namespace: default != kube-system"
    )

    def bad_label(obj: dict[str, Any], desired: str) -> dict[str, Any]:
        obj["metadata"]["labels"] = {"bad key": "x"}
        return obj | {"apiVersion": desired}

    assert _failing(hooked, hooked_client, bad_label).startswith(
        f'{gvk} returned invalid metadata: metadata.labels: Invalid value: "bad key": '
    )


def test_the_tracker_converts_in_process_too(hooked: APIServer) -> None:
    tracker = hooked.tracker
    tracker.on_convert(f"PostgresCluster.{GROUP}", SizeConverter())  # by kind works too
    try:
        beta = tracker.resource(GROUP, "v1beta1", "postgresclusters")
        made = tracker.create(beta, "default", _v1beta1("in-process", "3Gi"))
        assert made["spec"]["storageSize"] == "3Gi"
        v1 = tracker.resource(GROUP, "v1", "postgresclusters")
        assert tracker.get(v1, "default", "in-process")["spec"]["storage"] == {"size": "3Gi"}
    finally:
        tracker.on_convert(f"PostgresCluster.{GROUP}", None)
    with pytest.raises(ValueError, match=r"name the CRD as plural\.group"):
        tracker.on_convert("postgresclusters", SizeConverter())
