"""Reading Kubernetes API documents into one :class:`APIModel`.

Inputs: OpenAPI v2 (``swagger.json``), OpenAPI v3 (a folder of per-group-version documents, or
one), CRD manifests (YAML or JSON, multi-document, ``List``) and discovery documents (legacy and
aggregated). :func:`load` builds the model; :func:`load_documents` hands back the parsed,
classified documents themselves. Bad input raises :class:`SpecError` naming file and pointer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kgen._lazy import lazy_attribute
from kgen.spec.errors import SpecError
from kgen.spec.model import APIModel, GroupVersion, GroupVersionKind, Resource, Subresource

if TYPE_CHECKING:
    from kgen.spec._documents import Document, DocumentKind, load_documents
    from kgen.spec._load import load, version_priority

# The readers (yaml, the OpenAPI and CRD walkers) are imported on first use (PEP 562): the
# runtime imports kgen.spec.model for GroupVersionKind and must not pay for them.
_LAZY = {
    "Document": "_documents",
    "DocumentKind": "_documents",
    "load_documents": "_documents",
    "load": "_load",
    "version_priority": "_load",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name, globals())


__all__ = [
    "APIModel",
    "Document",
    "DocumentKind",
    "GroupVersion",
    "GroupVersionKind",
    "Resource",
    "SpecError",
    "Subresource",
    "load",
    "load_documents",
    "version_priority",
]
