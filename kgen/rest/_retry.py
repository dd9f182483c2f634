"""The retry rules of one request execution, sans I/O: which answers and connection failures
are retried, after how long, and within which deadline. The sync and async transports run the
same :class:`Attempts`; they only send, read and sleep.

Rules (see :mod:`kgen.rest.request`): a 429 or 5xx answer with an integer ``Retry-After`` is
retried after that many seconds; a connection reset is retried after one second for ``GET`` in
``do`` and for any verb in ``watch``, as is a timeout in ``watch``; a watch whose connection
keeps failing ends empty. Every retry needs a replayable body, a retry left, and a wait that
fits in the deadline. A 401 to the auth provider's credentials is retried once if it says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from kgen.rest._backoff import URLBackoff
from kgen.rest._response import retry_after_header

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "RETRY_AFTER_ON_CONNECTION_ERROR",
    "Attempts",
    "Mode",
    "retry_after",
]

Mode = Literal["do", "stream", "watch"]

DEFAULT_MAX_RETRIES = 10
"""How many times a request is retried at most (so at most 11 attempts)."""
RETRY_AFTER_ON_CONNECTION_ERROR = 1.0
"""Seconds to wait before retrying after a connection failure."""


def retry_after(status_code: int, header: str | None) -> int | None:
    """Seconds to wait before retrying an answer, or ``None`` when it is not retryable."""
    if status_code != 429 and status_code < 500:
        return None
    return retry_after_header(header)


class Attempts:
    """The attempts of one execution of a request: counts the retries, keeps the previous
    attempt's error (for the final error's note) and answers whether the next failure is
    retried. ``deadline`` is on ``clock`` (``None``: no overall bound; watches never have one).
    The per-server ``backoff`` is updated with every outcome. One per execution; not
    thread-safe."""

    def __init__(
        self,
        *,
        method: str,
        mode: Mode,
        url: str,
        max_retries: int,
        replayable: bool,
        timeout: float | None,
        clock: Callable[[], float],
        backoff: URLBackoff | None,
    ) -> None:
        self.method = method
        self.mode = mode
        self.url = url
        self.max_retries = max_retries
        self.replayable = replayable
        self.clock = clock
        self.backoff = backoff
        self.deadline = clock() + timeout if timeout and mode != "watch" else None
        self.retries = 0
        self.previous: Exception | None = None
        self._asked_provider = False

    def initial_delay(self) -> float:
        """Seconds the per-server backoff asks to wait before the first attempt."""
        return self.backoff.delay(self.url) if self.backoff is not None else 0.0

    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline; ``<= 0``: timed out)."""
        return None if self.deadline is None else self.deadline - self.clock()

    def on_connection_error(
        self, err: Exception, *, timed_out: bool, reset: bool
    ) -> Literal["retry", "end", "raise"]:
        """An attempt failed before an answer: ``retry`` (after
        ``RETRY_AFTER_ON_CONNECTION_ERROR``), ``end`` (a watch ends empty) or ``raise`` (``err``
        then carries a note of the previous attempt's error). ``timed_out``/``reset``: whether
        ``err`` is a timeout, or a reset or premature end of the connection."""
        if self.backoff is not None:
            self.backoff.update(self.url, None)
        retryable = self._connection_retryable(timed_out=timed_out, reset=reset)
        if retryable and self._may_retry(RETRY_AFTER_ON_CONNECTION_ERROR):
            self.retries += 1
            self.previous = err
            return "retry"
        if self.mode == "watch" and retryable:
            return "end"
        if self.previous is not None:
            err.add_note(f"error from a previous attempt: {self.previous}")
        return "raise"

    def on_answer(self, status_code: int) -> None:
        """An attempt got an answer (any status)."""
        if self.backoff is not None:
            self.backoff.update(self.url, status_code)

    def ask_provider(self, status_code: int, from_provider: bool) -> bool:
        """Whether to tell the auth provider its credentials were rejected (a 401 to them, the
        first time); resend if it then says so and :attr:`replayable`."""
        if status_code == 401 and from_provider and not self._asked_provider:
            self._asked_provider = True
            return True
        return False

    def retry_wait(self, status_code: int, retry_after_value: str | None) -> int | None:
        """Seconds to wait before retrying this answer, counting the retry; ``None``: final."""
        wait = retry_after(status_code, retry_after_value)
        if wait is None or not self._may_retry(wait):
            return None
        self.retries += 1
        return wait

    def pause(self, seconds: float) -> float:
        """How long to actually wait before a retry: ``seconds`` or the backoff's, if longer."""
        if self.backoff is not None:
            return max(seconds, self.backoff.delay(self.url))
        return seconds

    def _may_retry(self, wait: float) -> bool:
        return (
            self.replayable
            and self.retries < self.max_retries
            and (self.deadline is None or self.clock() + wait < self.deadline)
        )

    def _connection_retryable(self, *, timed_out: bool, reset: bool) -> bool:
        """Resets and premature EOFs, for GET in do(); also timeouts in watch()."""
        if self.mode == "stream":
            return False
        if self.mode == "do" and self.method != "GET":
            return False
        if self.mode == "watch" and timed_out:
            return True
        return reset
