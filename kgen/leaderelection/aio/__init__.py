"""Leader election for asyncio controllers: the same algorithm as
:mod:`kgen.leaderelection` (one sans-I/O program, ``kgen.leaderelection._program``), its
operations awaited on the loop::

    lock = AsyncRESTLeaseLock(client, "kube-system", "my-controller", identity=hostname)
    elector = AsyncLeaderElector(AsyncLeaderElectionConfig(
        lock=lock,
        callbacks=AsyncLeaderCallbacks(on_started_leading=work, on_stopped_leading=cleanup),
        release_on_cancel=True,
    ))
    await elector.run()   # elector.stop(), or cancelling the task, ends it

``work`` is a coroutine function run as a task while leading and cancelled when leadership
ends. Needs ``kgen[async]`` for :class:`AsyncRESTLeaseLock`. See ``docs/async.md``.
"""

from kgen.leaderelection.aio._elector import (
    AsyncLeaderCallbacks,
    AsyncLeaderElectionConfig,
    AsyncLeaderElector,
)
from kgen.leaderelection.aio._lock import AsyncLeaseLock, AsyncRESTLeaseLock

__all__ = [
    "AsyncLeaderCallbacks",
    "AsyncLeaderElectionConfig",
    "AsyncLeaderElector",
    "AsyncLeaseLock",
    "AsyncRESTLeaseLock",
]
