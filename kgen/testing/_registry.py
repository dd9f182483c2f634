"""What the server serves, derived once from an :class:`~kgen.spec.model.APIModel`.

A :class:`ResourceInfo` is one resource of one group/version with everything the request path
needs: scope, verbs, subresources, kinds, schema name, and the field selectors it supports.
The registry is built at start-up and read-only afterwards (thread-safe to read).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kgen.spec._wellknown import wellknown_definitions
from kgen.spec.model import APIModel, GroupVersion
from kgen.testing._conversion import Conversion, ConversionHooks
from kgen.testing._crds import CRDExtras, PrinterColumn, ScalePaths
from kgen.testing._names import builtin_names
from kgen.testing._store import copy_json

__all__ = ["Registry", "ResourceInfo"]

# Per-resource field selectors kube-apiserver supports beyond metadata.name/metadata.namespace,
# keyed by (group, plural). Values are JSON paths into the object.
_FIELD_SELECTORS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "pods"): (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    ("", "events"): (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    ("", "secrets"): ("type",),
    ("", "namespaces"): ("status.phase",),
    ("", "nodes"): ("spec.unschedulable",),
    ("", "services"): ("spec.clusterIP", "spec.type"),
    ("", "replicationcontrollers"): ("status.replicas",),
    ("apps", "replicasets"): ("status.replicas",),
    ("batch", "jobs"): ("status.successful",),
    ("certificates.k8s.io", "certificatesigningrequests"): ("spec.signerName",),
    ("events.k8s.io", "events"): (
        "regarding.kind",
        "regarding.namespace",
        "regarding.name",
        "regarding.uid",
        "regarding.apiVersion",
        "regarding.resourceVersion",
        "regarding.fieldPath",
        "reason",
        "reportingController",
        "type",
    ),
}

_WELL_KNOWN = frozenset(wellknown_definitions())


_NO_EXTRAS = CRDExtras()


@dataclass(frozen=True)
class ResourceInfo:
    """One served resource of one group/version."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    list_kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    subresources: tuple[str, ...]
    schema: str | None
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    field_selectors: tuple[str, ...] = field(default=())
    printer_columns: tuple[PrinterColumn, ...] = ()
    """A CRD's additionalPrinterColumns (empty: built-in printing)."""
    scale_paths: ScalePaths | None = None
    """Where a CRD's scale subresource reads and writes replicas (``None``: the defaults)."""
    custom: bool = False
    """Served from a CustomResourceDefinition (no strategic merge patch, as kube-apiserver)."""
    conversion: Conversion | None = None
    """A CRD's conversion between its versions (``None``: built-ins, shown by apiVersion)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        """The storage key: every version of a resource shares its objects."""
        return (self.group, self.plural)

    def present(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A caller-owned copy of a stored object as this version shows it (a CRD's objects
        through its conversion, which may raise a 500 :class:`APIError`)."""
        return copy_json(self.view(obj))

    def view(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A read-only view of a stored object as this version shows it (shared, never copy
        more than the top level, but for a webhook conversion): for callers that only
        serialize it."""
        if obj.get("apiVersion") == self.api_version:
            return obj
        if self.conversion is not None:
            return self.conversion.to_version([obj], self.api_version)[0]
        return {**obj, "apiVersion": self.api_version}

    def view_all(self, objs: list[dict[str, Any]], copy: bool) -> list[dict[str, Any]]:
        """:meth:`view` (``copy``: :meth:`present`) of a list's items: a CRD's with one
        conversion review for the items not in this version."""
        if self.conversion is None:
            return [self.present(o) if copy else self.view(o) for o in objs]
        shown = self.conversion.to_version(objs, self.api_version, self.list_kind)
        return [copy_json(o) for o in shown] if copy else shown

    def served(self, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` (stored) in this version for a write to start from: ``obj`` itself when
        there is nothing to convert, else a new object (``obj`` is not changed)."""
        if self.conversion is None or obj.get("apiVersion") == self.api_version:
            return obj
        return self.conversion.to_version([obj], self.api_version)[0]

    def to_storage(self, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` (written in this version) in the storage version: ``obj`` itself for
        built-ins and objects already there, else a new object (``obj`` is not changed;
        500 InternalError when a webhook conversion fails)."""
        if self.conversion is None:
            return obj
        return self.conversion.to_storage(obj)

    def supports_field(self, path: str) -> bool:
        return path in ("metadata.name", "metadata.namespace") or path in self.field_selectors


class Registry:
    """Lookup of served resources by group/version/plural and by kind.

    The registry owns a copy of the model's group-version and schema tables, which
    :meth:`add` and :meth:`remove` change when CRDs are created or deleted at run time.
    Readers see either the old or the new table (writers replace whole entries under a lock).
    """

    def __init__(
        self, model: APIModel, extras: Mapping[tuple[str, str, str], CRDExtras] | None = None
    ) -> None:
        self.model = APIModel(
            group_versions=dict(model.group_versions),
            schemas=dict(model.schemas),
            sources=model.sources,
            notes=model.notes,
        )
        self._lock = threading.Lock()
        self.conversions = ConversionHooks()
        """The conversion hooks of Webhook-strategy CRDs (``APIServer.on_convert``)."""
        self._by_path: dict[tuple[str, str, str], ResourceInfo] = {}
        self.group_versions: list[GroupVersion] = []
        self._index(list(self.model.group_versions.values()), extras or {})

    def _index(
        self, gvs: list[GroupVersion], extras: Mapping[tuple[str, str, str], CRDExtras]
    ) -> None:
        for gv in gvs:
            for resource in gv.resources.values():
                if "/" in resource.plural:
                    continue
                crd = extras.get((gv.group, gv.version, resource.plural), _NO_EXTRAS)
                short_names, categories = resource.short_names, resource.categories
                if (gv.group, gv.version, resource.plural) not in extras:
                    short_names, categories = builtin_names(
                        gv.group, resource.plural, short_names, categories
                    )
                self._by_path[(gv.group, gv.version, resource.plural)] = ResourceInfo(
                    group=gv.group,
                    version=gv.version,
                    plural=resource.plural,
                    singular=resource.singular or resource.kind.lower(),
                    kind=resource.kind,
                    list_kind=resource.list_kind or resource.kind + "List",
                    namespaced=resource.namespaced,
                    verbs=resource.verbs,
                    subresources=tuple(sorted(resource.subresources)),
                    schema=resource.schema,
                    short_names=short_names,
                    categories=categories,
                    field_selectors=_FIELD_SELECTORS.get((gv.group, resource.plural), ())
                    + crd.selectable_fields,
                    printer_columns=crd.columns,
                    scale_paths=crd.scale,
                    custom=(gv.group, gv.version, resource.plural) in extras,
                    conversion=self._conversion(gv.group, resource.plural, resource.kind, crd),
                )
        self.group_versions = sorted(self.model.group_versions.values(), key=_gv_order)

    def _conversion(self, group: str, plural: str, kind: str, crd: CRDExtras) -> Conversion | None:
        if not crd.storage_version:  # built-ins (and CRDs known only from OpenAPI documents)
            return None
        return Conversion(
            crd=f"{plural}.{group}",
            group=group,
            plural=plural,
            kind=kind,
            strategy=crd.conversion,
            storage_version=crd.storage_version,
            versions=crd.versions,
            review_versions=crd.review_versions,
            address=crd.webhook,
            hooks=self.conversions,
        )

    def add(self, part: APIModel, extras: Mapping[tuple[str, str, str], CRDExtras]) -> None:
        """Serve the resources of ``part`` too (replacing same-named ones), with its schemas."""
        with self._lock:
            for name, schema in part.schemas.items():
                # a CRD's model carries stand-ins for the meta/v1 definitions: keep the real ones
                if name not in self.model.schemas or name not in _WELL_KNOWN:
                    self.model.schemas[name] = schema
            for key, gv in part.group_versions.items():
                existing = self.model.group_versions.get(key)
                resources = {**(existing.resources if existing else {}), **gv.resources}
                merged = GroupVersion(gv.group, gv.version, resources, gv.preferred)
                self.model.group_versions[key] = merged
            # only the resources of ``part``: the others of a shared group-version keep what
            # their own CRD gave them (printer columns, conversion)
            self._index(list(part.group_versions.values()), extras)

    def remove(self, group: str, plural: str) -> None:
        """Stop serving ``plural`` of ``group`` in every version (dropping emptied versions)."""
        with self._lock:
            for key, gv in list(self.model.group_versions.items()):
                if gv.group != group or plural not in gv.resources:
                    continue
                self._by_path.pop((gv.group, gv.version, plural), None)
                resources = {
                    name: r
                    for name, r in gv.resources.items()
                    if name != plural and not name.startswith(plural + "/")
                }
                if resources:
                    self.model.group_versions[key] = GroupVersion(
                        gv.group, gv.version, resources, gv.preferred
                    )
                else:
                    del self.model.group_versions[key]
            self.group_versions = sorted(self.model.group_versions.values(), key=_gv_order)

    def get(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        return self._by_path.get((group, version, plural))

    def resources(self) -> Iterator[ResourceInfo]:
        return iter(list(self._by_path.values()))

    def stored(self) -> list[ResourceInfo]:
        """One resource per storage key, for scans of all objects: a CRD's storage version,
        else the first version served."""
        seen: dict[tuple[str, str], ResourceInfo] = {}
        for info in self._by_path.values():
            storage = (
                info.conversion is not None and info.conversion.storage_version == info.version
            )
            if info.key not in seen or storage:
                seen[info.key] = info
        return list(seen.values())

    def stored_one(self, group: str, plural: str) -> ResourceInfo | None:
        """The resource :meth:`stored` lists for the storage key ``(group, plural)``, if any."""
        return next((i for i in self.stored() if i.key == (group, plural)), None)

    def has_group_version(self, group: str, version: str) -> bool:
        return (group, version) in self.model.group_versions

    def groups(self) -> dict[str, list[GroupVersion]]:
        """Named groups (not the core group) to their versions, preferred version first."""
        grouped: dict[str, list[GroupVersion]] = {}
        for gv in self.group_versions:
            if gv.group:
                grouped.setdefault(gv.group, []).append(gv)
        return grouped


_STABILITY = {"alpha": 0, "beta": 1}


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version order: GA above beta above alpha, higher numbers first."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (-1, 0, 0)
    stability = _STABILITY.get(match.group(2) or "", 2)
    return (stability, int(match.group(1)), int(match.group(3) or 0))


def _gv_order(gv: GroupVersion) -> tuple[int, str, bool, tuple[int, int, int]]:
    core_first = 0 if gv.group == "" else 1
    priority = version_priority(gv.version)
    return (core_first, gv.group, not gv.preferred, (-priority[0], -priority[1], -priority[2]))
