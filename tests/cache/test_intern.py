"""intern_strings: equal strings of decoded objects become one object; values stay the same."""

from __future__ import annotations

import json

import kgen.meta
from kgen.cache import drop_managed_fields, intern_strings
from kgen.meta import PartialObjectMetadata


def _body(name: str) -> bytes:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "payments",
                "uid": f"uid-{name}",
                "generateName": "checkout-7d9f-",
                "creationTimestamp": f"2026-01-01T00:00:0{len(name)}Z",
                "labels": {"app": "checkout-service", "tier": "backend"},
                "finalizers": ["example.com/keep"],
                "ownerReferences": [
                    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1"}
                ],
                "managedFields": [
                    {
                        "manager": "kube-controller-manager",
                        "operation": "Update",
                        "apiVersion": "v1",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}},
                    }
                ],
            },
        }
    ).encode()


def _decoded(name: str) -> PartialObjectMetadata:
    # Built at run time, so the decoder cannot hand out shared string constants.
    return kgen.meta.decode(_body(name), PartialObjectMetadata)


def test_equal_strings_are_shared_and_values_unchanged() -> None:
    a, b = _decoded("a"), _decoded("b")
    assert a.metadata and b.metadata
    assert a.metadata.owner_references and b.metadata.owner_references
    assert a.metadata.owner_references[0].kind is not b.metadata.owner_references[0].kind
    before = kgen.meta.encode(a), kgen.meta.encode(b)

    assert intern_strings(a) is a and intern_strings(b) is b

    assert (kgen.meta.encode(a), kgen.meta.encode(b)) == before
    ma, mb = a.metadata, b.metadata
    assert ma.namespace is mb.namespace
    assert ma.labels and mb.labels and ma.labels["app"] is mb.labels["app"]
    assert ma.finalizers and mb.finalizers and ma.finalizers[0] is mb.finalizers[0]
    assert ma.owner_references and mb.owner_references
    assert ma.owner_references[0].kind is mb.owner_references[0].kind
    assert ma.managed_fields and mb.managed_fields
    assert ma.managed_fields[0].manager is mb.managed_fields[0].manager
    # values repeated by every pod of one owner are shared too, the same names elsewhere...
    assert ma.generate_name is mb.generate_name
    assert ma.owner_references[0].name is mb.owner_references[0].name
    assert ma.owner_references[0].uid is mb.owner_references[0].uid
    assert ma.uid != mb.uid


def test_object_identity_is_not_interned() -> None:
    a, b = _decoded("same"), _decoded("same")
    intern_strings(a)
    intern_strings(b)
    assert a.metadata and b.metadata
    assert a.metadata.name == b.metadata.name and a.metadata.name is not b.metadata.name
    # what identifies one object is left out of the intern table
    assert a.metadata.uid is not b.metadata.uid
    assert a.metadata.creation_timestamp is not b.metadata.creation_timestamp


def test_idempotent_composes_with_drop_managed_fields_and_leaves_dicts() -> None:
    a = intern_strings(drop_managed_fields(_decoded("a")))
    assert isinstance(a, PartialObjectMetadata) and a.metadata
    assert a.metadata.managed_fields is kgen.meta.UNSET
    again = kgen.meta.encode(a)
    assert kgen.meta.encode(intern_strings(a)) == again
    raw = json.loads(_body("a"))
    assert intern_strings(raw) is raw
