"""The OpenAPI documents: v3 index and documents, v2 as JSON and in gnostic's protobuf form."""

from __future__ import annotations

from typing import Any

from kgen.testing import APIServer
from tests.testing.conftest import Client


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """A minimal protobuf reader: (field number, bytes or int) in order."""
    out: list[tuple[int, Any]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while i < len(data):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            out.append((field, varint()))
        elif wire == 2:
            length = varint()
            out.append((field, data[i : i + length]))
            i += length
        elif wire == 1:
            out.append((field, data[i : i + 8]))
            i += 8
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out


def test_v2_protobuf_for_old_kubectl(server: APIServer, client: Client) -> None:
    accept = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    response = client.request("GET", "/openapi/v2", headers={"Accept": accept})
    assert response.status_code == 200
    assert (
        response.headers["Content-Type"]
        == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    )
    document = dict(_fields(response.content))
    assert document[1] == b"2.0"
    definitions = [dict(_fields(named)) for _, named in _fields(document[9])]
    by_name = {d[1].decode(): dict(_fields(d[2])) for d in definitions}
    deployment = by_name["io.k8s.api.apps.v1.Deployment"]
    properties = [dict(_fields(p))[1].decode() for _, p in _fields(deployment[25])]
    assert properties == ["apiVersion", "kind", "metadata", "spec", "status"]
    paths = {dict(_fields(p))[1].decode() for _, p in _fields(document[8])}
    assert "/apis/apps/v1/namespaces/{namespace}/deployments/{name}" in paths
    as_json = client.request("GET", "/openapi/v2", headers={"Accept": "application/json"}).json()
    assert "io.k8s.api.apps.v1.Deployment" in as_json["definitions"]
    refused = client.request("GET", "/openapi/v2", headers={"Accept": "application/x-unknown"})
    assert refused.status_code == 406


def test_v3_index_and_synthesised_documents(client: Client) -> None:
    index = client.request("GET", "/openapi/v3").json()["paths"]
    assert set(index) == {
        "api/v1",
        "apis/apps/v1",
        "apis/example.com/v1",
        "apis/authorization.k8s.io/v1",
        "apis/authentication.k8s.io/v1",
    }
    document = client.request("GET", index["apis/apps/v1"]["serverRelativeURL"]).json()
    deployment = document["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "version": "v1", "kind": "Deployment"}
    ]
    assert (
        deployment["properties"]["metadata"]["$ref"]
        == "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    assert client.request("GET", "/openapi/v3/apis/nope/v1").status_code == 404
