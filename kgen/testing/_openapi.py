"""The OpenAPI documents the server hands out at ``/openapi/v2`` and ``/openapi/v3``.

Given the documents a model was loaded from, they are served byte for byte (a swagger.json at
``/openapi/v2``; ``<prefix>__<group>__<version>_openapi.json`` files at
``/openapi/v3/apis/<group>/<version>``). For whatever was not given (a model built from CRDs or
by hand) documents are synthesised from the model's schemas, with the group-version-kind
extensions and the write parameters clients such as kubectl look for.

Built once; read-only afterwards and safe to share.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from kgen.spec.model import APIModel, GroupVersion
from kgen.testing._protobuf import encode_document

__all__ = ["OpenAPIDocuments"]

JSON = dict[str, Any]


def _v3_name(path: Path) -> str | None:
    """``apis__apps__v1_openapi.json`` -> ``apis/apps/v1``; ``None`` for other names."""
    if not path.name.endswith("_openapi.json"):
        return None
    return path.name[: -len("_openapi.json")].replace("__", "/")


def _gv_path(gv: GroupVersion) -> str:
    return f"apis/{gv.group}/{gv.version}" if gv.group else f"api/{gv.version}"


class OpenAPIDocuments:
    """One v2 document and v3 documents keyed by ``api/v1``-style path.

    v3 documents not given are synthesised from ``model`` when first asked for, and again
    after the model's group-version changes (CRDs created at run time), so the index always
    lists what is served. Thread-safe.
    """

    def __init__(self, v2: bytes | None, given_v3: Mapping[str, bytes], model: APIModel) -> None:
        self._v2 = v2
        self._v2_protobuf: bytes | None = None
        self._lock = threading.Lock()
        self._given = dict(given_v3)
        self._model = model
        self._synthesised: dict[str, tuple[GroupVersion, bytes]] = {}
        self._index: tuple[tuple[tuple[str, int], ...], bytes] = ((), b"")

    @classmethod
    def from_model(
        cls, model: APIModel, given: Mapping[str, bytes] | None = None, v2: bytes | None = None
    ) -> OpenAPIDocuments:
        """Documents for ``model`` (which may change later): ``given`` v3 documents and ``v2``
        as they are, the rest synthesised."""
        if v2 is None:
            v2 = json.dumps(
                {
                    "swagger": "2.0",
                    "info": {"title": "Kubernetes", "version": "kgen.testing"},
                    "paths": _synthesise_v2_paths(model),
                    "definitions": model.schemas,
                }
            ).encode()
        return cls(v2, given or {}, model)

    @classmethod
    def from_sources(cls, model: APIModel, sources: list[Path]) -> OpenAPIDocuments:
        """Serve the swagger.json and v3 folders among ``sources`` as given; synthesise the
        rest (CRDs) from ``model``."""
        v2: bytes | None = None
        v3: dict[str, bytes] = {}
        for source in sources:
            if source.is_dir():
                for file in sorted(source.glob("*_openapi.json")):
                    name = _v3_name(file)
                    if name:
                        v3[name] = file.read_bytes()
            elif source.suffix == ".json":
                data = source.read_bytes()
                try:
                    parsed = msgspec.json.decode(data)
                except msgspec.DecodeError:
                    continue
                if isinstance(parsed, dict) and "swagger" in parsed:
                    v2 = data
        return cls.from_model(model, v3, v2)

    def v2(self) -> bytes | None:
        return self._v2

    def v2_protobuf(self) -> bytes | None:
        """The v2 document in gnostic's protobuf form (encoded once, on first use)."""
        if self._v2 is None:
            return None
        with self._lock:
            if self._v2_protobuf is None:
                self._v2_protobuf = encode_document(msgspec.json.decode(self._v2))
            return self._v2_protobuf

    def _documents(self) -> dict[str, bytes]:
        with self._lock:
            served = {_gv_path(gv): gv for gv in list(self._model.group_versions.values())}
            documents = {n: b for n, b in self._given.items() if n in served}
            for name, gv in served.items():
                if name in documents:
                    continue
                cached = self._synthesised.get(name)
                if cached is None or cached[0] is not gv:
                    cached = (gv, json.dumps(_synthesise_v3(self._model, gv)).encode())
                    self._synthesised[name] = cached
                documents[name] = cached[1]
            return documents

    def v3_index(self) -> bytes:
        documents = sorted(self._documents().items())
        key = tuple((name, id(body)) for name, body in documents)
        if self._index[0] != key:
            paths = {
                name: {
                    "serverRelativeURL": f"/openapi/v3/{name}?hash="
                    + hashlib.sha512(body).hexdigest()[:128].upper()
                }
                for name, body in documents
            }
            self._index = (key, json.dumps({"paths": paths}).encode())
        return self._index[1]

    def v3(self, name: str) -> bytes | None:
        return self._documents().get(name)


