"""Paged lists: client-go's ``tools/pager`` (see :class:`ListPager`)."""

from kgen.pager._async import async_paged_list
from kgen.pager._pager import DEFAULT_PAGE_SIZE, ListPager, ListPlan, PagedList, PageFunc

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "ListPager",
    "ListPlan",
    "PageFunc",
    "PagedList",
    "async_paged_list",
]
