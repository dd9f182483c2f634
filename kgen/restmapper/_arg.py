"""Resource names as users type them on a command line: ``deploy``, ``deployments.apps``,
``deployments.v1.apps``, ``hpa.v2.autoscaling``."""

from __future__ import annotations

from kgen.client import GroupResource, GroupVersionResource
from kgen.restmapper._errors import NoMatchError
from kgen.restmapper._mapper import RESTMapper

__all__ = ["parse_resource_arg", "resource_for_arg"]


def parse_resource_arg(arg: str) -> tuple[GroupVersionResource | None, GroupResource]:
    """Both readings of ``arg``: ``<resource>.<version>.<group...>`` when it has two dots or
    more (else ``None``), and ``<resource>.<group...>`` (the group may be empty)."""
    full = None
    if arg.count(".") >= 2:
        resource, version, group = arg.split(".", 2)
        full = GroupVersionResource(group, version, resource)
    resource, _, group = arg.partition(".")
    return full, GroupResource(group, resource)


def resource_for_arg(mapper: RESTMapper, arg: str) -> GroupVersionResource:
    """The resource a user means by ``arg`` (matched lowercase), as kubectl resolves it: the
    ``resource.version.group`` reading when the mapper knows it, else ``resource.group``.

    Raises the mapper's :class:`~kgen.restmapper.NoMatchError` or ambiguity error.
    """
    full, group_resource = parse_resource_arg(arg.lower())
    if full is not None:
        try:
            return mapper.resource_for(full)
        except NoMatchError:
            pass
    return mapper.resource_for(
        GroupVersionResource(group_resource.group, "", group_resource.resource)
    )
