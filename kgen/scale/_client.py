"""``ScaleClient``: the ``scale`` subresource of any scalable resource, as ``autoscaling/v1``.

``ScaleClient(rest, mapper, resolver).scales("default").get(GroupResource("apps",
"deployments"), "web")`` works the same for Deployments, ReplicaSets, StatefulSets,
ReplicationControllers and custom resources with a scale subresource. Each call

1. completes the group/resource to the mapper's preferred version (``resource_for``; a
   mapper error such as :class:`kgen.restmapper.NoResourceMatchError` propagates),
2. asks the resolver which ``Scale`` kind that resource's subresource speaks
   (:class:`NoScaleSubresourceError` when it has none, before anything is sent),
3. sends the request, converting an update's body to that kind, and converts the answer,
   whatever ``Scale`` version the server sent, to ``autoscaling/v1``
   (:class:`ScaleConversionError` when it cannot).

Server errors are :class:`kgen.rest.StatusError` (a stale ``resourceVersion`` in an update is
a conflict: ``kgen.rest.is_conflict``). Thread-safe: the client holds only the thread-safe REST
client, mapper and resolver; a ``Scale`` passed in is only read, one returned is the caller's.
"""

from __future__ import annotations

from kgen.client import GroupResource, GroupVersionKind, GroupVersionResource, PatchData, PatchType
from kgen.discovery import DiscoveryBase, DiscoveryClient, MemCacheClient
from kgen.dynamic import DynamicClient, DynamicResourceClient
from kgen.rest import RESTClient
from kgen.restmapper import DeferredDiscoveryRESTMapper, RESTMapper
from kgen.scale._convert import from_autoscaling_v1, to_autoscaling_v1
from kgen.scale._resolver import (
    CachedScaleKindResolver,
    DiscoveryScaleKindResolver,
    ScaleKindResolver,
)
from kgen.scale._types import Scale

__all__ = ["NamespacedScales", "ScaleClient"]

_SCALE = "scale"


class ScaleClient:
    """Entry point: :meth:`scales` gives the scale verbs in one namespace."""

    def __init__(self, rest: RESTClient, mapper: RESTMapper, resolver: ScaleKindResolver) -> None:
        self._dynamic = DynamicClient(rest)
        self._mapper = mapper
        self._resolver = resolver

    @classmethod
    def from_discovery(
        cls, rest: RESTClient, discovery: DiscoveryBase | None = None
    ) -> ScaleClient:
        """A client whose mapper and resolver both read ``discovery`` (default: discovery of
        ``rest``'s server, cached in memory), the mapper rebuilding itself when stale."""
        cached = discovery if discovery is not None else MemCacheClient(DiscoveryClient(rest))
        return cls(
            rest,
            DeferredDiscoveryRESTMapper(cached),
            CachedScaleKindResolver(DiscoveryScaleKindResolver(cached)),
        )

    def scales(self, namespace: str) -> NamespacedScales:
        """The scale verbs in ``namespace`` (``""`` for cluster-scoped resources)."""
        return NamespacedScales(self._dynamic, self._mapper, self._resolver, namespace)


class NamespacedScales:
    """The scale verbs of one namespace; made by :meth:`ScaleClient.scales`."""

    def __init__(
        self,
        dynamic: DynamicClient,
        mapper: RESTMapper,
        resolver: ScaleKindResolver,
        namespace: str,
    ) -> None:
        self._dynamic = dynamic
        self._mapper = mapper
        self._resolver = resolver
        self._namespace = namespace

    def _target(
        self, resource: GroupVersionResource
    ) -> tuple[DynamicResourceClient, GroupVersionKind]:
        """The client of ``resource`` here, and the Scale kind its subresource speaks."""
        kind = self._resolver.scale_for_resource(resource)
        return self._dynamic.resource(resource).namespace(self._namespace), kind

    def _resolve(self, resource: GroupResource) -> tuple[DynamicResourceClient, GroupVersionKind]:
        """:meth:`_target` of the mapper's preferred version of ``resource``."""
        full = self._mapper.resource_for(
            GroupVersionResource(resource.group, "", resource.resource)
        )
        return self._target(full)

    def get(self, resource: GroupResource, name: str) -> Scale:
        """GET ``<resource>/<name>/scale``."""
        target, _kind = self._resolve(resource)
        return to_autoscaling_v1(target.get_subresource(name, _SCALE, dict))

    def update(
        self,
        resource: GroupResource,
        scale: Scale,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> Scale:
        """PUT ``scale`` to ``<resource>/<scale.metadata.name>/scale``, converted to the kind
        the subresource speaks. A ``metadata.resourceVersion`` in ``scale`` must be current
        (else a conflict); without one the write is unconditional."""
        name = scale.metadata.name
        if not isinstance(name, str) or not name:
            raise ValueError(f"cannot update the scale of {resource}: the Scale has no name")
        target, kind = self._resolve(resource)
        body = from_autoscaling_v1(scale, kind.api_version)
        answer = target.update_subresource(
            name, _SCALE, body, dict, dry_run=dry_run, field_manager=field_manager
        )
        return to_autoscaling_v1(answer)

    def patch(
        self,
        resource: GroupVersionResource,
        name: str,
        patch_type: PatchType,
        data: PatchData,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> Scale:
        """PATCH ``<resource>/<name>/scale`` with ``data`` as is (written against the kind the
        subresource speaks); ``resource`` is a full group/version/resource, not mapped."""
        target, _kind = self._target(resource)
        answer = target.patch_subresource(
            name, _SCALE, data, patch_type, dict, dry_run=dry_run, field_manager=field_manager
        )
        return to_autoscaling_v1(answer)
