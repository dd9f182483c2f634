"""Optional per-server exponential backoff, switched on by the environment variables
``KUBE_CLIENT_BACKOFF_BASE`` and ``KUBE_CLIENT_BACKOFF_DURATION`` (whole seconds, both needed)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

__all__ = ["URLBackoff", "backoff_from_env"]


class URLBackoff:
    """Delays requests to a server (scheme and host) that keeps failing.

    A 429 or 5xx answer (or a connection failure) doubles the server's delay, from ``base`` up
    to ``cap``; any other answer clears it. A delay untouched for ``2 * cap`` starts over from
    ``base``. Thread-safe; ``clock`` is injectable.
    """

    def __init__(
        self, base: float, cap: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.base = base
        self.cap = cap
        self._clock = clock
        self._lock = threading.Lock()
        self._delays: dict[str, tuple[float, float]] = {}  # key -> (delay, last update)

    def delay(self, url: str) -> float:
        """Seconds to wait before sending to ``url``'s server."""
        with self._lock:
            return self._delays.get(_key(url), (0.0, 0.0))[0]

    def update(self, url: str, status_code: int | None) -> None:
        """Record an answer (``None``: the connection failed)."""
        key = _key(url)
        with self._lock:
            if status_code is None or status_code == 429 or status_code > 499:
                now = self._clock()
                delay, updated = self._delays.get(key, (0.0, now))
                if delay == 0.0 or now - updated > 2 * self.cap:
                    delay = self.base
                else:
                    delay = min(delay * 2, self.cap)
                self._delays[key] = (delay, now)
            else:
                self._delays.pop(key, None)


def backoff_from_env(
    environ: Mapping[str, str] = os.environ, *, clock: Callable[[], float] = time.monotonic
) -> URLBackoff | None:
    """A :class:`URLBackoff` when both variables hold integers, else ``None`` (no backoff)."""
    base = environ.get("KUBE_CLIENT_BACKOFF_BASE", "")
    cap = environ.get("KUBE_CLIENT_BACKOFF_DURATION", "")
    try:
        return URLBackoff(float(int(base)), float(int(cap)), clock=clock)
    except ValueError:
        return None


def _key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
