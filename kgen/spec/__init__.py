"""Reading Kubernetes API documents into one :class:`APIModel`.

Inputs: OpenAPI v2 (``swagger.json``), OpenAPI v3 (a folder of per-group-version documents, or
one), CRD manifests (YAML or JSON, multi-document, ``List``) and discovery documents (legacy and
aggregated). :func:`load` builds the model; :func:`load_documents` hands back the parsed,
classified documents themselves. Bad input raises :class:`SpecError` naming file and pointer.
"""

from kgen.spec._documents import Document, DocumentKind, load_documents
from kgen.spec._load import load, version_priority
from kgen.spec.errors import SpecError
from kgen.spec.model import APIModel, GroupVersion, GroupVersionKind, Resource, Subresource

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
