"""Errors of REST mapping: nothing matched, or more than one thing did.

``NoMatchError`` and ``AmbiguousError`` are the two families callers test for (client-go's
``IsNoMatchError`` / ``IsAmbiguousError`` become ``isinstance`` checks).
"""

from __future__ import annotations

from collections.abc import Sequence

from kgen.client import GroupKind, GroupVersionKind, GroupVersionResource

__all__ = [
    "AmbiguousError",
    "AmbiguousKindError",
    "AmbiguousResourceError",
    "NoKindMatchError",
    "NoMatchError",
    "NoResourceMatchError",
]


def _describe_resource(resource: GroupVersionResource) -> str:
    parts = [f"resource {resource.resource!r}"]
    if resource.group:
        parts.append(f"group {resource.group!r}")
    if resource.version:
        parts.append(f"version {resource.version!r}")
    return ", ".join(parts)


def _describe_kind(kind: GroupVersionKind) -> str:
    parts = [f"kind {kind.kind!r}"]
    if kind.group:
        parts.append(f"group {kind.group!r}")
    if kind.version:
        parts.append(f"version {kind.version!r}")
    return ", ".join(parts)


class NoMatchError(LookupError):
    """Nothing the mapper knows matches the request."""


class NoResourceMatchError(NoMatchError):
    """No resource matches ``partial_resource`` (a plural, singular or short name)."""

    def __init__(self, partial_resource: GroupVersionResource) -> None:
        super().__init__(f"no matches for {_describe_resource(partial_resource)}")
        self.partial_resource = partial_resource


class NoKindMatchError(NoMatchError):
    """No version of ``group_kind`` is known (among ``searched_versions`` when any were given)."""

    def __init__(self, group_kind: GroupKind, searched_versions: Sequence[str] = ()) -> None:
        where = f"group {group_kind.group!r}" if group_kind.group else "the core group"
        message = f"no matches for kind {group_kind.kind!r} in {where}"
        versions = [version for version in searched_versions if version]
        if versions:
            message += f" (searched versions: {', '.join(versions)})"
        super().__init__(message)
        self.group_kind = group_kind
        self.searched_versions = tuple(searched_versions)


class AmbiguousError(LookupError):
    """More than one thing matches; the candidates are on the error."""


class AmbiguousResourceError(AmbiguousError):
    """``partial_resource`` matches several resources and/or kinds."""

    def __init__(
        self,
        partial_resource: GroupVersionResource,
        matching_resources: Sequence[GroupVersionResource] = (),
        matching_kinds: Sequence[GroupVersionKind] = (),
    ) -> None:
        found = [str(r) for r in matching_resources] + [
            f"{k.api_version}, Kind={k.kind}" for k in matching_kinds
        ]
        super().__init__(
            f"{_describe_resource(partial_resource)} matches more than one: {'; '.join(found)}"
        )
        self.partial_resource = partial_resource
        self.matching_resources = tuple(matching_resources)
        self.matching_kinds = tuple(matching_kinds)


class AmbiguousKindError(AmbiguousError):
    """``partial_kind`` matches several kinds."""

    def __init__(
        self, partial_kind: GroupVersionKind, matching_kinds: Sequence[GroupVersionKind]
    ) -> None:
        found = "; ".join(f"{k.api_version}, Kind={k.kind}" for k in matching_kinds)
        super().__init__(f"{_describe_kind(partial_kind)} matches more than one: {found}")
        self.partial_kind = partial_kind
        self.matching_kinds = tuple(matching_kinds)
