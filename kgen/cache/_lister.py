"""Listers: typed, read-only views of an informer's cache.

Generated listers subclass :class:`Lister` and :class:`NamespaceLister` and add nothing but
types. Reads never touch the network; they see what the informer has applied so far. The
objects returned are the cache's shared objects: never mutate them (``kgen.meta.deep_copy``).
Thread-safe.
"""

from __future__ import annotations

import builtins
from typing import Generic, TypeVar

from kgen.cache._index import NAMESPACE_INDEX, UnknownIndexError
from kgen.cache._indexer import Indexer
from kgen.labels import Selector, parse
from kgen.meta import Status, StatusDetails, meta_field, meta_namespace
from kgen.rest import StatusError

__all__ = ["Lister", "NamespaceLister", "SelectorLike", "not_found_error"]

T = TypeVar("T")

SelectorLike = Selector | str | None
"""A parsed selector, a selector string (``"app=web,tier!=db"``), or ``None`` for everything."""


def not_found_error(resource: str, group: str, name: str) -> StatusError:
    """The 404 ``NotFound`` error the API server would give for ``name``."""
    qualified = f"{resource}.{group}" if group else resource
    return StatusError(
        Status(
            api_version="v1",
            kind="Status",
            status="Failure",
            code=404,
            reason="NotFound",
            message=f'{qualified} "{name}" not found',
            details=StatusDetails(name=name, group=group, kind=resource),
        )
    )


def _selector(selector: SelectorLike) -> Selector:
    if selector is None:
        return Selector.everything()
    return parse(selector) if isinstance(selector, str) else selector


def _select(objects: builtins.list[T], selector: SelectorLike) -> builtins.list[T]:
    parsed = _selector(selector)
    if parsed.matches_nothing():
        return []
    if parsed.empty():
        return objects
    return [obj for obj in objects if parsed.matches(meta_field(obj, "labels"))]


class Lister(Generic[T]):
    """Lists and gets objects of one resource from ``indexer``.

    ``resource`` and ``group`` name the resource in NotFound errors (generated listers pass
    the lowercase kind, as client-go's listers do). ``get`` looks a name up as a
    cluster-scoped key; use :meth:`namespace` for namespaced objects.
    """

    def __init__(self, indexer: Indexer[T], resource: str, group: str = "") -> None:
        self._indexer = indexer
        self._resource = resource
        self._group = group

    @property
    def indexer(self) -> Indexer[T]:
        return self._indexer

    def list(self, selector: SelectorLike = None) -> builtins.list[T]:
        """Every cached object whose labels match ``selector``, across namespaces."""
        return _select(self._indexer.list(), selector)

    def get(self, name: str) -> T:
        """The object under key ``name``; raises a NotFound :class:`StatusError` if absent."""
        obj = self._indexer.get_by_key(name)
        if obj is None:
            raise not_found_error(self._resource, self._group, name)
        return obj

    def namespace(self, namespace: str) -> NamespaceLister[T]:
        """A lister restricted to ``namespace``."""
        return NamespaceLister(self._indexer, namespace, self._resource, self._group)


class NamespaceLister(Generic[T]):
    """Lists and gets objects of one resource in one namespace (see :class:`Lister`)."""

    def __init__(self, indexer: Indexer[T], namespace: str, resource: str, group: str = "") -> None:
        self._indexer = indexer
        self._namespace = namespace
        self._resource = resource
        self._group = group

    def list(self, selector: SelectorLike = None) -> builtins.list[T]:
        """The objects of this namespace whose labels match ``selector``.

        Uses the ``namespace`` index when the cache has one, else scans everything.
        """
        if not self._namespace:
            return _select(self._indexer.list(), selector)
        try:
            objects = self._indexer.by_index(NAMESPACE_INDEX, self._namespace)
        except UnknownIndexError:
            objects = [o for o in self._indexer.list() if meta_namespace(o) == self._namespace]
        return _select(objects, selector)

    def get(self, name: str) -> T:
        """The object ``<namespace>/<name>``; raises a NotFound :class:`StatusError` if absent."""
        obj = self._indexer.get_by_key(f"{self._namespace}/{name}")
        if obj is None:
            raise not_found_error(self._resource, self._group, name)
        return obj
