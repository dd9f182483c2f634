"""What every discovery client offers, and the answers derived from its two primitives.

A discovery client implements :meth:`DiscoveryBase.groups_and_maybe_resources` (group
discovery, with resources when the server sent them along) and
:meth:`DiscoveryBase.server_resources_for_group_version`; this base class derives the rest the
same way for the live client and the caches: all groups, all groups with their resources, and
the preferred version of every resource.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import msgspec

from kgen.client import GroupResource, format_group_version
from kgen.discovery._aggregated import DiscoveredGroups
from kgen.discovery._errors import GroupDiscoveryFailedError
from kgen.meta import (
    APIGroup,
    APIGroupList,
    APIResource,
    APIResourceList,
    GroupVersionForDiscovery,
    Model,
)

__all__ = ["DiscoveryBase", "VersionInfo"]

_MAX_PARALLEL_FETCHES = 8


class VersionInfo(Model):
    """The server's build (``/version``)."""

    major: str = ""
    minor: str = ""
    git_version: str = msgspec.field(name="gitVersion", default="")
    git_commit: str = msgspec.field(name="gitCommit", default="")
    git_tree_state: str = msgspec.field(name="gitTreeState", default="")
    build_date: str = msgspec.field(name="buildDate", default="")
    go_version: str = msgspec.field(name="goVersion", default="")
    compiler: str = ""
    platform: str = ""


class DiscoveryBase(ABC):
    """The discovery interface. Implementations are thread-safe.

    ``fresh()``/``invalidate()`` matter for caches: ``fresh()`` is ``False`` when an answer
    may be out of date (served from a cache another process wrote), and ``invalidate()``
    forgets cached answers. A live client is always fresh and has nothing to forget.
    """

    @abstractmethod
    def server_version(self) -> VersionInfo:
        """The server's version information."""

    @abstractmethod
    def groups_and_maybe_resources(self) -> DiscoveredGroups:
        """Groups (core first) and, when the server sent them in the same answer, resources."""

    @abstractmethod
    def server_resources_for_group_version(self, group_version: str) -> APIResourceList:
        """The resources of one group/version (``v1``, ``apps/v1``)."""

    def fresh(self) -> bool:
        return True

    def invalidate(self) -> None:  # noqa: B027 - a live client has nothing to forget
        """Forget cached answers (nothing to do for a live client)."""

    def server_groups(self) -> APIGroupList:
        """Every group the server serves, the legacy core group first."""
        return APIGroupList(groups=tuple(self.groups_and_maybe_resources().groups))

    def server_groups_and_resources(self) -> tuple[list[APIGroup], list[APIResourceList]]:
        """Every group, and the resources of every group/version in discovery order.

        Raises :class:`GroupDiscoveryFailedError` (carrying the partial answer) when some
        group/versions could not be discovered.
        """
        return groups_and_resources(self._with_resources())

    def server_preferred_resources(self) -> list[APIResourceList]:
        """One list per group/version holding the resources whose chosen version it is.

        A resource is taken from its group's preferred version when served there, else from
        the first version that serves it. Subresources are left out. Group/versions left with
        no resources still get an (empty) list. Partial failures raise
        :class:`GroupDiscoveryFailedError` with the partial answer in ``resources``.
        """
        return preferred_resources(self._with_resources())

    def server_preferred_namespaced_resources(self) -> list[APIResourceList]:
        """:meth:`server_preferred_resources` keeping only namespaced resources (lists that end
        up empty are dropped). Partial failures raise as there, with the filtered answer."""
        return preferred_namespaced_resources(self._with_resources())

    def _with_resources(self) -> DiscoveredGroups:
        """Group discovery, then per-group/version requests (in parallel) if needed."""
        return with_resources(self, self.groups_and_maybe_resources())


def with_resources(discovery: DiscoveryBase, discovered: DiscoveredGroups) -> DiscoveredGroups:
    """``discovered`` with its resources filled in: as they are when the server sent them,
    else asked of ``discovery`` for every group/version, a few at a time (the worker threads
    live only for the duration of the call). Failures add to those already known."""
    group_versions = missing_group_versions(discovered)
    if not group_versions:
        return filled(discovered, [], [])

    def fetch(group_version: str) -> APIResourceList | Exception:
        try:
            return discovery.server_resources_for_group_version(group_version)
        except Exception as err:  # reported per group/version, like the server's answer
            return err

    workers = min(_MAX_PARALLEL_FETCHES, len(group_versions))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kgen-discovery") as pool:
        answers = list(pool.map(fetch, group_versions))
    return filled(discovered, group_versions, answers)


