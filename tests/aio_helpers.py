"""Running a test's coroutine: asyncio debug mode, and nothing may outlive it."""

from __future__ import annotations

import asyncio
import gc
import sys
import warnings
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main(), debug=True)``, then fail on what outlived it: tasks still pending
    when ``main`` returned, and ResourceWarnings (unclosed sessions, connectors, sockets,
    transports) raised directly or from finalizers, after a full collection."""
    leftovers: list[str] = []
    unraisable: list[str] = []

    async def checked() -> T:
        result = await main()
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        leftovers.extend(repr(t) for t in pending)
        return result

    def hook(info: Any) -> None:
        unraisable.append(f"{info.exc_type.__name__}: {info.exc_value} ({info.object!r})")

    previous = sys.unraisablehook
    sys.unraisablehook = hook
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            result = asyncio.run(checked(), debug=True)
            gc.collect()
    finally:
        sys.unraisablehook = previous
    resource = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leftovers, f"tasks left pending: {leftovers}"
    assert not resource, f"resources left open: {resource}"
    assert not unraisable, f"errors in finalizers: {unraisable}"
    return result
