"""What a client does with the warnings the API server sends in ``Warning`` response headers
(deprecated APIs, unknown fields, policy audits...).

Each warning of a request's final response (not of the answers that were retried) is handed, in
order, to a :class:`WarningHandler`: ``Config.warning_handler`` when set, otherwise the
process-wide default, looked up at that moment. The process-wide default starts as a
:class:`WarningLogger`; :func:`set_default_warning_handler` replaces it for every client whose
config names no handler, clients built earlier included. Three handlers come with kgen:

* :class:`WarningLogger` logs each warning on the ``kgen.rest`` logger at level WARNING;
* :class:`WarningWriter` writes each one to a text stream (``Warning: <text>`` lines), optionally
  each distinct text once only;
* :class:`NoWarnings` drops them.

A handler receives every warning of every code; kgen's handlers act on code 299 (the only code
the API server sends) with a non-empty text and ignore the others. Handlers are called from the
threads that send requests, concurrently when a client is shared, so they must be thread-safe
(kgen's are). An exception a handler raises propagates out of the request's execution.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

__all__ = [
    "NoWarnings",
    "TextSink",
    "WarningHandler",
    "WarningLogger",
    "WarningWriter",
    "default_warning_handler",
    "set_default_warning_handler",
]

_log = logging.getLogger("kgen.rest")

_SERVER_WARNING = 299
"""The code of the warnings the API server sends (RFC 7234 "miscellaneous persistent warning")."""


class WarningHandler(Protocol):
    """Receives the warnings of API server responses. Must be thread-safe."""

    def handle_warning(self, code: int, agent: str, text: str) -> None:
        """Called once per warning: its code, the agent that added it (``-`` when unknown) and
        its text (unescaped and decoded)."""


class TextSink(Protocol):
    """Where a :class:`WarningWriter` writes: anything with a text ``write`` (``sys.stderr``,
    ``io.StringIO``, an open text file)."""

    def write(self, text: str, /) -> object:
        """Write ``text``."""


class WarningLogger:
    """Logs each 299 warning on the ``kgen.rest`` logger at level WARNING (the default)."""

    def handle_warning(self, code: int, agent: str, text: str) -> None:
        if code == _SERVER_WARNING and text:
            _log.warning("the API server warns: %s", text)

    def __repr__(self) -> str:
        return "WarningLogger()"


class NoWarnings:
    """Ignores every warning."""

    def handle_warning(self, code: int, agent: str, text: str) -> None:
        pass

    def __repr__(self) -> str:
        return "NoWarnings()"


class WarningWriter:
    """Writes each 299 warning to ``out`` as one line, ``Warning: <text>`` (just ``<text>``
    with ``prefix=False``). With ``deduplicate=True`` each distinct text is written once only,
    however many responses carry it. Thread-safe: lines are written whole, one at a time.
    """

    def __init__(self, out: TextSink, *, deduplicate: bool = False, prefix: bool = True) -> None:
        self._out = out
        self._deduplicate = deduplicate
        self._prefix = "Warning: " if prefix else ""
        self._lock = threading.Lock()
        self._written: set[str] = set()
        self._count = 0

    @property
    def count(self) -> int:
        """How many warnings were written so far (duplicates that were skipped not counted)."""
        with self._lock:
            return self._count

    def handle_warning(self, code: int, agent: str, text: str) -> None:
        if code != _SERVER_WARNING or not text:
            return
        with self._lock:
            if self._deduplicate:
                if text in self._written:
                    return
                self._written.add(text)
            self._count += 1
            self._out.write(f"{self._prefix}{text}\n")

    def __repr__(self) -> str:
        return f"WarningWriter(deduplicate={self._deduplicate}, prefix={bool(self._prefix)})"


_default_lock = threading.Lock()
_default: WarningHandler = WarningLogger()


def default_warning_handler() -> WarningHandler:
    """The process-wide handler of clients whose config names none."""
    with _default_lock:
        return _default


def set_default_warning_handler(handler: WarningHandler) -> WarningHandler:
    """Make ``handler`` the process-wide default from now on and return the one it replaces
    (to put back later). Affects every client whose ``Config.warning_handler`` is ``None``,
    from its next response on. Thread-safe."""
    global _default
    with _default_lock:
        previous, _default = _default, handler
    return previous
