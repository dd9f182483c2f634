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

__all__ = ["DEFAULT_PAGE_SIZE", "ListPager", "ListPlan", "PageFunc", "PagedList"]

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
        plan = ListPlan(options, self.page_size, self.full_list_if_expired)
        current: ListOptions | None = plan.first()
        while current is not None:
            try:
                page = self.page_fn(current)
            except Exception as err:
                current = plan.failed(err)
                continue
            current = plan.received(page)
        return plan.result()


class ListPlan:
    """The decisions of :meth:`ListPager.list`, sans-I/O, for a sync or an async page function::

        plan = ListPlan(options, page_size, full_list_if_expired)
        current: ListOptions | None = plan.first()
        while current is not None:
            try:
                page = fetch(current)           # or: await fetch(current)
            except Exception as err:
                current = plan.failed(err)      # re-raises what is not an expired token
                continue
            current = plan.received(page)
        return plan.result()

    One plan per list; not thread-safe.
    """

    def __init__(
        self, options: ListOptions | None, page_size: int, full_list_if_expired: bool = True
    ) -> None:
        self._requested = options or ListOptions()
        self._page_size = page_size
        self._full_list_if_expired = full_list_if_expired
        self._current = self._requested
        self._items: list[Any] = []
        self._resource_version: str | None = None
        self._paginated = False
        self._full = False
        self._result: PagedList | None = None

    def first(self) -> ListOptions:
        """The options of the first page (the requested ones, with the page size as ``limit``
        unless they carry one)."""
        if not self._requested.limit:
            self._current = dataclasses.replace(self._requested, limit=self._page_size)
        return self._current

    def received(self, page: Any) -> ListOptions | None:
        """Take the page fetched with the last options; return the next page's options, or
        ``None`` when the list is complete (see :meth:`result`)."""
        if self._full:
            self._result = PagedList(
                list(list_items(page)), list_resource_version(page), self._paginated
            )
            return None
        if self._resource_version is None:
            self._resource_version = list_resource_version(page)
        self._items.extend(list_items(page))
        token = list_continue(page)
        if not token:
            self._result = PagedList(self._items, self._resource_version, self._paginated)
            return None
        self._current = ListPager._next(self._current, token)
        self._paginated = True
        return self._current

    def failed(self, err: BaseException) -> ListOptions:
        """The fetch with the last options raised ``err``: return the options of the full list
        to fall back on when a continue token expired, else raise ``err``."""
        if (
            self._full
            or not self._current.continue_
            or not self._full_list_if_expired
            or not is_resource_expired(err)
        ):
            raise err
        self._full = True
        self._current = dataclasses.replace(self._requested, limit=0, continue_="")
        return self._current

    def result(self) -> PagedList:
        """What the list gathered (after :meth:`received` returned ``None``)."""
        if self._result is None:
            raise RuntimeError("ListPlan.result: the list is not complete")
        return self._result
