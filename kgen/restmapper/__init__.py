"""kgen.restmapper: from kinds to resources and from what users type to full resource names.

Public surface: the :class:`RESTMapper` protocol, :class:`RESTMapping` and :class:`RESTScope`;
:class:`DefaultRESTMapper` (an explicit table), :class:`MultiRESTMapper` and
:class:`PriorityRESTMapper` (composition), the discovery-backed mappers
(:func:`new_discovery_rest_mapper`, :class:`ShortcutExpander`,
:class:`DeferredDiscoveryRESTMapper`), :func:`resource_for_arg` (what kubectl does with
``deployments.v1.apps``), and the errors (:class:`NoMatchError` and
:class:`AmbiguousError` families). For asyncio programs, :mod:`kgen.restmapper.aio` builds the
discovery-backed mapper from an async discovery client.
"""

from kgen.restmapper._arg import parse_resource_arg, resource_for_arg
from kgen.restmapper._composite import ANY, MultiRESTMapper, PriorityRESTMapper
from kgen.restmapper._default import DefaultRESTMapper, unsafe_guess_kind_to_resource
from kgen.restmapper._discovery import (
    APIGroupResources,
    DeferredDiscoveryRESTMapper,
    ShortcutExpander,
    get_api_group_resources,
    new_discovery_rest_mapper,
)
from kgen.restmapper._errors import (
    AmbiguousError,
    AmbiguousKindError,
    AmbiguousResourceError,
    NoKindMatchError,
    NoMatchError,
    NoResourceMatchError,
)
from kgen.restmapper._mapper import RESTMapper, RESTMapping, RESTScope

__all__ = [
    "ANY",
    "APIGroupResources",
    "AmbiguousError",
    "AmbiguousKindError",
    "AmbiguousResourceError",
    "DefaultRESTMapper",
    "DeferredDiscoveryRESTMapper",
    "MultiRESTMapper",
    "NoKindMatchError",
    "NoMatchError",
    "NoResourceMatchError",
    "PriorityRESTMapper",
    "RESTMapper",
    "RESTMapping",
    "RESTScope",
    "ShortcutExpander",
    "get_api_group_resources",
    "new_discovery_rest_mapper",
    "parse_resource_arg",
    "resource_for_arg",
    "unsafe_guess_kind_to_resource",
]
