"""Event handlers: what an informer calls when an object is added, updated or deleted.

A handler is called on its own delivery thread (see :mod:`kgen.cache._listener`), one
notification at a time, in the order the informer saw them. The objects are the informer's
shared cached objects: handlers must not mutate them. ``on_delete`` may receive a
:class:`~kgen.cache.DeletedFinalStateUnknown` when the deletion was inferred from a relist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
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


@dataclass(frozen=True, slots=True)
class ResourceEventHandlerFuncs:
    """A handler made of optional functions; missing ones ignore their notification."""

    add_func: Callable[[Any], None] | None = None
    update_func: Callable[[Any, Any], None] | None = None
    delete_func: Callable[[Any], None] | None = None

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        if self.add_func is not None:
            self.add_func(obj)

    def on_update(self, old: Any, new: Any) -> None:
        if self.update_func is not None:
            self.update_func(old, new)

    def on_delete(self, obj: Any) -> None:
        if self.delete_func is not None:
            self.delete_func(obj)


@dataclass(frozen=True, slots=True)
class ResourceEventHandlerDetailedFuncs:
    """Like :class:`ResourceEventHandlerFuncs`, but ``add_func`` also gets
    ``is_in_initial_list``."""

    add_func: Callable[[Any, bool], None] | None = None
    update_func: Callable[[Any, Any], None] | None = None
    delete_func: Callable[[Any], None] | None = None

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        if self.add_func is not None:
            self.add_func(obj, is_in_initial_list)

    def on_update(self, old: Any, new: Any) -> None:
        if self.update_func is not None:
            self.update_func(old, new)

    def on_delete(self, obj: Any) -> None:
        if self.delete_func is not None:
            self.delete_func(obj)


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