def _to_v3_refs(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, child in value.items():
            if key == "$ref" and isinstance(child, str):
                out[key] = child.replace("#/definitions/", "#/components/schemas/")
            else:
                out[key] = _to_v3_refs(child)
        return out
    if isinstance(value, list):
        return [_to_v3_refs(v) for v in value]
    return value


def _reachable(model: APIModel, roots: list[str]) -> list[str]:
    seen: list[str] = []
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen or name not in model.schemas:
            continue
        seen.append(name)
        text = json.dumps(model.schemas[name])
        for part in text.split('"$ref": "#/definitions/')[1:]:
            pending.append(part.split('"', 1)[0])
    return sorted(seen)


_WRITE_PARAMS = [
    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
]


_V2_QUERY = [
    {"name": name, "in": "query", "type": "string", "uniqueItems": True}
    for name in ("dryRun", "fieldManager", "fieldValidation")
]


def _synthesise_v2_paths(model: APIModel) -> JSON:
    """Write operations per resource, carrying the GVK and the query parameters clients probe."""
    paths: JSON = {}
    for gv in model.group_versions.values():
        prefix = "/" + _gv_path(gv)
        for resource in gv.resources.values():
            if "/" in resource.plural:
                continue
            gvk = {"group": gv.group, "version": gv.version, "kind": resource.kind}
            base = (
                prefix
                + ("/namespaces/{namespace}" if resource.namespaced else "")
                + "/"
                + resource.plural
            )
            write = {
                "x-kubernetes-group-version-kind": gvk,
                "parameters": _V2_QUERY,
                "responses": {"200": {"description": "OK"}},
            }
            paths[base] = {"post": dict(write, **{"x-kubernetes-action": "post"})}
            paths[base + "/{name}"] = {
                "put": dict(write, **{"x-kubernetes-action": "put"}),
                "patch": dict(write, **{"x-kubernetes-action": "patch"}),
            }
    return paths


def _synthesise_v3(model: APIModel, gv: GroupVersion) -> JSON:
    roots = [r.schema for r in gv.resources.values() if r.schema] + [
        r.list_schema for r in gv.resources.values() if r.list_schema
    ]
    schemas = {
        name: _to_v3_refs(copy.deepcopy(model.schemas[name])) for name in _reachable(model, roots)
    }
    paths: JSON = {}
    prefix = "/" + _gv_path(gv)
    for resource in gv.resources.values():
        if "/" in resource.plural:
            continue
        gvk = {"group": gv.group, "version": gv.version, "kind": resource.kind}
        if resource.schema in schemas:
            schemas[resource.schema].setdefault("x-kubernetes-group-version-kind", [gvk])
        base = (
            prefix
            + ("/namespaces/{namespace}" if resource.namespaced else "")
            + "/"
            + resource.plural
        )
        ref = {"$ref": f"#/components/schemas/{resource.schema}"} if resource.schema else {}
        body = {"content": {"application/json": {"schema": ref}}}
        write = {
            "x-kubernetes-group-version-kind": gvk,
            "parameters": _WRITE_PARAMS,
            "requestBody": body,
            "responses": {"200": body},
        }
        paths[base] = {"post": dict(write, **{"x-kubernetes-action": "post"})}
        paths[base + "/{name}"] = {
            "get": {
                "x-kubernetes-group-version-kind": gvk,
                "x-kubernetes-action": "get",
                "responses": {"200": body},
            },
            "put": dict(write, **{"x-kubernetes-action": "put"}),
            "patch": dict(write, **{"x-kubernetes-action": "patch"}),
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "kgen.testing"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
