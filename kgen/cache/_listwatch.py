"""ListerWatcher: the only way the cache talks to a server (list a collection, watch it).

Anything with ``list(options)`` and ``watch(options)`` is a :class:`ListerWatcher`. :class:`ListWatch`
builds one from two functions, or from a typed client (``ResourceClient``: ``list_with`` and
``watch_with``) with an optional ``tweak_list_options`` hook that rewrites the options of both
calls, the way generated informers pass their label and field selectors through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from kgen.meta import list_continue, list_items, list_resource_version
from kgen.rest import ListOptions, WatchEvent

__all__ = [
    "ListWatch",
    "ListWatchClient",
    "ListerWatcher",
    "ObjectList",
    "TweakListOptionsFunc",
    "WatchInterface",
    "list_continue",
    "list_items",
    "list_resource_version",
]

T = TypeVar("T")

TweakListOptionsFunc = Callable[[ListOptions], ListOptions]
"""Returns the options to send instead of the ones given (options are immutable)."""


class ObjectList(Protocol):
    """A list response: ``items`` and ``metadata`` (``resource_version``, ``continue_``).

    Unstructured lists (``dict``) are accepted too; see :func:`list_items`.
    """

    @property
    def items(self) -> Sequence[Any]: ...

    @property
    def metadata(self) -> Any: ...


class WatchInterface(Protocol[T]):
    """A running watch: iterate for events; ``stop()`` from any thread ends the iteration.

    An ``ERROR`` event is raised as :class:`kgen.rest.StatusError` while iterating
    (:class:`kgen.rest.Watch` does this).
    """

    def __iter__(self) -> Iterator[WatchEvent[T]]: ...

    def stop(self) -> None: ...


class ListerWatcher(Protocol[T]):
    """Lists and watches one collection. Both calls may block on the network; both raise
    :class:`kgen.rest.StatusError` for API errors."""

    def list(self, options: ListOptions) -> ObjectList | Mapping[str, Any]: ...

    def watch(self, options: ListOptions) -> WatchInterface[T]: ...


class ListWatchClient(Protocol):
    """The two calls of a typed client that :meth:`ListWatch.from_client` needs."""

    def list_with(self, options: ListOptions) -> Any: ...

    def watch_with(self, options: ListOptions) -> Any: ...


class ListWatch:
    """A :class:`ListerWatcher` made of a list function and a watch function.

    ``watch_list_semantics_unsupported`` tells a reflector not to try a streaming list
    (``sendInitialEvents``) with this source. Thread-safety is that of the functions.
    """

    def __init__(
        self,
        list_func: Callable[[ListOptions], ObjectList | Mapping[str, Any]],
        watch_func: Callable[[ListOptions], WatchInterface[Any]],
        watch_list_semantics_unsupported: bool = False,
    ) -> None:
        self._list = list_func
        self._watch = watch_func
        self.watch_list_semantics_unsupported = watch_list_semantics_unsupported

    @classmethod
    def from_client(
        cls,
        client: ListWatchClient,
        tweak_list_options: TweakListOptionsFunc | None = None,
    ) -> ListWatch:
        """List and watch through ``client``, passing every options object through
        ``tweak_list_options`` first (when given)."""

        def tweak(options: ListOptions) -> ListOptions:
            return tweak_list_options(options) if tweak_list_options is not None else options

        return cls(
            lambda options: client.list_with(tweak(options)),
            lambda options: client.watch_with(tweak(options)),
        )

    def list(self, options: ListOptions) -> ObjectList | Mapping[str, Any]:
        """Call the list function."""
        return self._list(options)

    def watch(self, options: ListOptions) -> WatchInterface[Any]:
        """Call the watch function."""
        return self._watch(options)
