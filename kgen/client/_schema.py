"""Names of API groups, versions, resources and kinds.

Plain frozen values, hashable and ordered, safe to share between threads. A group of ``""`` is
the legacy core group (``/api/v1``); everything else lives under ``/apis/<group>/<version>``.
``GroupVersionKind`` is the API model's own type, re-exported here so that the runtime and the
generator speak of a kind the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from kgen.spec.model import GroupVersionKind

__all__ = [
    "GroupKind",
    "GroupResource",
    "GroupVersionKind",
    "GroupVersionResource",
    "format_group_version",
    "parse_group_version",
]


def parse_group_version(group_version: str) -> tuple[str, str]:
    """Split an ``apiVersion`` into ``(group, version)``: ``"apps/v1"`` -> ``("apps", "v1")``.

    ``"v1"`` is the core group (``("", "v1")``) and ``""`` gives ``("", "")``. More than one
    ``/`` is an error naming the bad value.
    """
    if "/" not in group_version:
        return "", group_version
    group, _, version = group_version.partition("/")
    if "/" in version:
        raise ValueError(f"unexpected group/version {group_version!r}: more than one '/'")
    return group, version


def format_group_version(group: str, version: str) -> str:
    """The ``apiVersion`` of a group and version: ``v1`` for the core group, else ``group/v``."""
    return f"{group}/{version}" if group else version


@dataclass(frozen=True, order=True)
class GroupResource:
    """A resource within a group, any version (``deployments`` in ``apps``)."""

    group: str
    resource: str

    def __str__(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


@dataclass(frozen=True, order=True)
class GroupKind:
    """A kind within a group, any version (``Deployment`` in ``apps``)."""

    group: str
    kind: str

    def with_version(self, version: str) -> GroupVersionKind:
        return GroupVersionKind(self.group, version, self.kind)

    def __str__(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


@dataclass(frozen=True, order=True)
class GroupVersionResource:
    """The REST identity of a resource: ``GroupVersionResource("apps", "v1", "deployments")``.

    Any field may be ``""`` when the value is used as a partial pattern (the REST mapper
    matches ``GroupVersionResource("", "", "deploy")`` against what discovery found).
    """

    group: str
    version: str
    resource: str

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``<group>/<version>`` otherwise."""
        return format_group_version(self.group, self.version)

    def group_resource(self) -> GroupResource:
        return GroupResource(self.group, self.resource)

    def __str__(self) -> str:
        return f"{self.api_version}, Resource={self.resource}"
