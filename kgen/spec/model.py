"""The API model: one description of a set of Kubernetes APIs, built once from whatever documents
were given (OpenAPI v2 or v3, discovery, CRD manifests) and read by every emitter and by the
``kgen.testing`` API server.

The model is plain, immutable-by-convention data: loaders build it, nobody mutates it afterwards,
and it is safe to share between threads.

Schemas are kept as JSON Schema dicts in OpenAPI v2 form (``$ref`` values point at
``#/definitions/<name>``), keyed by definition name (``io.k8s.api.core.v1.Pod``); loaders of
v3 documents and CRDs translate into that form, so readers handle one shape only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "APIModel",
    "GroupVersion",
    "GroupVersionKind",
    "Resource",
    "Subresource",
]

JSONSchema = dict[str, Any]


@dataclass(frozen=True, order=True)
class GroupVersionKind:
    """A kind's identity. ``group`` is ``""`` for the legacy core group."""

    group: str
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``<group>/<version>`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass
class Subresource:
    """A subresource of a resource (``status``, ``scale``, ``log``, ``eviction``, ...).

    ``request_kind``/``response_kind`` are the kinds sent and returned; ``None`` when the
    subresource speaks the parent's kind (``status``) or no typed body (``log`` streams text).
    """

    name: str
    verbs: tuple[str, ...]
    request_kind: GroupVersionKind | None = None
    response_kind: GroupVersionKind | None = None
    request_schema: str | None = None
    response_schema: str | None = None


@dataclass
class Resource:
    """One REST resource of a group/version (``pods`` in ``v1``)."""

    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    list_kind: str | None = None
    schema: str | None = None
    """Definition name of the kind's schema (``io.k8s.api.core.v1.Pod``)."""
    list_schema: str | None = None
    subresources: dict[str, Subresource] = field(default_factory=dict)
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass
class GroupVersion:
    """The resources one group/version serves, keyed by plural name."""

    group: str
    version: str
    resources: dict[str, Resource] = field(default_factory=dict)
    preferred: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass
class APIModel:
    """Everything the emitters and the test server need to know about a set of APIs."""

    group_versions: dict[tuple[str, str], GroupVersion] = field(default_factory=dict)
    schemas: dict[str, JSONSchema] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    """The documents the model was built from, for headers and error messages."""
    notes: tuple[str, ...] = ()
    """What the loader had to infer or ignore (e.g. scope derived from paths, no discovery)."""
