"""kgen.scale: the ``scale`` subresource of any scalable resource, by group and resource.

Public surface: :class:`ScaleClient` (``scales(namespace)`` gives :class:`NamespacedScales`
with ``get``, ``update`` and ``patch``), the ``autoscaling/v1`` types it hands out
(:class:`Scale`, :class:`ScaleSpec`, :class:`ScaleStatus`), the resolvers of which ``Scale``
kind a resource speaks (:class:`ScaleKindResolver`, :class:`DiscoveryScaleKindResolver`,
:class:`CachedScaleKindResolver`), the conversions to and from the older ``Scale`` kinds
(:func:`to_autoscaling_v1`, :func:`from_autoscaling_v1`, :data:`SCALE_VERSIONS`) and the errors
:class:`NoScaleSubresourceError` and :class:`ScaleConversionError`.
"""

from kgen.scale._client import NamespacedScales, ScaleClient
from kgen.scale._convert import (
    SCALE_VERSIONS,
    ScaleConversionError,
    from_autoscaling_v1,
    to_autoscaling_v1,
)
from kgen.scale._resolver import (
    CachedScaleKindResolver,
    DiscoveryScaleKindResolver,
    NoScaleSubresourceError,
    ScaleKindResolver,
)
from kgen.scale._types import AUTOSCALING_V1, Scale, ScaleSpec, ScaleStatus

__all__ = [
    "AUTOSCALING_V1",
    "SCALE_VERSIONS",
    "CachedScaleKindResolver",
    "DiscoveryScaleKindResolver",
    "NamespacedScales",
    "NoScaleSubresourceError",
    "Scale",
    "ScaleClient",
    "ScaleConversionError",
    "ScaleKindResolver",
    "ScaleSpec",
    "ScaleStatus",
    "from_autoscaling_v1",
    "to_autoscaling_v1",
]
