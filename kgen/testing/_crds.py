"""What CRD manifests say beyond the API model: printer columns, scale paths, selectable fields,
the conversion strategy and the storage version.

The API model keeps what every emitter needs; these CRD-only details change how the test server
prints tables (``kubectl get``), maps the scale subresource and filters by field, so they are
read from the CRD documents the server was started from. Pure functions of the documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgen.spec import load_documents
from kgen.testing._conversion import webhook_address

__all__ = ["CRDExtras", "PrinterColumn", "ScalePaths", "crd_extras", "crd_manifests", "extras_of"]


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    type: str
    json_path: str
    priority: int = 0
    description: str = ""
    format: str = ""


@dataclass(frozen=True)
class ScalePaths:
    spec_replicas: str = ".spec.replicas"
    status_replicas: str = ".status.replicas"
    label_selector: str = ""


@dataclass(frozen=True)
class CRDExtras:
    columns: tuple[PrinterColumn, ...] = ()
    scale: ScalePaths | None = None
    selectable_fields: tuple[str, ...] = ()
    conversion: str = "None"
    """The CRD's ``spec.conversion.strategy`` (``None`` or ``Webhook``)."""
    storage_version: str = ""
    """The version with ``storage: true`` (empty: not from a CRD manifest)."""
    versions: tuple[str, ...] = ()
    """Every version the CRD lists."""
    review_versions: tuple[str, ...] = ()
    """``spec.conversion.webhook.conversionReviewVersions``."""
    webhook: str = ""
    """Where the conversion webhook is (see :func:`~kgen.testing._conversion.webhook_address`)."""


def _columns(raw: Any) -> tuple[PrinterColumn, ...]:
    columns = []
    for column in raw or ():
        if isinstance(column, dict) and column.get("name") and column.get("jsonPath"):
            columns.append(
                PrinterColumn(
                    str(column["name"]),
                    str(column.get("type", "string")),
                    str(column["jsonPath"]),
                    int(column.get("priority") or 0),
                    str(column.get("description", "")),
                    str(column.get("format", "")),
                )
            )
    return tuple(columns)


def extras_of(crd: dict[str, Any]) -> dict[tuple[str, str, str], CRDExtras]:
    """``(group, version, plural)`` to the extras of every version of one CRD manifest."""
    found: dict[tuple[str, str, str], CRDExtras] = {}
    spec = crd.get("spec") or {}
    group, plural = str(spec.get("group", "")), str((spec.get("names") or {}).get("plural", ""))
    versions = [v for v in spec.get("versions") or () if isinstance(v, dict)]
    storage = next((v for v in versions if v.get("storage")), versions[0] if versions else {})
    conversion = (
        spec.get("conversion") if isinstance(spec.get("conversion"), dict) else None
    ) or {}
    strategy = str(conversion.get("strategy") or "None")
    webhook = (
        conversion.get("webhook") if isinstance(conversion.get("webhook"), dict) else None
    ) or {}
    for version in spec.get("versions") or ():
        if not isinstance(version, dict):
            continue
        scale = (version.get("subresources") or {}).get("scale")
        found[(group, str(version.get("name", "")), plural)] = CRDExtras(
            columns=_columns(version.get("additionalPrinterColumns")),
            scale=(
                ScalePaths(
                    str(scale.get("specReplicasPath", ".spec.replicas")),
                    str(scale.get("statusReplicasPath", ".status.replicas")),
                    str(scale.get("labelSelectorPath", "")),
                )
                if isinstance(scale, dict)
                else None
            ),
            selectable_fields=tuple(
                str(f["jsonPath"]).lstrip(".")
                for f in version.get("selectableFields") or ()
                if isinstance(f, dict) and f.get("jsonPath")
            ),
            conversion=strategy,
            storage_version=str(storage.get("name", "")),
            versions=tuple(str(v.get("name", "")) for v in versions),
            review_versions=tuple(str(v) for v in webhook.get("conversionReviewVersions") or ()),
            webhook=webhook_address(webhook),
        )
    return found


def crd_manifests(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The CRD manifests among ``paths`` (YAML files, and YAML files inside folders)."""
    crd_paths = [p for p in paths if p.is_file() and p.suffix in (".yaml", ".yml")]
    for folder in (p for p in paths if p.is_dir()):
        crd_paths += sorted(f for f in folder.rglob("*") if f.suffix in (".yaml", ".yml"))
    documents = load_documents(crd_paths) if crd_paths else []
    return [doc.data for doc in documents if doc.kind == "crd"]


def crd_extras(manifests: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], CRDExtras]:
    """``(group, version, plural)`` to the extras of every version of every manifest."""
    found: dict[tuple[str, str, str], CRDExtras] = {}
    for manifest in manifests:
        found.update(extras_of(manifest))
    return found
