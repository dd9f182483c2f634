"""The server's answers to ``Accept``, checked with raw requests: PartialObjectMetadata(List) and
Table for get, list, watch and writes; fallbacks; 406 NotAcceptable as kube-apiserver words it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.testing import APIServer
from kgen.testing._protobody import decode_body
from tests.testing.conftest import Client

PARTIAL = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
PARTIAL_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
SERVED = "application/json, application/yaml, application/vnd.kubernetes.protobuf"


def _configmap(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "data": {"big": "x" * 100}}


@pytest.fixture
def made(client: Client, ns: str) -> str:
    """Three configmaps in ``ns``; returns the collection path."""
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("a", "b", "c"):
        created = client.request("POST", path, json=_configmap(name, app="web"))
        assert created.status_code == 201, created.text
    return path


def _get(client: Client, path: str, accept: str, **params: Any) -> Any:
    response = client.request("GET", path, headers={"Accept": accept}, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    return response.json()


def _refused(client: Client, path: str, accept: str, method: str = "GET", **kw: Any) -> str:
    headers = {"Accept": accept, **kw.pop("headers", {})}
    response = client.request(method, path, headers=headers, **kw)
    assert response.status_code == 406, response.text
    status = response.json()
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "NotAcceptable", 406)
    return str(status["message"])


def _watch(client: Client, path: str, accept: str, **params: Any) -> Iterator[dict[str, Any]]:
    response = client.request(
        "GET", path, headers={"Accept": accept}, params={"watch": "true", **params}, stream=True
    )
    assert response.status_code == 200, response.text
    with response:
        for line in response.iter_lines():
            if line:
                yield json.loads(line)


def test_get_as_partial_object_metadata_keeps_only_the_metadata(client: Client, made: str) -> None:
    full = _get(client, f"{made}/a", "application/json")
    partial = _get(client, f"{made}/a", PARTIAL)
    assert partial == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": full["metadata"],
    }
    beta = _get(client, f"{made}/a", PARTIAL.replace("v=v1", "v=v1beta1"))
    assert beta["apiVersion"] == "meta.k8s.io/v1beta1" and beta["metadata"] == full["metadata"]


def test_list_as_partial_object_metadata_list_keeps_version_and_continue(
    client: Client, made: str
) -> None:
    page = _get(client, made, PARTIAL_LIST, limit=2)
    assert (page["kind"], page["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    assert page["metadata"]["resourceVersion"] and page["metadata"]["continue"]
    assert page["metadata"]["remainingItemCount"] == 1
    assert [set(item) for item in page["items"]] == [{"kind", "apiVersion", "metadata"}] * 2
    assert {item["kind"] for item in page["items"]} == {"PartialObjectMetadata"}
    rest = _get(client, made, PARTIAL_LIST, limit=2, **{"continue": page["metadata"]["continue"]})
    names = [item["metadata"]["name"] for item in page["items"] + rest["items"]]
    assert names == ["a", "b", "c"] and "continue" not in rest["metadata"]
    full = _get(client, made, "application/json")
    assert [item["metadata"] for item in full["items"]] == [
        item["metadata"] for item in page["items"] + rest["items"]
    ]


def test_a_list_of_media_types_picks_the_first_the_server_can_serve(
    client: Client, made: str
) -> None:
    unknown = "application/json;as=Foo;g=meta.k8s.io;v=v1"
    assert _get(client, f"{made}/a", f"{unknown},application/json")["kind"] == "ConfigMap"
    # an unknown group/version is no transform this server has: the next clause is served
    v2 = PARTIAL.replace("v=v1", "v=v2")
    assert _get(client, f"{made}/a", f"{v2},{PARTIAL}")["kind"] == "PartialObjectMetadata"
    # client-go's metadata client asks for protobuf first, and gets it
    proto = PARTIAL.replace("application/json", "application/vnd.kubernetes.protobuf")
    answer = client.request("GET", f"{made}/a", headers={"Accept": f"{proto},application/json"})
    assert answer.headers["Content-Type"] == "application/vnd.kubernetes.protobuf"
    partial = decode_body(answer.content)
    assert partial["kind"] == "PartialObjectMetadata" and partial["metadata"]["name"] == "a"
    # quality outranks order; a wildcard serves JSON
    assert _get(client, made, f"application/json;q=0.5,{PARTIAL_LIST}")["kind"] == (
        "PartialObjectMetadataList"
    )
    assert _get(client, made, "*/*;as=Table;g=meta.k8s.io;v=v1")["kind"] == "Table"
    beta = _get(client, made, TABLE.replace("v=v1", "v=v1beta1"))
    assert beta["apiVersion"] == "meta.k8s.io/v1beta1"
    assert {row["object"]["apiVersion"] for row in beta["rows"]} == {"meta.k8s.io/v1beta1"}
    assert _get(client, made, "application/*")["kind"] == "ConfigMapList"


def test_an_accept_the_server_cannot_satisfy_is_406(client: Client, made: str) -> None:
    expected = f"only the following media types are accepted: {SERVED}"
    assert _refused(client, f"{made}/a", "application/json;as=Foo;g=meta.k8s.io;v=v1") == expected
    assert _refused(client, made, "text/html") == expected
    assert _refused(client, made, "application/json;as=Table;g=example.com;v=v1") == expected
    assert _refused(
        client, made, "application/vnd.kubernetes.protobuf;as=Table;g=meta.k8s.io;v=v1"
    ) == (expected)
    assert _refused(client, made, "application/yaml;stream=watch") == expected


def test_a_transform_that_does_not_fit_the_answer_is_406_without_fallback(
    client: Client, made: str
) -> None:
    assert _refused(client, made, f"{PARTIAL},application/json") == (
        "you requested PartialObjectMetadata, but the requested object is a list "
        "(*core.ConfigMapList)"
    )
    assert _refused(client, f"{made}/a", f"{PARTIAL_LIST},application/json") == (
        "you requested PartialObjectMetadataList, but the requested object is not a list "
        "(*core.ConfigMap)"
    )


def test_writes_answer_in_the_negotiated_representation(client: Client, made: str) -> None:
    patched = client.request(
        "PATCH",
        f"{made}/a",
        headers={"Accept": PARTIAL, "Content-Type": "application/merge-patch+json"},
        data=json.dumps({"metadata": {"labels": {"patched": "yes"}}}),
    )
    assert patched.status_code == 200, patched.text
    answer = patched.json()
    assert answer["kind"] == "PartialObjectMetadata" and "data" not in answer
    assert answer["metadata"]["labels"] == {"app": "web", "patched": "yes"}
    # the choice is made before the request runs: a refused patch changes nothing
    _refused(
        client,
        f"{made}/a",
        "application/json;as=Foo;g=meta.k8s.io;v=v1",
        method="PATCH",
        headers={"Content-Type": "application/merge-patch+json"},
        data=json.dumps({"metadata": {"labels": {"refused": "yes"}}}),
    )
    assert "refused" not in _get(client, f"{made}/a", "application/json")["metadata"]["labels"]
    created = client.request("POST", made, headers={"Accept": PARTIAL}, json=_configmap("d"))
    assert created.status_code == 201 and created.json()["kind"] == "PartialObjectMetadata"
    # a Status answer is sent as it is, whatever was asked
    deleted = client.request("DELETE", f"{made}/d", headers={"Accept": PARTIAL})
    assert deleted.status_code == 200 and deleted.json()["kind"] == "Status"
    emptied = client.request("DELETE", made, headers={"Accept": PARTIAL_LIST})
    assert emptied.status_code == 200, emptied.text
    assert emptied.json()["kind"] == "PartialObjectMetadataList"
    assert {item["metadata"]["name"] for item in emptied.json()["items"]} == {"a", "b", "c"}


def test_watch_events_carry_partial_object_metadata(client: Client, made: str) -> None:
    current = _get(client, made, "application/json")["metadata"]["resourceVersion"]
    events = _watch(
        client,
        made,
        f"{PARTIAL},application/json",
        resourceVersion=current,
        allowWatchBookmarks="true",
        timeoutSeconds="5",
    )
    client.request(
        "PATCH",
        f"{made}/b",
        headers={"Content-Type": "application/merge-patch+json"},
        data=json.dumps({"metadata": {"labels": {"seen": "yes"}}}),
    )
    client.request("DELETE", f"{made}/c")
    seen: list[tuple[str, str]] = []
    for event in events:
        obj = event["object"]
        assert set(obj) == {"kind", "apiVersion", "metadata"}, obj
        assert (obj["kind"], obj["apiVersion"]) == ("PartialObjectMetadata", "meta.k8s.io/v1")
        seen.append((event["type"], obj["metadata"].get("name", "")))
        if event["type"] == "BOOKMARK":
            assert obj["metadata"]["resourceVersion"]
            break
    assert seen == [("MODIFIED", "b"), ("DELETED", "c"), ("BOOKMARK", "")]


def test_watch_as_table_and_refused_watches(client: Client, made: str) -> None:
    current = _get(client, made, "application/json")["metadata"]["resourceVersion"]
    events = _watch(client, made, TABLE, resourceVersion=current, timeoutSeconds="5")
    client.request("DELETE", f"{made}/a")
    event = next(events)
    assert event["type"] == "DELETED" and event["object"]["kind"] == "Table"
    assert event["object"]["rows"][0]["cells"][0] == "a"
    events.close()
    message = _refused(
        client, made, "application/json;as=Foo;g=meta.k8s.io;v=v1", params={"watch": "1"}
    )
    assert message.startswith("only the following media types are accepted")
    # one object cannot become a list: kube-apiserver then sends the object as it is
    listed = _watch(client, made, PARTIAL_LIST, resourceVersion=current, timeoutSeconds="5")
    assert next(listed)["object"]["kind"] == "ConfigMap"
    listed.close()


def test_custom_resources_negotiate_the_same_way(specs_dir: Path) -> None:
    crds = specs_dir / "crds" / "cert-manager" / "cert-manager.crds.yaml"
    with APIServer(specs=[crds]) as served:
        client = Client(served)
        try:
            path = "/apis/cert-manager.io/v1/clusterissuers"
            issuer = {"metadata": {"name": "ca", "labels": {"a": "b"}}, "spec": {"selfSigned": {}}}
            created = client.request("POST", path, json=issuer)
            assert created.status_code == 201, created.text
            partial = _get(client, f"{path}/ca", PARTIAL)
            assert partial == {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": created.json()["metadata"],
            }
            listed = _get(client, path, PARTIAL_LIST)
            assert [item["metadata"]["name"] for item in listed["items"]] == ["ca"]
            assert _refused(client, path, PARTIAL) == (
                "you requested PartialObjectMetadata, but the requested object is a list "
                "(*unstructured.UnstructuredList)"
            )
            assert _refused(client, f"{path}/ca", PARTIAL_LIST) == (
                "you requested PartialObjectMetadataList, but the requested object is not a list "
                "(*unstructured.Unstructured)"
            )
        finally:
            client.close()