# -- the derivations, pure, shared by the sync clients and kgen.discovery.aio ------------------


def missing_group_versions(discovered: DiscoveredGroups) -> list[str]:
    """The group/versions whose resources must still be asked for (none when the server sent
    them with the groups)."""
    return [] if discovered.resources is not None else _group_versions(discovered.groups)


def filled(
    discovered: DiscoveredGroups,
    group_versions: Sequence[str],
    answers: Sequence[APIResourceList | Exception],
) -> DiscoveredGroups:
    """``discovered`` with the ``answers`` to :func:`missing_group_versions` (a resource list,
    or the error asking for it) filled in; unchanged when it already had its resources."""
    if discovered.resources is not None:
        return discovered
    result = DiscoveredGroups(
        groups=discovered.groups, resources={}, failed=dict(discovered.failed)
    )
    resources: dict[str, APIResourceList] = {}
    for group_version, answer in zip(group_versions, answers, strict=True):
        if isinstance(answer, Exception):
            result.failed[group_version] = answer
        else:
            resources[group_version] = answer
    result.resources = resources
    return result


def groups_and_resources(
    discovered: DiscoveredGroups,
) -> tuple[list[APIGroup], list[APIResourceList]]:
    """:meth:`DiscoveryBase.server_groups_and_resources` of a discovery with its resources."""
    resources = [
        discovered.resources[gv]
        for gv in _group_versions(discovered.groups)
        if discovered.resources is not None and gv in discovered.resources
    ]
    if discovered.failed:
        raise GroupDiscoveryFailedError(discovered.failed, discovered.groups, resources)
    return discovered.groups, resources


def preferred_resources(discovered: DiscoveredGroups) -> list[APIResourceList]:
    """:meth:`DiscoveryBase.server_preferred_resources` of a discovery with its resources."""
    found = discovered.resources or {}
    chosen: dict[GroupResource, tuple[str, APIResource]] = {}
    for group in discovered.groups:
        preferred = group.preferred_version
        preferred_version = (
            preferred.version if isinstance(preferred, GroupVersionForDiscovery) else ""
        )
        for version in group.versions:
            resource_list = found.get(version.group_version)
            if resource_list is None:
                continue
            for resource in resource_list.resources:
                if "/" in resource.name:
                    continue
                key = GroupResource(group.name, resource.name)
                if key in chosen and version.version != preferred_version:
                    continue
                chosen[key] = (version.group_version, resource)
    by_group_version: dict[str, list[APIResource]] = {
        gv: [] for gv in _group_versions(discovered.groups) if gv in found
    }
    for group_version, resource in chosen.values():
        by_group_version[group_version].append(resource)
    result = [
        APIResourceList(group_version=gv, resources=tuple(resources))
        for gv, resources in by_group_version.items()
    ]
    if discovered.failed:
        raise GroupDiscoveryFailedError(discovered.failed, discovered.groups, result)
    return result


def preferred_namespaced_resources(discovered: DiscoveredGroups) -> list[APIResourceList]:
    """:meth:`DiscoveryBase.server_preferred_namespaced_resources` of a discovery with its
    resources."""
    try:
        return _namespaced(preferred_resources(discovered))
    except GroupDiscoveryFailedError as err:
        partial = _namespaced(err.resources)
        raise GroupDiscoveryFailedError(err.failed, err.groups, partial) from None


def _namespaced(resource_lists: Sequence[APIResourceList]) -> list[APIResourceList]:
    filtered = (
        APIResourceList(
            group_version=rl.group_version,
            resources=tuple(r for r in rl.resources if r.namespaced),
        )
        for rl in resource_lists
    )
    return [rl for rl in filtered if rl.resources]


def _group_versions(groups: Sequence[APIGroup]) -> list[str]:
    return [
        version.group_version or format_group_version(group.name, version.version)
        for group in groups
        for version in group.versions
    ]
