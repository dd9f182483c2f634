"""AsyncListerWatcher: how the asyncio cache talks to a server, mirroring
:class:`kgen.cache.ListerWatcher` with coroutines.

Anything with ``async list(options)`` and ``async watch(options)`` (returning an async iterator
of :class:`~kgen.rest.WatchEvent` with ``stop()``) is an :class:`AsyncListerWatcher`.
:class:`AsyncListWatch` builds one from two coroutine functions, from an async typed client
(``list_with``/``watch_with`` coroutines) or straight from an
:class:`~kgen.rest.aio.AsyncRESTClient` and a resource, with the same ``tweak_list_options``
hook as the sync :class:`~kgen.cache.ListWatch`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from kgen.cache._listwatch import ObjectList, TweakListOptionsFunc
from kgen.rest import ListOptions, WatchEvent

if TYPE_CHECKING:
    from kgen.client import GroupVersionResource
    from kgen.rest.aio import AsyncRESTClient

__all__ = [
    "AsyncListWatch",
    "AsyncListWatchClient",
    "AsyncListerWatcher",
    "AsyncWatchInterface",
]

T = TypeVar("T")


class AsyncWatchInterface(Protocol[T]):
    """A running watch: ``async for`` its events; ``stop()`` (from any task of the loop) ends
    the iteration and closes the connection. An ``ERROR`` event is raised as
    :class:`kgen.rest.StatusError` (:class:`kgen.rest.aio.AsyncWatch` does this)."""

    def __aiter__(self) -> AsyncIterator[WatchEvent[T]]: ...

    def stop(self) -> None: ...


class AsyncListerWatcher(Protocol[T]):
    """Lists and watches one collection, from the event loop. Both raise
    :class:`kgen.rest.StatusError` for API errors; cancelling either ends its request."""

    async def list(self, options: ListOptions) -> ObjectList | Mapping[str, Any]: ...

    async def watch(self, options: ListOptions) -> AsyncWatchInterface[T]: ...


class AsyncListWatchClient(Protocol):
    """The two calls of an async typed client that :meth:`AsyncListWatch.from_client` needs
    (a generated async client's: ``list_with`` a coroutine, ``watch_with`` an awaitable
    opener)."""

    def list_with(self, options: ListOptions) -> Awaitable[Any]: ...

    def watch_with(self, options: ListOptions) -> Awaitable[Any]: ...


class AsyncListWatch:
    """An :class:`AsyncListerWatcher` made of a list and a watch coroutine function.
    ``watch_list_semantics_unsupported`` tells a reflector not to try a streaming list."""

    def __init__(
        self,
        list_func: Callable[[ListOptions], Awaitable[ObjectList | Mapping[str, Any]]],
        watch_func: Callable[[ListOptions], Awaitable[AsyncWatchInterface[Any]]],
        watch_list_semantics_unsupported: bool = False,
    ) -> None:
        self._list = list_func
        self._watch = watch_func
        self.watch_list_semantics_unsupported = watch_list_semantics_unsupported

    @classmethod
    def from_client(
        cls,
        client: AsyncListWatchClient,
        tweak_list_options: TweakListOptionsFunc | None = None,
    ) -> AsyncListWatch:
        """List and watch through an async typed client, passing the options of both calls
        through ``tweak_list_options`` first (when given)."""

        def tweak(options: ListOptions) -> ListOptions:
            return tweak_list_options(options) if tweak_list_options is not None else options

        async def list_(options: ListOptions) -> Any:
            return await client.list_with(tweak(options))

        async def watch(options: ListOptions) -> Any:
            return await client.watch_with(tweak(options))

        return cls(list_, watch)

    @classmethod
    def for_resource(
        cls,
        client: AsyncRESTClient,
        resource: GroupVersionResource,
        object_type: type[Any] = dict,
        list_type: type[Any] = dict,
        *,
        namespace: str = "",
        tweak_list_options: TweakListOptionsFunc | None = None,
    ) -> AsyncListWatch:
        """List (decoded into ``list_type``) and watch (objects decoded into ``object_type``)
        ``resource`` in ``namespace`` (``""``: all, or cluster-scoped) through ``client``."""

        def request(options: ListOptions) -> Any:
            if tweak_list_options is not None:
                options = tweak_list_options(options)
            return (
                client.get()
                .group_version(resource.group, resource.version)
                .namespace(namespace)
                .resource(resource.resource)
                .list_options(options)
            )

        async def list_(options: ListOptions) -> Any:
            return (await request(options).do()).into(list_type)

        async def watch(options: ListOptions) -> AsyncWatchInterface[Any]:
            watched: AsyncWatchInterface[Any] = await request(options).watch(object_type)
            return watched

        return cls(list_, watch)

    async def list(self, options: ListOptions) -> ObjectList | Mapping[str, Any]:
        """Await the list function."""
        return await self._list(options)

    async def watch(self, options: ListOptions) -> AsyncWatchInterface[Any]:
        """Await the watch function."""
        return await self._watch(options)
