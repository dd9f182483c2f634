"""Bearer tokens read from a file that something else rotates (a projected service-account
token, for instance)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["CachedFileToken"]

_log = logging.getLogger("kgen.rest")

TOKEN_FILE_TTL = 60.0
"""How long a token read from a file is used before the file is read again (seconds)..."""
TOKEN_FILE_LEEWAY = 10.0
"""...minus this leeway: the file is re-read once a token is 50 seconds old."""


class CachedFileToken:
    """Reads a token file at most once per ``TOKEN_FILE_TTL - TOKEN_FILE_LEEWAY`` seconds.

    The contents are stripped of surrounding whitespace; an empty file is an error. When a
    re-read fails, the last good token keeps being used (and the failure is logged without the
    token). Thread-safe. ``clock`` (monotonic seconds) is injectable for tests.
    """

    def __init__(self, path: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._read_at = 0.0

    def token(self) -> str:
        """The current token; raises ``OSError``/``ValueError`` only if no read ever succeeded."""
        with self._lock:
            now = self._clock()
            if self._token and now < self._read_at + TOKEN_FILE_TTL - TOKEN_FILE_LEEWAY:
                return self._token
            try:
                self._token = self._read()
                self._read_at = now
            except (OSError, ValueError) as err:
                if not self._token:
                    raise
                _log.warning("keeping the previous bearer token: re-reading failed: %s", err)
            return self._token

    def _read(self) -> str:
        with open(self.path, encoding="utf-8") as f:
            token = f.read().strip()
        if not token:
            raise ValueError(f"bearer token file {self.path!r} is empty")
        return token
