"""Retrying with backoff: client-go's ``util/retry`` and apimachinery's ``wait.Backoff``.

:class:`Backoff` is the one backoff type of the runtime (the reflector and the retry watcher
use it too); :func:`on_error` and :func:`retry_on_conflict` retry an operation over it, with
client-go's :data:`DEFAULT_RETRY` and :data:`DEFAULT_BACKOFF`.
"""

from kgen.retry._backoff import Backoff
from kgen.retry._retry import DEFAULT_BACKOFF, DEFAULT_RETRY, on_error, retry_on_conflict

__all__ = ["DEFAULT_BACKOFF", "DEFAULT_RETRY", "Backoff", "on_error", "retry_on_conflict"]
