"""``DefaultRESTMapper``: a table of kinds and resources for an ordered list of group/versions.

Built by calling :meth:`DefaultRESTMapper.add_specific` (or :meth:`DefaultRESTMapper.add`,
which guesses the resource names from the kind) and read afterwards. Matching rules:

* resource names are matched lowercase, by plural or singular name;
* a partial request matches on the fields it sets: group and version, group only, version
  only, or neither;
* several results are ordered by the mapper's group/version preference, then by name.

Not thread-safe while being built; once built it is only read and may be shared freely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kgen.client import GroupKind, GroupVersionKind, GroupVersionResource
from kgen.restmapper._errors import (
    AmbiguousResourceError,
    NoKindMatchError,
    NoResourceMatchError,
)
from kgen.restmapper._mapper import RESTMapping, RESTScope

__all__ = ["DefaultRESTMapper", "unsafe_guess_kind_to_resource"]

_UNPLURALIZED_SUFFIXES = ("endpoints",)
_INTERNAL_VERSION = "__internal"


def unsafe_guess_kind_to_resource(
    kind: GroupVersionKind,
) -> tuple[GroupVersionResource, GroupVersionResource]:
    """Guess ``(plural, singular)`` resources from a kind: lowercase, then English-ish plural.

    ``Pod`` -> ``pods``, ``Ingress`` -> ``ingresses``, ``Policy`` -> ``policies``, ``Endpoints``
    stays ``endpoints``. Only a guess: discovery's names win wherever they are known.
    """
    if not kind.kind:
        empty = GroupVersionResource("", "", "")
        return empty, empty
    singular_name = kind.kind.lower()
    singular = GroupVersionResource(kind.group, kind.version, singular_name)
    if singular_name.endswith(_UNPLURALIZED_SUFFIXES):
        return singular, singular
    if singular_name.endswith("s"):
        plural_name = singular_name + "es"
    elif singular_name.endswith("y"):
        plural_name = singular_name[:-1] + "ies"
    else:
        plural_name = singular_name + "s"
    return GroupVersionResource(kind.group, kind.version, plural_name), singular


def _coerce(resource: GroupVersionResource) -> GroupVersionResource:
    version = "" if resource.version == _INTERNAL_VERSION else resource.version
    return GroupVersionResource(resource.group, version, resource.resource.lower())


def _matches(partial: GroupVersionResource, candidate: GroupVersionResource) -> bool:
    """Whether ``candidate`` has every field ``partial`` sets (resource always set)."""
    return (
        candidate.resource == partial.resource
        and (not partial.group or candidate.group == partial.group)
        and (not partial.version or candidate.version == partial.version)
    )


class DefaultRESTMapper:
    """A :class:`~kgen.restmapper.RESTMapper` over explicitly added kinds (see module doc)."""

    def __init__(self, default_group_versions: Iterable[tuple[str, str]] = ()) -> None:
        """``default_group_versions``: ``(group, version)`` pairs, most preferred first."""
        self._default_group_versions = list(default_group_versions)
        self._resource_to_kind: dict[GroupVersionResource, GroupVersionKind] = {}
        self._kind_to_plural: dict[GroupVersionKind, GroupVersionResource] = {}
        self._kind_to_scope: dict[GroupVersionKind, RESTScope] = {}
        self._singular_to_plural: dict[GroupVersionResource, GroupVersionResource] = {}
        self._plural_to_singular: dict[GroupVersionResource, GroupVersionResource] = {}

    def add(self, kind: GroupVersionKind, scope: RESTScope) -> None:
        """Add ``kind`` with resource names guessed by :func:`unsafe_guess_kind_to_resource`."""
        plural, singular = unsafe_guess_kind_to_resource(kind)
        self.add_specific(kind, plural, singular, scope)

    def add_specific(
        self,
        kind: GroupVersionKind,
        plural: GroupVersionResource,
        singular: GroupVersionResource,
        scope: RESTScope,
    ) -> None:
        """Map ``kind`` to ``plural`` (and its ``singular`` name); later calls win for a name."""
        self._singular_to_plural[singular] = plural
        self._plural_to_singular[plural] = singular
        self._resource_to_kind[singular] = kind
        self._resource_to_kind[plural] = kind
        self._kind_to_plural[kind] = plural
        self._kind_to_scope[kind] = scope

    # -- resource names -> kinds and resources --------------------------------------------------

    def resources_for(self, resource: GroupVersionResource) -> list[GroupVersionResource]:
        partial = self._checked(resource)
        found: dict[GroupVersionResource, None] = {}
        for plural, singular in self._plural_to_singular.items():
            if _matches(partial, singular) or _matches(partial, plural):
                found[plural] = None
        if not found:
            raise NoResourceMatchError(partial)
        return sorted(found, key=lambda r: self._preference(r.group, r.version, r.resource))

    def resource_for(self, resource: GroupVersionResource) -> GroupVersionResource:
        resources = self.resources_for(resource)
        if len(resources) == 1:
            return resources[0]
        raise AmbiguousResourceError(resource, matching_resources=resources)

    def kinds_for(self, resource: GroupVersionResource) -> list[GroupVersionKind]:
        partial = self._checked(resource)
        found: dict[GroupVersionKind, None] = {}
        for candidate, kind in self._resource_to_kind.items():
            if _matches(partial, candidate):
                found[kind] = None
        if not found:
            raise NoResourceMatchError(partial)
        return sorted(found, key=lambda k: self._preference(k.group, k.version, k.kind))

    def kind_for(self, resource: GroupVersionResource) -> GroupVersionKind:
        kinds = self.kinds_for(resource)
        if len(kinds) == 1:
            return kinds[0]
        raise AmbiguousResourceError(resource, matching_kinds=kinds)

    def resource_singularizer(self, resource: str) -> str:
        """The singular name of a plural resource name (``pods`` -> ``pod``)."""
        resources = self.resources_for(GroupVersionResource("", "", resource))
        singulars = {
            self._plural_to_singular[r].resource for r in resources if r in self._plural_to_singular
        }
        if len(singulars) > 1:
            raise ValueError(
                f"multiple possible singular resources {sorted(singulars)} found for {resource!r}"
            )
        if not singulars:
            raise ValueError(f"no singular of resource {resource!r} has been defined")
        return singulars.pop()

    # -- kinds -> resources ---------------------------------------------------------------------

    def rest_mappings(self, group_kind: GroupKind, *versions: str) -> list[RESTMapping]:
        """Mappings of ``group_kind``: the first of ``versions`` the mapper knows, else every
        default group/version of the kind's group, in preference order."""
        candidates: list[GroupVersionKind] = []
        had_version = False
        for version in versions:
            if not version or version == _INTERNAL_VERSION:
                continue
            had_version = True
            kind = group_kind.with_version(version)
            if kind in self._kind_to_plural:
                candidates.append(kind)
                break
        if not had_version and not candidates:
            candidates = [
                group_kind.with_version(version)
                for group, version in self._default_group_versions
                if group == group_kind.group
            ]
        if not candidates:
            raise NoKindMatchError(group_kind, versions)
        mappings: list[RESTMapping] = []
        for kind in candidates:
            plural = self._kind_to_plural.get(kind)
            if plural is None:
                continue
            mappings.append(RESTMapping(plural, kind, self._kind_to_scope[kind]))
        if not mappings:
            raise NoResourceMatchError(GroupVersionResource(group_kind.group, "", group_kind.kind))
        return mappings

    def rest_mapping(self, group_kind: GroupKind, *versions: str) -> RESTMapping:
        """The first of :meth:`rest_mappings`."""
        return self.rest_mappings(group_kind, *versions)[0]

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _checked(resource: GroupVersionResource) -> GroupVersionResource:
        partial = _coerce(resource)
        if not partial.resource:
            raise ValueError(f"a resource name must be given, got {partial}")
        return partial

    def _preference(self, group: str, version: str, name: str) -> tuple[int, str, str, str]:
        order: Sequence[tuple[str, str]] = self._default_group_versions
        try:
            index = order.index((group, version))
        except ValueError:
            index = len(order)
        return index, group, version, name
