"""kgen.cache.aio: the client-side cache on asyncio (informers, reflector, delta queue).

The same runtime as :mod:`kgen.cache`, run by tasks instead of threads; every rule is shared
code (the reflector's list/watch/relist decisions and backoff, the delta queue's compaction and
replace logic, handler registration and resync periods, delta handling, the factory's
bookkeeping), only the waiting differs. The cache is the sync, thread-safe
:class:`~kgen.cache.Indexer`, read by the sync :class:`~kgen.cache.Lister`::

    async with AsyncRESTClient(config) as client, AsyncSharedInformerFactory(client) as factory:
        pods = factory.for_resource(GroupVersionResource("", "v1", "pods"), Pod, PodList)
        pods.add_event_handler(ResourceEventHandlerFuncs(add_func=on_add))  # def or async def
        factory.start()
        await factory.wait_for_cache_sync()
        pod = factory.lister_for(PODS, Pod).namespace("default").get("web")

Needs ``kgen[async]`` for :meth:`AsyncListWatch.for_resource` (aiohttp). See ``docs/async.md``.
"""

from kgen.cache._listwatch import TweakListOptionsFunc
from kgen.cache.aio._delta_fifo import AsyncDeltaFIFO
from kgen.cache.aio._factory import AsyncSharedInformerFactory
from kgen.cache.aio._informer import AsyncSharedIndexInformer, wait_for_cache_sync
from kgen.cache.aio._listwatch import (
    AsyncListerWatcher,
    AsyncListWatch,
    AsyncListWatchClient,
    AsyncWatchInterface,
)
from kgen.cache.aio._processor import AsyncProcessorListener
from kgen.cache.aio._reflector import AsyncReflector, AsyncWatchErrorHandler
from kgen.cache.aio._typed import AsyncTypedInformer

__all__ = [
    "AsyncDeltaFIFO",
    "AsyncListWatch",
    "AsyncListWatchClient",
    "AsyncListerWatcher",
    "AsyncProcessorListener",
    "AsyncReflector",
    "AsyncSharedIndexInformer",
    "AsyncSharedInformerFactory",
    "AsyncTypedInformer",
    "AsyncWatchErrorHandler",
    "AsyncWatchInterface",
    "TweakListOptionsFunc",
    "wait_for_cache_sync",
]
