"""kgen.client: the generic typed client that every generated client is a thin subclass of.

Public surface: :class:`ResourceClient` (all verbs of one resource), :class:`PatchType`, and the
names of things: :class:`GroupVersionResource`, :class:`GroupResource`, :class:`GroupKind`,
:class:`GroupVersionKind`, with :func:`parse_group_version` / :func:`format_group_version`.
"""

from kgen.client._patch import PatchType
from kgen.client._resource import FieldValidation, PropagationPolicy, ResourceClient
from kgen.client._schema import (
    GroupKind,
    GroupResource,
    GroupVersionKind,
    GroupVersionResource,
    format_group_version,
    parse_group_version,
)

__all__ = [
    "FieldValidation",
    "GroupKind",
    "GroupResource",
    "GroupVersionKind",
    "GroupVersionResource",
    "PatchType",
    "PropagationPolicy",
    "ResourceClient",
    "format_group_version",
    "parse_group_version",
]
