"""The ``RESTMapper`` protocol and the values it returns.

A REST mapper answers two questions: which resource serves a kind (``rest_mapping``: needed to
send an object you only know by ``apiVersion``/``kind``), and which kind and full resource a
partial name means (``kind_for``/``resource_for``: what a user typed, such as ``deploy``).
Partial names leave fields empty: ``GroupVersionResource("", "", "pods")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kgen.client import GroupKind, GroupVersionKind, GroupVersionResource

__all__ = ["RESTMapper", "RESTMapping", "RESTScope"]


class RESTScope(StrEnum):
    """Whether a resource lives in a namespace or at the cluster root."""

    NAMESPACE = "namespace"
    ROOT = "root"


@dataclass(frozen=True)
class RESTMapping:
    """A kind and the resource that serves it, with its scope."""

    resource: GroupVersionResource
    group_version_kind: GroupVersionKind
    scope: RESTScope


class RESTMapper(Protocol):
    """Maps kinds to resources and partial resource names to full ones.

    Errors: :class:`~kgen.restmapper.NoMatchError` when nothing matches,
    :class:`~kgen.restmapper.AmbiguousError` when a singular answer was asked for and several
    candidates remain after applying preferences. Lists come most preferred first.
    """

    def kind_for(self, resource: GroupVersionResource) -> GroupVersionKind: ...

    def kinds_for(self, resource: GroupVersionResource) -> list[GroupVersionKind]: ...

    def resource_for(self, resource: GroupVersionResource) -> GroupVersionResource: ...

    def resources_for(self, resource: GroupVersionResource) -> list[GroupVersionResource]: ...

    def rest_mapping(self, group_kind: GroupKind, *versions: str) -> RESTMapping: ...

    def rest_mappings(self, group_kind: GroupKind, *versions: str) -> list[RESTMapping]: ...

    def resource_singularizer(self, resource: str) -> str: ...
