"""AsyncSharedInformerFactory: the shared informer factory for asyncio informers.

The bookkeeping is the sync factory's (:class:`kgen.cache._factory.FactoryCore`: one informer
per key, custom resync periods, the transform, nothing started after shut down). ``async with``
starts nothing: ask for informers, call :meth:`~AsyncSharedInformerFactory.start` (in the
loop; again after asking for more), ``await`` :meth:`~AsyncSharedInformerFactory.wait_for_cache_sync`;
leaving the block (or ``await shutdown()``) stops every started informer and awaits every task
they started, also when the block is left by a cancellation.

``client`` is what informers list and watch through: an :class:`~kgen.rest.aio.AsyncRESTClient`
or a generated ``AsyncClientset`` (its ``rest_client``) for
:meth:`~AsyncSharedInformerFactory.for_resource`, and anything the ``new_func`` given to
:meth:`~AsyncSharedInformerFactory.informer_for` understands (the generated typed informers of
``<package>.aio.informers``, subclasses of :class:`~kgen.cache.aio.AsyncTypedInformer`, take an
async clientset).
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from kgen.cache._factory import FactoryCore
from kgen.cache._index import NAMESPACE_INDEX, meta_namespace_index_func
from kgen.cache._lister import Lister
from kgen.cache.aio._informer import AsyncSharedIndexInformer, wait_for_cache_sync
from kgen.cache.aio._listwatch import AsyncListWatch

if TYPE_CHECKING:
    from kgen.client import GroupVersionResource

__all__ = ["AsyncSharedInformerFactory"]


class AsyncSharedInformerFactory(FactoryCore[AsyncSharedIndexInformer[Any]]):
    """Creates, shares, starts and stops asyncio informers; see the module docstring.
    Parameters as :class:`~kgen.cache.SharedInformerFactory`'s. Use from one loop."""

    def for_resource(
        self,
        resource: GroupVersionResource,
        object_type: type[Any] = dict,
        list_type: type[Any] = dict,
    ) -> AsyncSharedIndexInformer[Any]:
        """The factory's informer of ``resource`` (keyed by it), listing and watching through
        the factory's :class:`~kgen.rest.aio.AsyncRESTClient` (a clientset's ``rest_client``
        when the factory's client is an async clientset) in the factory's namespace with
        its ``tweak_list_options``, objects decoded into ``object_type``, with the namespace
        index. Created on first use."""

        def new(client: Any, resync: float) -> AsyncSharedIndexInformer[Any]:
            lw = AsyncListWatch.for_resource(
                getattr(client, "rest_client", client),
                resource,
                object_type,
                list_type,
                namespace=self.namespace,
                tweak_list_options=self.tweak_list_options,
            )
            return AsyncSharedIndexInformer(
                lw,
                object_type,
                resync,
                {NAMESPACE_INDEX: meta_namespace_index_func},
                name=resource.resource,
            )

        return self.informer_for(resource, new)

    def lister_for(
        self, resource: GroupVersionResource, object_type: type[Any] = dict
    ) -> Lister[Any]:
        """A (synchronous) lister over the cache of :meth:`for_resource`'s informer."""
        informer = self.for_resource(resource, object_type)
        return Lister(informer.get_indexer(), resource.resource, resource.group)

    def start(self) -> None:
        """Start every informer not started yet, on tasks of the running loop; does nothing
        after :meth:`shutdown` began."""
        for informer in self._claim_unstarted():
            informer.start()

    async def wait_for_cache_sync(self, timeout: float | None = None) -> dict[object, bool]:
        """Wait until every started informer has synced (or ``timeout``); return each started
        informer's ``has_synced()`` by key."""
        started = self._started_informers()
        await wait_for_cache_sync(*(i.has_synced for i in started.values()), timeout=timeout)
        return {key: informer.has_synced() for key, informer in started.items()}

    async def shutdown(self) -> None:
        """Stop every started informer and await all their tasks. Later :meth:`start` calls
        do nothing. Idempotent."""
        informers = self._begin_shutdown()
        await asyncio.gather(*(informer.stop() for informer in informers))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()
