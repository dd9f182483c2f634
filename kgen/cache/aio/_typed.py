"""AsyncTypedInformer: the base of a generated package's async per-type informer accessors.

The twin of :class:`kgen.cache.TypedInformer`: a generated subclass (``<package>.aio.informers``)
only binds its model type, the lowercase kind and group (for the lister's NotFound errors) and
which async typed client lists and watches; everything else is here. Each ``informer()``/
``lister()`` of one type goes through the factory's ``informer_for``, so a type has one informer
(one list-watch, one cache) per :class:`~kgen.cache.aio.AsyncSharedInformerFactory`. Listers are
the synchronous ones (plain reads of the thread-safe cache). Use from the factory's loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from kgen.cache._factory import TypedInformerCore
from kgen.cache._handlers import AsyncResourceEventHandler
from kgen.cache._index import NAMESPACE_INDEX, meta_namespace_index_func
from kgen.cache._informer_core import ResourceEventHandlerRegistration
from kgen.cache._listwatch import TweakListOptionsFunc
from kgen.cache.aio._informer import AsyncSharedIndexInformer
from kgen.cache.aio._listwatch import AsyncListWatch, AsyncListWatchClient

if TYPE_CHECKING:
    from kgen.cache.aio._factory import AsyncSharedInformerFactory

__all__ = ["AsyncTypedInformer"]

T = TypeVar("T")


class AsyncTypedInformer(TypedInformerCore[T, AsyncSharedIndexInformer[T]]):
    """Base of the async per-type informer accessors of a generated package; see
    :class:`kgen.cache._factory.TypedInformerCore` (the ClassVars a subclass sets, sharing,
    the lister). Its :meth:`client_for` returns an async typed client of the factory's
    clientset."""

    def __init__(
        self,
        factory: AsyncSharedInformerFactory,
        namespace: str = "",
        tweak_list_options: TweakListOptionsFunc | None = None,
    ) -> None:
        super().__init__(factory, namespace, tweak_list_options)

    def client_for(self, client: Any, namespace: str) -> AsyncListWatchClient:
        """The async typed client to list and watch through (``namespace`` ``""``: all)."""
        raise NotImplementedError(f"{type(self).__name__} must implement client_for")

    def new_informer(self, client: Any, resync_period: float) -> AsyncSharedIndexInformer[T]:
        """A fresh informer with the namespace index, listing and watching through
        :meth:`client_for` with the tweak applied to both calls (for ``informer_for``)."""
        return AsyncSharedIndexInformer(
            AsyncListWatch.from_client(self.client_for(client, self._namespace), self._tweak),
            self.object_type,
            resync_period,
            {NAMESPACE_INDEX: meta_namespace_index_func},
            name=self.object_type.__name__,
        )

    def add_event_handler(
        self, handler: AsyncResourceEventHandler, resync_period: float | None = None
    ) -> ResourceEventHandlerRegistration:
        """Register ``handler`` (plain or coroutine methods) on the factory's shared informer
        of this type, as ``informer().add_event_handler``. Call from the loop."""
        return self.informer().add_event_handler(handler, resync_period)
