"""Paged lists: client-go's ``tools/pager`` (see :class:`ListPager`)."""

from kgen.pager._pager import DEFAULT_PAGE_SIZE, ListPager, PagedList, PageFunc

__all__ = ["DEFAULT_PAGE_SIZE", "ListPager", "PageFunc", "PagedList"]
