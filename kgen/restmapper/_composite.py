"""Mappers made of mappers: a union (``MultiRESTMapper``) and a preference order on top
(``PriorityRESTMapper``).

The discovery-backed mapper is a ``PriorityRESTMapper`` over a ``MultiRESTMapper`` with one
``DefaultRESTMapper`` per group/version; the priority patterns say which group/version wins
when a name is served by several (core ``v1`` first, then each group's preferred version).
Both only read their delegates and are as thread-safe as those are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from kgen.client import GroupKind, GroupVersionKind, GroupVersionResource
from kgen.restmapper._errors import (
    AmbiguousKindError,
    AmbiguousResourceError,
    NoKindMatchError,
    NoMatchError,
    NoResourceMatchError,
)
from kgen.restmapper._mapper import RESTMapper, RESTMapping

__all__ = ["ANY", "MultiRESTMapper", "PriorityRESTMapper"]

ANY = "*"
"""Wildcard for any field of a priority pattern."""

V = TypeVar("V")


class MultiRESTMapper:
    """The union of several mappers: results of all of them, first mapper's first.

    A mapper that does not know the name is skipped; any other error is raised.
    """

    def __init__(self, mappers: Iterable[RESTMapper]) -> None:
        self._mappers = list(mappers)

    def _union(
        self, lookup: Callable[[RESTMapper], list[V]], no_match: Callable[[], NoMatchError]
    ) -> list[V]:
        found: dict[V, None] = {}
        for mapper in self._mappers:
            try:
                results = lookup(mapper)
            except NoMatchError:
                continue
            found.update(dict.fromkeys(results))
        if not found:
            raise no_match()
        return list(found)

    def resources_for(self, resource: GroupVersionResource) -> list[GroupVersionResource]:
        return self._union(
            lambda m: m.resources_for(resource), lambda: NoResourceMatchError(resource)
        )

    def resource_for(self, resource: GroupVersionResource) -> GroupVersionResource:
        resources = self.resources_for(resource)
        if len(resources) == 1:
            return resources[0]
        raise AmbiguousResourceError(resource, matching_resources=resources)

    def kinds_for(self, resource: GroupVersionResource) -> list[GroupVersionKind]:
        return self._union(lambda m: m.kinds_for(resource), lambda: NoResourceMatchError(resource))

    def kind_for(self, resource: GroupVersionResource) -> GroupVersionKind:
        kinds = self.kinds_for(resource)
        if len(kinds) == 1:
            return kinds[0]
        raise AmbiguousResourceError(resource, matching_kinds=kinds)

    def rest_mappings(self, group_kind: GroupKind, *versions: str) -> list[RESTMapping]:
        return self._union(
            lambda m: m.rest_mappings(group_kind, *versions),
            lambda: NoKindMatchError(group_kind, versions),
        )

    def rest_mapping(self, group_kind: GroupKind, *versions: str) -> RESTMapping:
        """The one mapping the delegates agree on; several distinct ones are ambiguous."""
        mappings: list[RESTMapping] = []
        errors: list[Exception] = []
        for mapper in self._mappers:
            try:
                mapping = mapper.rest_mapping(group_kind, *versions)
            except NoMatchError:
                continue
            except (LookupError, ValueError) as err:
                errors.append(err)
                continue
            if mapping not in mappings:
                mappings.append(mapping)
        if len(mappings) == 1:
            return mappings[0]
        if mappings:
            raise AmbiguousKindError(
                group_kind.with_version(""), [m.group_version_kind for m in mappings]
            )
        if errors:
            raise errors[0]
        raise NoKindMatchError(group_kind, versions)

    def resource_singularizer(self, resource: str) -> str:
        """The first singular any delegate knows."""
        last: Exception = NoResourceMatchError(GroupVersionResource("", "", resource))
        for mapper in self._mappers:
            try:
                return mapper.resource_singularizer(resource)
            except (LookupError, ValueError) as err:
                last = err
        raise last


def _field_matches(pattern: str, value: str) -> bool:
    return pattern in (ANY, value)


def _resource_matches(pattern: GroupVersionResource, value: GroupVersionResource) -> bool:
    return (
        _field_matches(pattern.group, value.group)
        and _field_matches(pattern.version, value.version)
        and _field_matches(pattern.resource, value.resource)
    )


def _kind_matches(pattern: GroupVersionKind, value: GroupVersionKind) -> bool:
    return (
        _field_matches(pattern.group, value.group)
        and _field_matches(pattern.version, value.version)
        and _field_matches(pattern.kind, value.kind)
    )


def _narrow(
    candidates: Sequence[V], patterns: Iterable[V], matches: Callable[[V, V], bool]
) -> list[V]:
    """Apply patterns in order: a pattern matching one candidate picks it; matching several
    narrows the field to those; matching none is skipped. Returns what remains."""
    remaining = list(candidates)
    for pattern in patterns:
        matching = [candidate for candidate in remaining if matches(pattern, candidate)]
        if len(matching) == 1:
            return matching
        if matching:
            remaining = matching
    return remaining


class PriorityRESTMapper:
    """Picks one answer among a delegate's several by ordered patterns (``ANY`` = wildcard).

    ``resource_priority`` orders resources and ``kind_priority`` orders kinds, e.g.
    ``GroupVersionResource("", "v1", ANY)`` first, then ``("apps", "v1", ANY)``. The plural
    methods return the delegate's full answer unchanged.
    """

    def __init__(
        self,
        delegate: RESTMapper,
        resource_priority: Sequence[GroupVersionResource] = (),
        kind_priority: Sequence[GroupVersionKind] = (),
    ) -> None:
        self._delegate = delegate
        self._resource_priority = list(resource_priority)
        self._kind_priority = list(kind_priority)

    def resources_for(self, resource: GroupVersionResource) -> list[GroupVersionResource]:
        return self._delegate.resources_for(resource)

    def kinds_for(self, resource: GroupVersionResource) -> list[GroupVersionKind]:
        return self._delegate.kinds_for(resource)

    def rest_mappings(self, group_kind: GroupKind, *versions: str) -> list[RESTMapping]:
        return self._delegate.rest_mappings(group_kind, *versions)

    def resource_singularizer(self, resource: str) -> str:
        return self._delegate.resource_singularizer(resource)

    def resource_for(self, resource: GroupVersionResource) -> GroupVersionResource:
        candidates = self._delegate.resources_for(resource)
        remaining = _narrow(candidates, self._resource_priority, _resource_matches)
        if len(remaining) == 1:
            return remaining[0]
        raise AmbiguousResourceError(resource, matching_resources=candidates)

    def kind_for(self, resource: GroupVersionResource) -> GroupVersionKind:
        candidates = self._delegate.kinds_for(resource)
        remaining = _narrow(candidates, self._kind_priority, _kind_matches)
        if len(remaining) == 1:
            return remaining[0]
        raise AmbiguousResourceError(resource, matching_kinds=candidates)

    def rest_mapping(self, group_kind: GroupKind, *versions: str) -> RESTMapping:
        """Versions the caller names come first, then the kind priority patterns."""
        mappings = self._delegate.rest_mappings(group_kind, *versions)
        patterns = [
            GroupVersionKind(group_kind.group, version, ANY) for version in versions
        ] + self._kind_priority
        by_kind = {mapping.group_version_kind: mapping for mapping in mappings}
        remaining = _narrow(list(by_kind), patterns, _kind_matches)
        if len(remaining) == 1:
            return by_kind[remaining[0]]
        raise AmbiguousKindError(
            group_kind.with_version(""), [m.group_version_kind for m in mappings]
        )
