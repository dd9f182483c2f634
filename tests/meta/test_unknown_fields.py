"""Models older than the server keep what they do not know: objects shaped by the 1.35 swagger
(the newest in ../shared/specs), decoded by models generated from 1.30, encode back unchanged,
and a read-modify-write update through a 1.30 clientset keeps the 1.35 fields on the server."""

from __future__ import annotations

import copy
import json
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

from kgen.generator.emit import EMITTERS, render_package
from kgen.meta import ObjectMeta, convert, decode, deep_copy, encode, unknown_fields
from kgen.rest import Config
from kgen.spec import load
from kgen.testing import APIServer

CORE = "io.k8s.api.core.v1."


@pytest.fixture(scope="module")
def k130(specs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package generated from the 1.30 swagger (models and clientset), importable."""
    root = tmp_path_factory.mktemp("old")
    api = load([specs_dir / "kubernetes/v1.30/swagger.json"])
    for files in render_package(api, "k130old", EMITTERS, input_hash="test").values():
        for rel, text in files.items():
            (root / "k130old" / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / "k130old" / rel).write_text(text)
    sys.path.insert(0, str(root))
    import k130old.models.core_v1 as core_v1

    yield core_v1
    sys.path.remove(str(root))
    for name in list(sys.modules):
        if name.split(".")[0] == "k130old":
            del sys.modules[name]


def _definitions(specs_dir: Path, version: str) -> dict[str, Any]:
    data = json.loads((specs_dir / f"kubernetes/{version}/swagger.json").read_text())
    definitions: dict[str, Any] = data["definitions"]
    return definitions


def _sample(schema: dict[str, Any], definitions: dict[str, Any]) -> Any:
    """A value of the schema's JSON type, with the required properties of an object filled."""
    if "$ref" in schema:
        target = definitions[schema["$ref"].rsplit("/", 1)[1]]
        props = target.get("properties", {})
        return {name: _sample(props[name], definitions) for name in target.get("required", ())}
    return {"string": "x", "boolean": True, "integer": 1, "number": 1, "array": []}.get(
        schema.get("type", ""), {}
    )


def _added(specs_dir: Path, definition: str) -> dict[str, Any]:
    """The properties 1.35 has in ``definition`` that 1.30 lacks, each with a sample value."""
    definitions = _definitions(specs_dir, "v1.35")
    new = definitions[definition]["properties"]
    old = _definitions(specs_dir, "v1.30")[definition]["properties"]
    return {name: _sample(schema, definitions) for name, schema in new.items() if name not in old}


def _pod(specs_dir: Path) -> dict[str, Any]:
    """A pod filled, at every level that 1.35 grew, with the fields 1.30 does not know."""
    spec_added = _added(specs_dir, CORE + "PodSpec")
    container_added = _added(specs_dir, CORE + "Container")
    status_added = _added(specs_dir, CORE + "PodStatus")
    assert spec_added and container_added and status_added  # the two specs differ there
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "futureField": {"a": [1, "b"]}},
        "spec": {
            "containers": [{"name": "app", "image": "nginx", **container_added}],
            **spec_added,
        },
        "status": {"phase": "Pending", **status_added},
    }


def test_1_35_objects_round_trip_through_1_30_models(k130: ModuleType, specs_dir: Path) -> None:
    pod = _pod(specs_dir)
    body = json.dumps(pod).encode()
    decoded = decode(body, k130.Pod)
    assert isinstance(decoded, k130.Pod) and isinstance(decoded.metadata, ObjectMeta)
    assert set(unknown_fields(decoded.metadata)) == {"futureField"}
    assert json.loads(encode(decoded)) == pod
    assert json.loads(msgspec.json.encode(decoded)) == pod  # any encoder, not only kgen's

    listed = {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [pod, pod]}
    items = decode(json.dumps(listed), k130.PodList).items
    assert [json.loads(encode(item)) for item in items] == [pod, pod]

    for again in (deep_copy(decoded), copy.copy(decoded), copy.deepcopy(decoded)):
        assert again == decoded and json.loads(encode(again)) == pod
    assert pickle.loads(pickle.dumps(decoded)) == decoded
    assert json.loads(encode(convert(pod, k130.Pod))) == pod


def test_known_fields_win_and_unset_drops_an_unknown_one(k130: ModuleType) -> None:
    body = b'{"metadata": {"name": "a", "futureField": 1}, "spec": {"containers": []}}'
    pod = decode(body, k130.Pod)
    assert pod != decode(b'{"metadata": {"name": "a"}, "spec": {"containers": []}}', k130.Pod)
    pod.metadata.name = "b"
    assert json.loads(encode(pod))["metadata"] == {"name": "b", "futureField": 1}
    pod.metadata = msgspec.structs.replace(pod.metadata, futureField=msgspec.UNSET)
    assert json.loads(encode(pod))["metadata"] == {"name": "b"}


def test_errors_after_an_unknown_field_keep_their_whole_path(k130: ModuleType) -> None:
    body = b'{"metadata": {"x": 1}, "spec": {"containers": [{"name": "a", "ports": [{}]}]}}'
    with pytest.raises(msgspec.ValidationError, match=r"`containerPort` - at `\$.spec.containers"):
        decode(body, k130.Pod)
    with pytest.raises(
        msgspec.ValidationError, match=r"got `int` - at `\$.spec.containers\[0\].name"
    ):
        decode(b'{"spec": {"y": 1, "containers": [{"name": 1}]}}', k130.Pod)


def test_read_modify_write_update_keeps_new_fields_on_the_server(
    k130: ModuleType, specs_dir: Path
) -> None:
    from k130old.clientset import Clientset

    pod = _pod(specs_dir)
    del pod["status"]
    with APIServer(specs=[specs_dir / "kubernetes/v1.35/swagger.json"]) as server:
        config = Config(host=server.url, bearer_token=server.token, qps=-1, timeout=10)
        pods: Any = Clientset(config).core_v1.pods("default")
        pods.create(decode(json.dumps(pod), k130.Pod))
        got = pods.get("web")
        got.metadata.labels = {"edited": "yes"}
        pods.update(got)
        stored = json.loads(encode(pods.get("web")))
        assert stored["metadata"]["labels"] == {"edited": "yes"}
        for key, value in pod["spec"].items():
            if key != "containers":
                assert stored["spec"][key] == value, key
        for key, value in pod["spec"]["containers"][0].items():
            assert stored["spec"]["containers"][0][key] == value, key


def test_watch_events_keep_unknown_fields(k130: ModuleType, specs_dir: Path) -> None:
    from kgen.rest._frames import WatchDecoder

    pod = _pod(specs_dir)
    frames = b"".join(
        json.dumps({"type": kind, "object": pod}).encode() + b"\n" for kind in ("ADDED", "MODIFIED")
    )
    events = list(WatchDecoder(k130.Pod).feed(frames))
    assert [e.type for e in events] == ["ADDED", "MODIFIED"]
    assert all(json.loads(encode(e.object)) == pod for e in events)
    status = b'{"kind":"Status","apiVersion":"v1","status":"Failure","code":410,"newer":1}'
    (error,) = WatchDecoder(k130.Pod).feed(b'{"type":"ERROR","object":' + status + b"}\n")
    assert error.type == "ERROR" and error.object.code == 410
    assert json.loads(encode(error.object))["newer"] == 1
