"""kgen.metadata: any resource's objects as their metadata only, and informers over them.

``MetadataClient(rest).resource(gvr).namespace("default").get("web")`` returns a
:class:`kgen.meta.PartialObjectMetadata`: the server is asked (``Accept``) to send only
``apiVersion``, ``kind`` and ``metadata``, and a server that sends whole objects anyway is
answered the same way, the rest being skipped while decoding. Lists are
:class:`kgen.meta.PartialObjectMetadataList`. The verbs are client-go's metadata client's:
get, list, watch, patch, delete, delete_collection.

:class:`MetadataSharedInformerFactory` (``for_resource(gvr)`` -> informer and lister) caches
metadata of any resource on the same runtime as typed informers, at a tenth of the memory of
whole objects: by default without managedFields and with repeated strings shared
(:func:`compact_metadata`, as kube-controller-manager trims its metadata informers).
"""

from kgen.metadata._client import (
    LIST_ACCEPT,
    OBJECT_ACCEPT,
    MetadataClient,
    MetadataResourceClient,
)
from kgen.metadata._informer import (
    MetadataSharedInformerFactory,
    compact_metadata,
    new_filtered_metadata_informer,
)

__all__ = [
    "LIST_ACCEPT",
    "OBJECT_ACCEPT",
    "MetadataClient",
    "MetadataResourceClient",
    "MetadataSharedInformerFactory",
    "compact_metadata",
    "new_filtered_metadata_informer",
]
