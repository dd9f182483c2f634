"""Building one :class:`APIModel` from any mix of OpenAPI v2/v3 documents, CRDs and discovery."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from kgen.spec._crd import crd_versions, kind_definition_names
from kgen.spec._discovery import Discovery, read_discovery
from kgen.spec._documents import Document, load_documents
from kgen.spec._hoist import Hoister, has_inline_objects
from kgen.spec._openapi import PathResource, definitions_of, gvks_of, resources_from_paths
from kgen.spec._refs import check_definitions
from kgen.spec._wellknown import wellknown_definitions
from kgen.spec.errors import SpecError, json_pointer
from kgen.spec.model import (
    APIModel,
    GroupVersion,
    GroupVersionKind,
    JSONSchema,
    Resource,
    Subresource,
)

__all__ = ["load", "version_priority"]

_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting the version Kubernetes prefers first (v2 > v1 > v1beta2 > v1alpha1)."""
    match = _VERSION.match(version)
    if not match:
        return (3, 0, 0, version)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), version)


@dataclass
class _Builder:
    """Mutable state of one :func:`load` call; never shared."""

    schemas: dict[str, JSONSchema] = field(default_factory=dict)
    origin: dict[str, tuple[Document, str]] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Resource]] = field(default_factory=dict)
    kind_origin: dict[GroupVersionKind, tuple[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    conflicts: int = 0
    from_crds: set[tuple[str, str]] = field(default_factory=set)
    """Group/versions a CRD describes in full (scope, verbs, subresources): nothing to derive."""

    def add_definitions(
        self, doc: Document, defs: dict[str, JSONSchema], where: str, count_conflicts: bool = True
    ) -> None:
        """Add the definitions not yet known; a differing redefinition counts as a conflict
        unless ``count_conflicts`` is false (a v2 fallback beside v3 documents)."""
        for name, schema in defs.items():
            if name in self.schemas:
                if count_conflicts and self.schemas[name] != schema:
                    self.conflicts += 1
                continue
            self.schemas[name] = schema
            self.origin[name] = (doc, where + json_pointer(name))

    def kind_index(self) -> dict[GroupVersionKind, str]:
        index: dict[GroupVersionKind, str] = {}
        for name, schema in self.schemas.items():
            for gvk in gvks_of(schema):
                index.setdefault(gvk, name)
        return index

    def add_resource(
        self, group: str, version: str, res: Resource, origin: tuple[str, str]
    ) -> None:
        """Add a resource; ``origin`` is ``(source, pointer)`` for the duplicate-kind error."""
        gvk = GroupVersionKind(group, version, res.kind)
        table = self.resources.setdefault((group, version), {})
        if gvk in self.kind_origin or res.plural in table:
            first = self.kind_origin.get(gvk, ("another document", ""))
            raise SpecError(
                origin[0],
                origin[1],
                f"duplicate kind {res.kind} (resource {res.plural!r}) in "
                f"{gvk.api_version}: already defined by {first[0]} {first[1]}".rstrip(),
            )
        self.kind_origin[gvk] = origin
        table[res.plural] = res


def _from_paths(found: PathResource, index: dict[GroupVersionKind, str]) -> Resource:
    assert found.kind is not None
    parent = found.kind
    subs = {}
    for name, sub in sorted(found.subresources.items()):
        kind = sub.kind if sub.kind != parent else None
        subs[name] = Subresource(
            name,
            tuple(sorted(sub.verbs)),
            kind if sub.request_schema else None,
            kind if sub.response_schema else None,
            sub.request_schema,
            sub.response_schema,
        )
    list_gvk = replace(parent, kind=parent.kind + "List")
    return Resource(
        plural=found.plural,
        singular=parent.kind.lower(),
        kind=parent.kind,
        namespaced=found.namespaced,
        verbs=tuple(sorted(found.verbs)),
        list_kind=list_gvk.kind if list_gvk in index else None,
        schema=index.get(parent),
        list_schema=index.get(list_gvk),
        subresources=subs,
    )


def _overlay(
    known: Resource | None, seen: Resource, gv: tuple[str, str], index: dict[GroupVersionKind, str]
) -> Resource:
    """A resource as discovery describes it, keeping the schemas the specs gave."""
    gvk = GroupVersionKind(gv[0], gv[1], seen.kind)
    list_gvk = replace(gvk, kind=seen.kind + "List")
    subs = {}
    for name, sub in seen.subresources.items():
        before = known.subresources.get(name) if known else None
        sub_schema = index.get(sub.response_kind) if sub.response_kind else index.get(gvk)
        subs[name] = replace(
            sub,
            request_schema=before.request_schema if before else sub_schema,
            response_schema=before.response_schema if before else sub_schema,
        )
    return replace(
        seen,
        list_kind=list_gvk.kind if list_gvk in index else None,
        schema=index.get(gvk),
        list_schema=index.get(list_gvk),
        subresources=subs,
    )


def _one_family(b: _Builder, docs: list[Document]) -> list[Document]:
    """The OpenAPI documents to read when v2 and v3 documents are given together (a server's
    whole folder: ``swagger.json`` beside ``openapi-v3/``).

    The v3 documents win for every group/version they serve, as kubectl reads ``/openapi/v3``
    first and falls back to ``/openapi/v2``: they describe the same types in another dialect
    (``allOf`` around a ``$ref``, defaults), so merging them definition by definition would only
    find differences. A v2 document is kept, after the v3 ones, only for group/versions no v3
    document serves; the choice is noted once."""
    v3 = [d for d in docs if d.kind == "openapi-v3"]
    v2 = [d for d in docs if d.kind == "openapi-v2"]
    if not (v3 and v2):
        return docs
    served = {(group, version) for doc in v3 for group, version, _ in resources_from_paths(doc)}
    extra = [
        d
        for d in v2
        if {(group, version) for group, version, _ in resources_from_paths(d)} - served
    ]
    v2_names = ", ".join(sorted({d.source for d in v2}))
    if extra:
        b.notes.append(
            f"OpenAPI v2 ({v2_names}) and v3 documents given: v3 wins where both serve a "
            "group/version (kubectl reads /openapi/v3 first); v2 adds only the rest"
        )
    else:
        b.notes.append(
            f"OpenAPI v2 ({v2_names}) and v3 documents given: using v3 (kubectl reads "
            "/openapi/v3 first); the v2 documents serve nothing more and are not read"
        )
    return [*v3, *extra]


def _read_openapi(b: _Builder, docs: list[Document]) -> None:
    """Definitions of every OpenAPI document (nested objects written inline, as servers
    publish CRDs, hoisted into definitions of their own), and the resources their paths serve
    (the first document to describe a resource wins). With v2 and v3 documents together,
    :func:`_one_family` decides which are read; v2 then only adds what v3 lacks."""
    found_paths: dict[tuple[str, str, str], tuple[PathResource, Document]] = {}
    served_by_v3: set[tuple[str, str]] = set()
    hoisted = 0
    for doc in _one_family(b, docs):
        if doc.kind == "openapi-v3":
            served_by_v3.update((g, v) for g, v, _ in resources_from_paths(doc))
        fallback = doc.kind == "openapi-v2" and bool(served_by_v3)
        defs, where = definitions_of(doc)
        taken = set(b.schemas) | set(defs)
        for name, schema in list(defs.items()):
            if has_inline_objects(schema):
                prefix, _, short = name.rpartition(".")
                hoister = Hoister(doc, prefix, short, taken)
                hoister.root(schema, [*where.strip("/").split("/"), name])
                defs.update(hoister.out)
                hoisted += 1
        b.add_definitions(doc, defs, where, count_conflicts=not fallback)
        for key, res in resources_from_paths(doc).items():
            if not (fallback and key[:2] in served_by_v3):
                found_paths.setdefault(key, (res, doc))
    if hoisted:
        b.notes.append(
            f"nested objects of {hoisted} definitions hoisted into definitions of their own"
        )
    if b.conflicts:
        b.notes.append(f"{b.conflicts} definitions differ between documents; the first was kept")
    index = b.kind_index()
    for (group, version, _), (found, doc) in sorted(found_paths.items()):
        if found.kind is None:
            b.notes.append(f"{found.plural} in {group}/{version}: no kind in its paths, skipped")
            continue
        b.add_resource(group, version, _from_paths(found, index), (doc.source, "/paths"))


def _read_crds(b: _Builder, crds: list[Document]) -> None:
    """Every served version of every CRD, plus the well-known definitions they refer to."""
    taken = set(b.schemas).union(*(kind_definition_names(doc) for doc in crds))
    for doc in crds:
        for crd in crd_versions(doc, taken):
            for name, schema in crd.definitions.items():
                b.schemas.setdefault(name, schema)
                b.origin.setdefault(name, (doc, crd.pointer))
            b.add_resource(crd.group, crd.version, crd.resource, (doc.source, crd.pointer))
            b.from_crds.add((crd.group, crd.version))
    wellknown = wellknown_definitions()
    for name in sorted(wellknown.keys() - b.schemas.keys()):
        b.schemas[name] = wellknown[name]


def _apply_discovery(b: _Builder, disc: Discovery) -> None:
    """Let discovery describe the resources of the group/versions the specs serve (or every
    group/version, when there are no specs); note what was derived from paths instead."""
    have_specs = bool(b.resources)
    derived = [gv for gv in b.resources if gv not in disc.resources and gv not in b.from_crds]
    index = b.kind_index()
    for gv, seen in sorted(disc.resources.items()):
        where = f"{gv[0] or 'core'}/{gv[1]}"
        if have_specs and gv not in b.resources:
            b.notes.append(f"discovery lists {where}, which no spec serves: ignored")
            continue
        table = b.resources.setdefault(gv, {})
        for plural, described in seen.items():
            if have_specs and GroupVersionKind(*gv, described.kind) not in index:
                b.notes.append(f"discovery lists {plural} in {where}, which no spec describes")
                continue
            table[plural] = _overlay(table.get(plural), described, gv, index)
    if derived:
        b.notes.append(
            f"no discovery for {len(derived)} group-versions: scope, verbs and subresources "
            "derived from the OpenAPI paths"
        )


def load(specs: Sequence[Path], discovery: Sequence[Path] = ()) -> APIModel:
    """Build the API model of the given documents.

    ``specs`` are OpenAPI v2 documents, folders or files of OpenAPI v3 documents, and CRD
    manifests (YAML or JSON, multi-document, ``List``); discovery documents found among them
    count as discovery. ``discovery`` are discovery documents (or folders of them). Where
    discovery describes a group/version that the specs serve, it is the authority on scope,
    verbs, subresources, short names and categories; elsewhere they are derived from the
    paths (or the CRDs), and :attr:`APIModel.notes` says so.

    Raises :class:`SpecError` (naming file and JSON pointer) for malformed documents, documents
    of the wrong kind, dangling or cyclic references and duplicate kinds. Safe to call from
    several threads; the result is a fresh model.
    """
    docs = load_documents(specs)
    disc_docs = load_documents(discovery)
    for doc in disc_docs:
        if doc.kind != "discovery":
            raise doc.error("", f"expected a discovery document, found {doc.kind}")
    b = _Builder()
    _read_openapi(b, [d for d in docs if d.kind in ("openapi-v2", "openapi-v3")])
    crds = [d for d in docs if d.kind == "crd"]
    if crds:
        _read_crds(b, crds)
    disc = Discovery()
    for doc in [*docs, *disc_docs]:
        if doc.kind == "discovery":
            read_discovery(doc, disc)
    _apply_discovery(b, disc)

    def fail(name: str, pointer: str, message: str) -> SpecError:
        doc, where = b.origin.get(name, (None, ""))
        if doc is None:
            return SpecError("<well-known definitions>", json_pointer(name) + pointer, message)
        return doc.error(where + pointer, f"in definition {name}: {message}")

    check_definitions(b.schemas, fail)
    groups: dict[str, list[str]] = {}
    for group, version in b.resources:
        groups.setdefault(group, []).append(version)
    preferred = {
        g: disc.preferred.get(g) or min(vs, key=version_priority) for g, vs in groups.items()
    }
    gvs = {
        gv: GroupVersion(gv[0], gv[1], dict(sorted(table.items())), preferred[gv[0]] == gv[1])
        for gv, table in sorted(b.resources.items())
    }
    return APIModel(
        group_versions=gvs,
        schemas=b.schemas,
        sources=tuple(str(p) for p in [*specs, *discovery]),
        notes=tuple(b.notes),
    )
