"""The lock an asyncio elector competes for: :class:`AsyncLeaseLock` and its implementation over
:class:`~kgen.rest.aio.AsyncRESTClient`, building the same Lease bodies and event references
as the sync :class:`~kgen.leaderelection.RESTLeaseLock` (shared helpers of ``_lock``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from kgen.leaderelection._lock import event_reference, lease_body, leases, updated_body
from kgen.leaderelection._types import LeaderElectionRecord, Lease
from kgen.record import EventRecorder

if TYPE_CHECKING:
    from kgen.rest.aio import AsyncRESTClient

__all__ = ["AsyncLeaseLock", "AsyncRESTLeaseLock"]


class AsyncLeaseLock(Protocol):
    """:class:`~kgen.leaderelection.LeaseLock` with the three API calls as coroutines (same
    errors: NotFound from ``get`` of a missing lock, Conflict from ``update`` over a stale
    version). ``record_event`` is a plain call that must not block."""

    @property
    def identity(self) -> str: ...

    def describe(self) -> str: ...

    async def get(self) -> LeaderElectionRecord: ...

    async def create(self, record: LeaderElectionRecord) -> None: ...

    async def update(self, record: LeaderElectionRecord) -> None: ...

    def record_event(self, message: str) -> None: ...


class AsyncRESTLeaseLock:
    """An :class:`AsyncLeaseLock` on the ``coordination.k8s.io/v1`` Lease ``namespace/name``.
    With ``event_recorder`` (the sync recorder: ``event`` only queues), leadership changes are
    recorded as ``Normal``/``LeaderElection`` events about the Lease. Use from one loop."""

    def __init__(
        self,
        client: AsyncRESTClient,
        namespace: str,
        name: str,
        identity: str,
        *,
        event_recorder: EventRecorder | None = None,
    ) -> None:
        self._client = client
        self.namespace = namespace
        self.name = name
        self._identity = identity
        self._recorder = event_recorder
        self._lease: Lease | None = None

    @property
    def identity(self) -> str:
        return self._identity

    def describe(self) -> str:
        return f"{self.namespace}/{self.name}"

    async def get(self) -> LeaderElectionRecord:
        request = leases(self._client.get(), self.namespace).name(self.name)
        self._lease = (await request.do()).into(Lease)
        return LeaderElectionRecord.from_lease_spec(self._lease.spec)

    async def create(self, record: LeaderElectionRecord) -> None:
        request = leases(self._client.post(), self.namespace)
        body = lease_body(self.namespace, self.name, record)
        self._lease = (await request.body(body).do()).into(Lease)

    async def update(self, record: LeaderElectionRecord) -> None:
        body = updated_body(self._lease, record, self.describe())
        request = leases(self._client.put(), self.namespace).name(self.name)
        self._lease = (await request.body(body).do()).into(Lease)

    def record_event(self, message: str) -> None:
        if self._recorder is not None:
            ref = event_reference(self.namespace, self.name, self._lease)
            self._recorder.event(ref, "Normal", "LeaderElection", f"{self._identity} {message}")
