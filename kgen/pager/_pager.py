"""ListPager: read a collection in pages (``limit`` and ``continue``), client-go's tools/pager.

A pager wraps one *page function*: anything that takes a :class:`kgen.rest.ListOptions` and
returns a list, typed or unstructured (a typed client's or the dynamic client's ``list_with``,
a lister-watcher's ``list``). Pages are read through :func:`kgen.meta.list_items` and friends,
so any list shape with ``items`` and ``metadata`` works.

Continuation pages send the previous page's ``continue`` token with ``resourceVersion`` and
``resourceVersionMatch`` cleared (the server refuses them together). When the server has
compacted the snapshot a token points into, it answers 410 ``Expired``:

* :meth:`ListPager.list` then falls back to one full, unpaginated list at the originally
  requested resourceVersion (unless ``full_list_if_expired`` is off), so its result holds
  every item exactly once, from one consistent snapshot;
* :meth:`ListPager.pages`, :meth:`~ListPager.each_list_chunk` and
  :meth:`~ListPager.each_list_item` have already handed out earlier pages, so they raise the
  410 :class:`kgen.rest.StatusError` instead; the caller starts over.

A pager holds no state between calls: it may be shared by threads if its page function may.
Every call blocks on the page function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from kgen.meta import list_continue, list_items, list_resource_version
from kgen.rest import ListOptions, is_resource_expired

__all__ = ["DEFAULT_PAGE_SIZE", "ListPager", "PageFunc", "PagedList"]

L = TypeVar("L")

DEFAULT_PAGE_SIZE = 500
"""Items per page when the options ask for no ``limit`` (client-go's default)."""

PageFunc = Callable[[ListOptions], L]
"""Lists one page: the options' ``limit`` and ``continue_`` say which."""


@dataclasses.dataclass(frozen=True, slots=True)
class PagedList:
    """What :meth:`ListPager.list` gathered.

    ``items``: every item, in server order (the list is the caller's; the items are shared
    with whoever else holds the pages). ``resource_version``: the first page's (the snapshot
    every page came from) or the fallback list's. ``paginated``: whether the server split the
    answer into more than one page (client-go's ``paginatedResult``).
    """

    items: list[Any]
    resource_version: str
    paginated: bool


class ListPager(Generic[L]):
    """Pages through the lists ``page_fn`` returns; see the module docstring.

    ``page_size`` is the ``limit`` sent when the options carry none (0: ask for everything at
    once). ``full_list_if_expired``: whether :meth:`list` falls back to a full list when a
    continue token expires.
    """

    def __init__(
        self,
        page_fn: PageFunc[L],
        page_size: int = DEFAULT_PAGE_SIZE,
        full_list_if_expired: bool = True,
    ) -> None:
        if page_size < 0:
            raise ValueError(f"ListPager: page_size must not be negative, not {page_size}")
        self.page_fn = page_fn
        self.page_size = page_size
        self.full_list_if_expired = full_list_if_expired

    def _first(self, options: ListOptions | None) -> ListOptions:
        options = options or ListOptions()
        if options.limit:
            return options
        return dataclasses.replace(options, limit=self.page_size)

    @staticmethod
    def _next(options: ListOptions, token: str) -> ListOptions:
        return dataclasses.replace(
            options, continue_=token, resource_version="", resource_version_match=""
        )

    def pages(self, options: ListOptions | None = None) -> Iterator[L]:
        """Each page in turn, fetched only when the previous one has been consumed.

        Raises the page function's errors, a 410 ``Expired`` of a stale continue token
        included. Only one page is held at a time.
        """
        current = self._first(options)
        while True:
            page = self.page_fn(current)
            yield page
            token = list_continue(page)
            if not token:
                return
            current = self._next(current, token)

    def each_list_chunk(self, options: ListOptions | None, fn: Callable[[L], None]) -> None:
        """Call ``fn`` with each page; an error of ``fn`` stops the paging and propagates."""
        for page in self.pages(options):
            fn(page)

    def each_list_item(self, options: ListOptions | None, fn: Callable[[Any], None]) -> None:
        """Call ``fn`` with each item of each page; an error of ``fn`` stops and propagates."""
        for page in self.pages(options):
            for item in list_items(page):
                fn(item)

    def list(self, options: ListOptions | None = None) -> PagedList:
        """Every item of the collection, gathered page by page, falling back to one full list
        at the requested resourceVersion when a continue token expires."""
        requested = options or ListOptions()
        current = self._first(requested)
        items: list[Any] = []
        resource_version: str | None = None
        paginated = False
        while True:
            try:
                page = self.page_fn(current)
            except Exception as err:
                if not (
                    current.continue_ and self.full_list_if_expired and is_resource_expired(err)
                ):
                    raise
                full = self.page_fn(dataclasses.replace(requested, limit=0, continue_=""))
                return PagedList(list(list_items(full)), list_resource_version(full), paginated)
            if resource_version is None:
                resource_version = list_resource_version(page)
            items.extend(list_items(page))
            token = list_continue(page)
            if not token:
                return PagedList(items, resource_version, paginated)
            current = self._next(current, token)
            paginated = True
