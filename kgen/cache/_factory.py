"""The shared informer factory and the typed and generic informer bases generated code uses.

A generated package has one ``SharedInformerFactory`` subclass with group/version accessors,
and one :class:`TypedInformer` subclass per resource. Every ``informer()``/``lister()`` call for
a type goes through :meth:`SharedInformerFactory.informer_for`, so each type has at most one
informer (one list-watch, one cache) per factory, however many controllers ask for it.

Lifecycle: ask for informers, :meth:`~SharedInformerFactory.start` (starts those not started
yet; call again after asking for more), :meth:`~SharedInformerFactory.wait_for_cache_sync`,
and finally :meth:`~SharedInformerFactory.shutdown`, which stops every informer and waits for
all their threads. Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar

from kgen.cache._handlers import ResourceEventHandler
from kgen.cache._index import NAMESPACE_INDEX, Indexers, meta_namespace_index_func
from kgen.cache._indexer import TransformFunc
from kgen.cache._informer_core import InformerCore
from kgen.cache._lister import Lister
from kgen.cache._listwatch import ListWatch, ListWatchClient, TweakListOptionsFunc
from kgen.cache._shared_informer import (
    ResourceEventHandlerRegistration,
    SharedIndexInformer,
    wait_for_cache_sync,
)

__all__ = [
    "FactoryCore",
    "GenericInformer",
    "NewInformerFunc",
    "SharedInformerFactory",
    "TypedInformer",
    "TypedInformerCore",
    "new_filtered_informer",
]

T = TypeVar("T")

NewInformerFunc = Callable[[Any, float], SharedIndexInformer[Any]]
"""Builds an informer from the factory's client and the resync period for its type."""


def new_filtered_informer(
    client: ListWatchClient,
    object_type: type[T],
    resync_period: float = 0.0,
    indexers: Indexers | None = None,
    tweak_list_options: TweakListOptionsFunc | None = None,
    name: str = "",
) -> SharedIndexInformer[T]:
    """An informer that lists and watches through a typed client (``list_with``/``watch_with``)
    with ``tweak_list_options`` applied to both, not shared with any factory."""
    return SharedIndexInformer(
        ListWatch.from_client(client, tweak_list_options),
        object_type,
        resync_period,
        indexers,
        name=name or object_type.__name__,
    )


class GenericInformer:
    """An informer and an untyped lister for one resource (``factory.for_resource(gvr)``).

    ``resource``/``group`` name the resource in the lister's NotFound errors (the plural
    resource of the ``GroupVersionResource``, as client-go's generic listers do).
    """

    def __init__(self, informer: SharedIndexInformer[Any], resource: str, group: str = "") -> None:
        self._informer = informer
        self._resource = resource
        self._group = group

    def informer(self) -> SharedIndexInformer[Any]:
        return self._informer

    def lister(self) -> Lister[Any]:
        return Lister(self._informer.get_indexer(), self._resource, self._group)


InformerT = TypeVar("InformerT", bound=InformerCore[Any])


class FactoryCore(Generic[InformerT]):
    """The bookkeeping a shared informer factory has, whichever way its informers run: one
    informer per key, the resync period per key, the transform set on each, which ones were
    started, and that nothing starts after shut down. Thread-safe."""

    def __init__(
        self,
        client: Any,
        default_resync: float = 0.0,
        *,
        namespace: str = "",
        tweak_list_options: TweakListOptionsFunc | None = None,
        custom_resync: Mapping[object, float] | None = None,
        transform: TransformFunc | None = None,
    ) -> None:
        if default_resync < 0:
            raise ValueError(f"default_resync must be >= 0 seconds, got {default_resync}")
        self._client = client
        self._default_resync = default_resync
        self._namespace = namespace
        self._tweak = tweak_list_options
        self._custom_resync = dict(custom_resync or {})
        self._transform = transform
        self._lock = threading.Lock()
        self._informers: dict[object, InformerT] = {}
        self._started: set[object] = set()
        self._shutting_down = False

    @property
    def client(self) -> Any:
        return self._client

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def tweak_list_options(self) -> TweakListOptionsFunc | None:
        return self._tweak

    def informer_for(self, key: object, new_func: Callable[[Any, float], InformerT]) -> InformerT:
        """The factory's informer for ``key``, created with ``new_func(client, resync)`` the
        first time (resync: the custom one for ``key``, else the default)."""
        with self._lock:
            informer = self._informers.get(key)
            if informer is not None:
                return informer
            resync = self._custom_resync.get(key, self._default_resync)
            informer = new_func(self._client, resync)
            if self._transform is not None:
                informer.set_transform(self._transform)
            self._informers[key] = informer
            return informer

    def _claim_unstarted(self) -> list[InformerT]:
        """The informers to start now (marked started); none after shut down began."""
        with self._lock:
            if self._shutting_down:
                return []
            claimed = [key for key in self._informers if key not in self._started]
            self._started.update(claimed)
            return [self._informers[key] for key in claimed]

    def _started_informers(self) -> dict[object, InformerT]:
        with self._lock:
            return {key: self._informers[key] for key in self._started}

    def _begin_shutdown(self) -> list[InformerT]:
        """Refuse later starts; return the started informers (to stop)."""
        with self._lock:
            self._shutting_down = True
            return [self._informers[key] for key in self._started]


