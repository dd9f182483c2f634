"""Event handlers: what an informer calls when an object is added, updated or deleted.

A handler is called on its own delivery thread (see :mod:`kgen.cache._listener`), one
notification at a time, in the order the informer saw them. The objects are the informer's
shared cached objects: handlers must not mutate them. ``on_delete`` may receive a
:class:`~kgen.cache.DeletedFinalStateUnknown` when the deletion was inferred from a relist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "AsyncResourceEventHandler",
    "FilteringResourceEventHandler",
    "ResourceEventHandler",
    "ResourceEventHandlerDetailedFuncs",
    "ResourceEventHandlerFuncs",
]


class ResourceEventHandler(Protocol):
    """Receives an informer's notifications."""

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        """``obj`` appeared; ``is_in_initial_list`` when it came with the first list (or with
        the catch-up a handler added late receives)."""

    def on_update(self, old: Any, new: Any) -> None:
        """``old`` became ``new`` (same resourceVersion: a resync)."""

    def on_delete(self, obj: Any) -> None:
        """``obj`` is gone (its last known state, or a tombstone)."""


class AsyncResourceEventHandler(Protocol):
    """What an asyncio informer (:class:`kgen.cache.aio.AsyncSharedIndexInformer`) accepts:
    methods that are plain functions or coroutine functions (what they return is awaited when
    it is awaitable). Every :class:`ResourceEventHandler` is one."""

    def on_add(self, obj: Any, is_in_initial_list: bool) -> Awaitable[None] | None: ...

    def on_update(self, old: Any, new: Any) -> Awaitable[None] | None: ...

    def on_delete(self, obj: Any) -> Awaitable[None] | None: ...


@dataclass(frozen=True, slots=True)
class ResourceEventHandlerFuncs:
    """A handler made of optional functions; missing ones ignore their notification.

    The functions may be coroutine functions for an asyncio informer: each method returns
    what its function returned, and the asyncio informer awaits it."""

    add_func: Callable[[Any], Awaitable[None] | None] | None = None
    update_func: Callable[[Any, Any], Awaitable[None] | None] | None = None
    delete_func: Callable[[Any], Awaitable[None] | None] | None = None

    def on_add(self, obj: Any, is_in_initial_list: bool) -> Any:
        return self.add_func(obj) if self.add_func is not None else None

    def on_update(self, old: Any, new: Any) -> Any:
        return self.update_func(old, new) if self.update_func is not None else None

    def on_delete(self, obj: Any) -> Any:
        return self.delete_func(obj) if self.delete_func is not None else None


@dataclass(frozen=True, slots=True)
class ResourceEventHandlerDetailedFuncs:
    """Like :class:`ResourceEventHandlerFuncs`, but ``add_func`` also gets
    ``is_in_initial_list`` (coroutine functions allowed as there)."""

    add_func: Callable[[Any, bool], Awaitable[None] | None] | None = None
    update_func: Callable[[Any, Any], Awaitable[None] | None] | None = None
    delete_func: Callable[[Any], Awaitable[None] | None] | None = None

    def on_add(self, obj: Any, is_in_initial_list: bool) -> Any:
        if self.add_func is not None:
            return self.add_func(obj, is_in_initial_list)
        return None

    def on_update(self, old: Any, new: Any) -> Any:
        return self.update_func(old, new) if self.update_func is not None else None

    def on_delete(self, obj: Any) -> Any:
        return self.delete_func(obj) if self.delete_func is not None else None


@dataclass(frozen=True, slots=True)
class FilteringResourceEventHandler:
    """Forwards to ``handler`` only what passes ``filter_func``.

    An update is translated by which side passes: both -> update, only the new one -> add
    (``is_in_initial_list=False``), only the old one -> delete of the old, neither -> nothing.
    """

    filter_func: Callable[[Any], bool]
    handler: ResourceEventHandler

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        if self.filter_func(obj):
            self.handler.on_add(obj, is_in_initial_list)

    def on_update(self, old: Any, new: Any) -> None:
        old_passes, new_passes = self.filter_func(old), self.filter_func(new)
        if old_passes and new_passes:
            self.handler.on_update(old, new)
        elif new_passes:
            self.handler.on_add(new, False)
        elif old_passes:
            self.handler.on_delete(old)

    def on_delete(self, obj: Any) -> None:
        if self.filter_func(obj):
            self.handler.on_delete(obj)
