"""Definitions every model needs but CRD manifests do not carry.

A CRD's schema refers to ``ObjectMeta`` and a CRD's list kind to ``ListMeta``; a scale
subresource speaks ``autoscaling/v1`` ``Scale``. When the inputs hold no Kubernetes OpenAPI
document, the loader adds these definitions (in v2 form, under their usual names) so that every
reference resolves. The emitters map the ``meta/v1`` ones to :mod:`kgen.meta` types.
"""

from __future__ import annotations

from typing import Any

from kgen.spec.model import JSONSchema

__all__ = ["LIST_META", "OBJECT_META", "SCALE", "wellknown_definitions"]

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
SCALE = "io.k8s.api.autoscaling.v1.Scale"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."


def _ref(name: str) -> dict[str, str]:
    return {"$ref": "#/definitions/" + name}


_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer", "format": "int64"}
_INT32: dict[str, Any] = {"type": "integer", "format": "int32"}
_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_STR_MAP: dict[str, Any] = {"type": "object", "additionalProperties": _STR}


def _obj(description: str, props: dict[str, Any], required: tuple[str, ...] = ()) -> JSONSchema:
    schema: JSONSchema = {"description": description, "type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


def _definitions() -> dict[str, JSONSchema]:
    return {
        OBJECT_META: _obj(
            "Metadata that all persisted resources must have.",
            {
                "annotations": _STR_MAP,
                "creationTimestamp": _ref(_META + "Time"),
                "deletionGracePeriodSeconds": _INT,
                "deletionTimestamp": _ref(_META + "Time"),
                "finalizers": {
                    "type": "array",
                    "items": _STR,
                    "x-kubernetes-list-type": "set",
                    "x-kubernetes-patch-strategy": "merge",
                },
                "generateName": _STR,
                "generation": _INT,
                "labels": _STR_MAP,
                "managedFields": {
                    "type": "array",
                    "items": _ref(_META + "ManagedFieldsEntry"),
                    "x-kubernetes-list-type": "atomic",
                },
                "name": _STR,
                "namespace": _STR,
                "ownerReferences": {
                    "type": "array",
                    "items": _ref(_META + "OwnerReference"),
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["uid"],
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-patch-merge-key": "uid",
                },
                "resourceVersion": _STR,
                "selfLink": _STR,
                "uid": _STR,
            },
        ),
        LIST_META: _obj(
            "Metadata that synthetic resources (lists) must have.",
            {
                "continue": _STR,
                "remainingItemCount": _INT,
                "resourceVersion": _STR,
                "selfLink": _STR,
            },
        ),
        _META
        + "ManagedFieldsEntry": _obj(
            "The workflow-id and version of a field set that a manager owns.",
            {
                "apiVersion": _STR,
                "fieldsType": _STR,
                "fieldsV1": _ref(_META + "FieldsV1"),
                "manager": _STR,
                "operation": _STR,
                "subresource": _STR,
                "time": _ref(_META + "Time"),
            },
        ),
        _META
        + "OwnerReference": _obj(
            "Enough information to identify an owning object.",
            {
                "apiVersion": _STR,
                "blockOwnerDeletion": {"type": "boolean"},
                "controller": {"type": "boolean"},
                "kind": _STR,
                "name": _STR,
                "uid": _STR,
            },
            ("apiVersion", "kind", "name", "uid"),
        ),
        _META + "FieldsV1": {"description": "Fields set, in FieldsV1 form.", "type": "object"},
        _META + "Time": {"description": "RFC 3339 time.", "type": "string", "format": "date-time"},
        SCALE: {
            **_obj(
                "Scale represents a scaling request for a resource.",
                {
                    "apiVersion": _STR,
                    "kind": _STR,
                    "metadata": _ref(OBJECT_META),
                    "spec": _ref("io.k8s.api.autoscaling.v1.ScaleSpec"),
                    "status": _ref("io.k8s.api.autoscaling.v1.ScaleStatus"),
                },
            ),
            "x-kubernetes-group-version-kind": [
                {"group": "autoscaling", "kind": "Scale", "version": "v1"}
            ],
        },
        "io.k8s.api.autoscaling.v1.ScaleSpec": _obj(
            "The attributes of a scale subresource.", {"replicas": _INT32}
        ),
        "io.k8s.api.autoscaling.v1.ScaleStatus": _obj(
            "The current status of a scale subresource.",
            {"replicas": _INT32, "selector": _STR},
            ("replicas",),
        ),
    }


def wellknown_definitions() -> dict[str, JSONSchema]:
    """A fresh copy of the well-known definitions, keyed by definition name."""
    return _definitions()