class SharedInformerFactory(FactoryCore[SharedIndexInformer[Any]]):
    """Creates, shares, starts and stops the informers of one client.

    ``client``: the clientset generated informers list and watch through. ``default_resync``:
    seconds (0: none). ``namespace`` (``""``: all) and ``tweak_list_options`` apply to every
    informer of the factory (cluster-scoped types ignore the namespace). ``custom_resync`` maps
    an informer key (the object type) to its own resync period. ``transform`` is set on every
    informer created.

    Generated subclasses override :meth:`resource_informers` to make :meth:`for_resource`
    know their resources.
    """

    def start(self) -> None:
        """Start every informer not started yet; does nothing after :meth:`shutdown`."""
        for informer in self._claim_unstarted():
            informer.start()

    def wait_for_cache_sync(
        self, timeout: float | None = None, stop: threading.Event | None = None
    ) -> dict[object, bool]:
        """Wait until every started informer has synced (or ``timeout``/``stop``); return
        each started informer's ``has_synced()`` by key."""
        started = self._started_informers()
        wait_for_cache_sync(*(i.has_synced for i in started.values()), timeout=timeout, stop=stop)
        return {key: informer.has_synced() for key, informer in started.items()}

    def shutdown(self) -> None:
        """Stop every started informer and wait for all their threads. Later :meth:`start`
        calls do nothing. Safe to call more than once, from any thread."""
        for informer in self._begin_shutdown():
            informer.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def resource_informers(self) -> Mapping[object, Callable[[], GenericInformer]]:
        """Resource (a ``GroupVersionResource``) -> function giving its generic informer.
        Generated factories override this; the base knows no resource."""
        return {}

    def for_resource(self, resource: object) -> GenericInformer:
        """The generic informer of ``resource`` (created and registered on first use).
        Raises :class:`LookupError` ``no informer found for <resource>``."""
        getter = self.resource_informers().get(resource)
        if getter is None:
            raise LookupError(f"no informer found for {resource}")
        return getter()


class TypedInformerCore(Generic[T, InformerT]):
    """What the per-type informer accessors of a generated package have, whichever way their
    informers run (:class:`TypedInformer`, :class:`kgen.cache.aio.AsyncTypedInformer`).

    A generated subclass sets ``object_type`` and ``lister_resource``/``lister_group`` (the
    lowercase kind and the group, for NotFound errors) and ``namespaced``, and implements
    :meth:`client_for`; it may narrow :meth:`lister` to its generated lister class. The
    flavor's base implements :meth:`new_informer`. Making an accessor creates no informer;
    :meth:`informer` and :meth:`lister` create the factory's one informer of the type.
    """

    object_type: ClassVar[type[Any]]
    lister_resource: ClassVar[str] = ""
    lister_group: ClassVar[str] = ""
    namespaced: ClassVar[bool] = True

    def __init__(
        self,
        factory: FactoryCore[Any],
        namespace: str = "",
        tweak_list_options: TweakListOptionsFunc | None = None,
    ) -> None:
        self._factory: FactoryCore[InformerT] = factory
        self._namespace = namespace if self.namespaced else ""
        self._tweak = tweak_list_options

    def client_for(self, client: Any, namespace: str) -> Any:
        """The typed client to list and watch through (``namespace`` ``""``: all)."""
        raise NotImplementedError(f"{type(self).__name__} must implement client_for")

    def new_informer(self, client: Any, resync_period: float) -> InformerT:
        """A fresh informer with the namespace index, for the factory's ``informer_for``."""
        raise NotImplementedError(f"{type(self).__name__} must implement new_informer")

    def informer(self) -> InformerT:
        """The factory's shared informer of this type (created on first use)."""
        return self._factory.informer_for(self.object_type, self.new_informer)

    def lister(self) -> Lister[T]:
        """A (thread-safe) lister over the shared informer's cache."""
        return Lister(self.informer().get_indexer(), self.lister_resource, self.lister_group)


class TypedInformer(TypedInformerCore[T, SharedIndexInformer[T]]):
    """Base of the per-type informer accessors of a generated package (threads); see
    :class:`TypedInformerCore`."""

    def __init__(
        self,
        factory: SharedInformerFactory,
        namespace: str = "",
        tweak_list_options: TweakListOptionsFunc | None = None,
    ) -> None:
        super().__init__(factory, namespace, tweak_list_options)

    def client_for(self, client: Any, namespace: str) -> ListWatchClient:
        """The typed client to list and watch through (``namespace`` ``""``: all)."""
        raise NotImplementedError(f"{type(self).__name__} must implement client_for")

    def new_informer(self, client: Any, resync_period: float) -> SharedIndexInformer[T]:
        """A fresh informer with the namespace index, for :meth:`SharedInformerFactory.informer_for`."""
        return new_filtered_informer(
            self.client_for(client, self._namespace),
            self.object_type,
            resync_period,
            {NAMESPACE_INDEX: meta_namespace_index_func},
            self._tweak,
        )

    def add_event_handler(
        self, handler: ResourceEventHandler, resync_period: float | None = None
    ) -> ResourceEventHandlerRegistration:
        """Register ``handler`` on the factory's shared informer of this type (made now if it
        was not yet), as ``informer().add_event_handler``: client-go's typed informers are the
        shared informer, so ``factory.core_v1.pods().add_event_handler(h)`` is the Go
        ``Core().V1().Pods().Informer().AddEventHandler(h)`` in one step. Handlers run on the
        informer's delivery threads."""
        return self.informer().add_event_handler(handler, resync_period)
