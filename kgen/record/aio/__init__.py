"""Recording events from asyncio controllers: the sync recorders (they never block), delivered
by watcher tasks, written through an async sink with the sync broadcaster's rules (one
sans-I/O program, ``kgen.record._sink_program``: correlation, patch-or-create, retries)::

    async with AsyncEventBroadcaster() as broadcaster:
        broadcaster.start_recording_to_sink(AsyncRESTEventSink(client))
        recorder = broadcaster.new_recorder("my-controller")
        recorder.event(pod, "Warning", "FailedSync", "could not reach the backend")

Needs ``kgen[async]`` for :class:`AsyncRESTEventSink`. See ``docs/async.md``.
"""

from kgen.record.aio._broadcaster import AsyncEventBroadcaster, AsyncEventWatcher
from kgen.record.aio._sink import AsyncEventSink, AsyncRESTEventSink

__all__ = ["AsyncEventBroadcaster", "AsyncEventSink", "AsyncEventWatcher", "AsyncRESTEventSink"]
