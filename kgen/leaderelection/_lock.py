"""The lock a leader elector competes for: the :class:`LeaseLock` protocol and its
implementation over the API, :class:`RESTLeaseLock`.

A lock remembers the object it last read or wrote; :meth:`LeaseLock.update` writes the new
record over *that* version, so a concurrent writer makes it fail with a Conflict
(:func:`kgen.rest.is_conflict`) instead of silently overwriting: optimistic concurrency through
the Lease's ``resourceVersion``.
"""

from __future__ import annotations

import threading
from typing import Protocol, TypeVar

import msgspec

from kgen.leaderelection._types import LeaderElectionRecord, Lease
from kgen.meta import ObjectMeta
from kgen.record import EventRecorder, ObjectReference
from kgen.rest import RESTClient
from kgen.rest._builder import RequestBuilder

__all__ = ["LeaseLock", "RESTLeaseLock", "event_reference", "lease_body", "leases", "updated_body"]

_GROUP, _VERSION, _RESOURCE = "coordination.k8s.io", "v1", "leases"

B = TypeVar("B", bound=RequestBuilder)


def leases(request: B, namespace: str) -> B:
    """``request`` addressed to the Leases of ``namespace`` (sync or async request)."""
    return request.group_version(_GROUP, _VERSION).namespace(namespace).resource(_RESOURCE)


def lease_body(namespace: str, name: str, record: LeaderElectionRecord) -> Lease:
    """A new Lease holding ``record``."""
    return Lease(
        api_version=f"{_GROUP}/{_VERSION}",
        kind="Lease",
        metadata=ObjectMeta(name=name, namespace=namespace),
        spec=record.to_lease_spec(),
    )


def updated_body(current: Lease | None, record: LeaderElectionRecord, describe: str) -> Lease:
    """``current`` (the version last read or written) holding ``record``."""
    if current is None:
        raise RuntimeError(f"lease {describe} not read yet: call get or create first")
    return msgspec.structs.replace(current, spec=record.to_lease_spec())


def event_reference(namespace: str, name: str, lease: Lease | None) -> ObjectReference:
    """What leadership events are about: the Lease (with its uid once known)."""
    uid = lease.metadata.uid if lease and lease.metadata else None
    return ObjectReference(
        kind="Lease",
        api_version=f"{_GROUP}/{_VERSION}",
        namespace=namespace,
        name=name,
        uid=uid if isinstance(uid, str) else msgspec.UNSET,
    )


class LeaseLock(Protocol):
    """Get, create and update the leader election record of one lock object.

    Called from the elector's thread only, but ``identity`` and ``describe`` from any thread.
    Errors from the API are raised as :class:`kgen.rest.StatusError` (``get`` of a missing
    object: NotFound; ``update`` over a stale version: Conflict).
    """

    @property
    def identity(self) -> str:
        """This candidate's identity (unique among the candidates)."""
        ...

    def describe(self) -> str:
        """A human-readable name of the lock, such as ``namespace/name``."""
        ...

    def get(self) -> LeaderElectionRecord:
        """Read the record (and remember the object's version)."""
        ...

    def create(self, record: LeaderElectionRecord) -> None:
        """Create the lock object holding ``record``."""
        ...

    def update(self, record: LeaderElectionRecord) -> None:
        """Write ``record`` over the version last read or written."""
        ...

    def record_event(self, message: str) -> None:
        """Report a leadership change (``"became leader"``, ``"stopped leading"``)."""
        ...


class RESTLeaseLock:
    """A :class:`LeaseLock` on the ``coordination.k8s.io/v1`` Lease ``namespace/name``.

    With ``event_recorder``, leadership changes are recorded as ``Normal``/``LeaderElection``
    events about the Lease. Thread-safe.
    """

    def __init__(
        self,
        client: RESTClient,
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
        self._lock = threading.Lock()
        self._lease: Lease | None = None

    @property
    def identity(self) -> str:
        return self._identity

    def describe(self) -> str:
        return f"{self.namespace}/{self.name}"

    def get(self) -> LeaderElectionRecord:
        lease = leases(self._client.get(), self.namespace).name(self.name).do().into(Lease)
        with self._lock:
            self._lease = lease
        return LeaderElectionRecord.from_lease_spec(lease.spec)

    def create(self, record: LeaderElectionRecord) -> None:
        body = lease_body(self.namespace, self.name, record)
        lease = leases(self._client.post(), self.namespace).body(body).do().into(Lease)
        with self._lock:
            self._lease = lease

    def update(self, record: LeaderElectionRecord) -> None:
        with self._lock:
            current = self._lease
        body = updated_body(current, record, self.describe())
        request = leases(self._client.put(), self.namespace).name(self.name)
        lease = request.body(body).do().into(Lease)
        with self._lock:
            self._lease = lease

    def record_event(self, message: str) -> None:
        if self._recorder is None:
            return
        with self._lock:
            ref = event_reference(self.namespace, self.name, self._lease)
        self._recorder.event(ref, "Normal", "LeaderElection", f"{self._identity} {message}")
