"""A small typed model for decoding tests (what a generated package would provide)."""

from __future__ import annotations

from typing import Any

from kgen.meta import UNSET, Model, ObjectMeta, UnsetType


class Pod(Model):
    api_version: str | None | UnsetType = UNSET
    kind: str | None | UnsetType = UNSET
    metadata: ObjectMeta | None | UnsetType = UNSET
    spec: dict[str, Any] | None | UnsetType = UNSET


def pod_json(name: str, rv: str = "1", namespace: str = "default") -> bytes:
    return (
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"%s",'
        b'"resourceVersion":"%s"},"spec":{"nodeName":"n1"}}'
        % (name.encode(), namespace.encode(), rv.encode())
    )
