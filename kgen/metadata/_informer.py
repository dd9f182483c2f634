"""Metadata informers: the cache runtime with ``PartialObjectMetadata`` as the object type.

:func:`new_filtered_metadata_informer` makes one informer (not shared);
:class:`MetadataSharedInformerFactory` shares one per ``GroupVersionResource``, on the same
lifecycle as every :class:`kgen.cache.SharedInformerFactory` (``for_resource``, ``start``,
``wait_for_cache_sync``, ``shutdown``). The factory caches :func:`compact_metadata` of each
object unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

from kgen.cache import (
    NAMESPACE_INDEX,
    GenericInformer,
    Indexers,
    SharedIndexInformer,
    SharedInformerFactory,
    TransformFunc,
    TweakListOptionsFunc,
    drop_managed_fields,
    intern_strings,
    meta_namespace_index_func,
    new_filtered_informer,
)
from kgen.client import GroupVersionResource
from kgen.meta import PartialObjectMetadata
from kgen.metadata._client import MetadataClient

__all__ = ["MetadataSharedInformerFactory", "compact_metadata", "new_filtered_metadata_informer"]


def compact_metadata(obj: object) -> object:
    """``obj`` without ``managedFields`` and with its repeated strings shared
    (:func:`~kgen.cache.drop_managed_fields` then :func:`~kgen.cache.intern_strings`): the
    metadata factory's default transform.

    Why a default: kube-controller-manager, the main user of metadata informers (garbage
    collector, quota), builds its metadata factory with a transform that drops managedFields,
    and managedFields are most of what a metadata object weighs (4.9 of the 5.9 KB of a typical
    pod's metadata JSON). Interning shares what pods of one owner repeat (label keys and
    values, annotation keys, the owner reference, ``generateName``). client-go's factory has no
    default transform; pass ``transform=None`` for that.
    """
    return intern_strings(drop_managed_fields(obj))


def new_filtered_metadata_informer(
    client: MetadataClient,
    resource: GroupVersionResource,
    namespace: str = "",
    resync_period: float = 0.0,
    indexers: Indexers | None = None,
    tweak_list_options: TweakListOptionsFunc | None = None,
) -> SharedIndexInformer[PartialObjectMetadata]:
    """An informer of ``resource``'s metadata in ``namespace`` (``""``: all, or a
    cluster-scoped resource), listing and watching through ``client`` with
    ``tweak_list_options`` applied to both. Not shared with any factory; the caller starts and
    stops it."""
    return new_filtered_informer(
        client.resource(resource).namespace(namespace),
        PartialObjectMetadata,
        resync_period,
        indexers,
        tweak_list_options,
        name=f"metadata {resource}",
    )


class MetadataSharedInformerFactory(SharedInformerFactory):
    """Shares one metadata informer per ``GroupVersionResource`` over one
    :class:`~kgen.metadata.MetadataClient`.

    ``namespace`` (``""``: all) and ``tweak_list_options`` apply to every informer;
    ``custom_resync`` is keyed by ``GroupVersionResource``; ``transform`` is set on every
    informer: :func:`compact_metadata` by default (a deviation from client-go, whose factory
    keeps whole objects; see there why), ``None`` to cache objects as decoded, or any
    :data:`~kgen.cache.TransformFunc`. Every informer has the namespace index. Thread-safe, as
    the base.
    """

    def __init__(
        self,
        client: MetadataClient,
        default_resync: float = 0.0,
        *,
        namespace: str = "",
        tweak_list_options: TweakListOptionsFunc | None = None,
        custom_resync: Mapping[GroupVersionResource, float] | None = None,
        transform: TransformFunc | None = compact_metadata,
    ) -> None:
        resync: dict[object, float] = {gvr: s for gvr, s in (custom_resync or {}).items()}
        super().__init__(
            client,
            default_resync,
            namespace=namespace,
            tweak_list_options=tweak_list_options,
            custom_resync=resync,
            transform=transform,
        )

    def for_resource(self, resource: object) -> GenericInformer:
        """The shared informer and lister of ``resource`` (a ``GroupVersionResource``),
        created on first use; any resource the server serves will do."""
        if not isinstance(resource, GroupVersionResource):
            raise TypeError(
                f"for_resource takes a GroupVersionResource, not {type(resource).__name__}"
            )

        def new(
            client: MetadataClient, resync: float
        ) -> SharedIndexInformer[PartialObjectMetadata]:
            return new_filtered_metadata_informer(
                client,
                resource,
                self.namespace,
                resync,
                {NAMESPACE_INDEX: meta_namespace_index_func},
                self.tweak_list_options,
            )

        return GenericInformer(self.informer_for(resource, new), resource.resource, resource.group)
