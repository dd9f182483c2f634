"""Running a sans-I/O program: a generator that yields operations and receives their results
(or has their exceptions thrown in). :func:`drive` performs them with a plain function,
:func:`adrive` with a coroutine function; both return what the program returns. Used by the
leader election (``kgen.leaderelection._program``) and event writing
(``kgen.record._sink_program``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

__all__ = ["adrive", "drive"]

Op = TypeVar("Op")


def drive(program: Generator[Op, Any, Any], perform: Callable[[Op], Any]) -> Any:
    """Run ``program`` to its end, performing each operation with ``perform``."""
    result: Any = None
    error: Exception | None = None
    while True:
        try:
            op = program.send(result) if error is None else program.throw(error)
        except StopIteration as done:
            return done.value
        result, error = None, None
        try:
            result = perform(op)
        except Exception as err:
            error = err


async def adrive(program: Generator[Op, Any, Any], perform: Callable[[Op], Awaitable[Any]]) -> Any:
    """:func:`drive` with an awaited ``perform`` (cancellation propagates as it comes)."""
    result: Any = None
    error: Exception | None = None
    while True:
        try:
            op = program.send(result) if error is None else program.throw(error)
        except StopIteration as done:
            return done.value
        result, error = None, None
        try:
            result = await perform(op)
        except Exception as err:
            error = err
