"""The asyncio twin of :meth:`kgen.pager.ListPager.list`: the same :class:`ListPlan`, awaited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kgen.pager._pager import DEFAULT_PAGE_SIZE, ListPlan, PagedList
from kgen.rest import ListOptions

__all__ = ["async_paged_list"]


async def async_paged_list(
    page_fn: Callable[[ListOptions], Awaitable[Any]],
    options: ListOptions | None = None,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    full_list_if_expired: bool = True,
) -> PagedList:
    """Every item of a collection, awaiting ``page_fn`` page by page, with
    :meth:`~kgen.pager.ListPager.list`'s rules (one full list at the requested version when a
    continue token expires). Errors of ``page_fn`` propagate; cancelling stops between or
    inside pages."""
    if page_size < 0:
        raise ValueError(f"async_paged_list: page_size must not be negative, not {page_size}")
    plan = ListPlan(options, page_size, full_list_if_expired)
    current: ListOptions | None = plan.first()
    while current is not None:
        try:
            page = await page_fn(current)
        except Exception as err:
            current = plan.failed(err)
            continue
        current = plan.received(page)
    return plan.result()
