"""kgen.client.aio: the asyncio typed client (needs ``kgen[async]``, i.e. aiohttp).

The twin of :mod:`kgen.client` over :class:`kgen.rest.aio.AsyncRESTClient`: every name is the
sync one prefixed with ``Async`` (:class:`AsyncClientBase`, :class:`AsyncGetMixin`, ...,
:class:`AsyncExecMixin`, :class:`AsyncResourceClient`, :class:`AsyncClientsetBase`) and takes
the same arguments; the methods are coroutines. The requests are built by the code the sync
client uses (:mod:`kgen.client._core`, :mod:`kgen.client._stream_requests`), so the two cannot
disagree on the wire. Generated async clients (``<package>.aio``) come from the same templates
as the sync ones: they inherit these mixins and declare their subresource methods with the
same :func:`kgen.client.subresource_getter` (and friends), re-exported here with the other
transport-neutral names so a generated module imports from one place.
"""

from kgen.client._patch import PatchType
from kgen.client._schema import GroupVersionResource
from kgen.client._subresources import (
    subresource_creator,
    subresource_getter,
    subresource_patcher,
    subresource_updater,
)
from kgen.client.aio._base import AsyncClientBase
from kgen.client.aio._clientset import AsyncClientsetBase
from kgen.client.aio._connect import (
    AsyncAttachMixin,
    AsyncExecMixin,
    AsyncLogsMixin,
    AsyncPortForwardMixin,
    AsyncProxyMixin,
)
from kgen.client.aio._resource import AsyncResourceClient
from kgen.client.aio._verbs import (
    AsyncApplyStatusMixin,
    AsyncCreateMixin,
    AsyncDeleteCollectionMixin,
    AsyncDeleteMixin,
    AsyncGetMixin,
    AsyncListMixin,
    AsyncPatchMixin,
    AsyncUpdateMixin,
    AsyncUpdateStatusMixin,
    AsyncWatchMixin,
    AsyncWatchOpener,
)

__all__ = [
    "AsyncApplyStatusMixin",
    "AsyncAttachMixin",
    "AsyncClientBase",
    "AsyncClientsetBase",
    "AsyncCreateMixin",
    "AsyncDeleteCollectionMixin",
    "AsyncDeleteMixin",
    "AsyncExecMixin",
    "AsyncGetMixin",
    "AsyncListMixin",
    "AsyncLogsMixin",
    "AsyncPatchMixin",
    "AsyncPortForwardMixin",
    "AsyncProxyMixin",
    "AsyncResourceClient",
    "AsyncUpdateMixin",
    "AsyncUpdateStatusMixin",
    "AsyncWatchMixin",
    "AsyncWatchOpener",
    "GroupVersionResource",
    "PatchType",
    "subresource_creator",
    "subresource_getter",
    "subresource_patcher",
    "subresource_updater",
]
