"""``coordination.k8s.io/v1`` Lease types and the lock-neutral leader election record."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from kgen.meta import UNSET, MicroTime, Model, ObjectMeta, UnsetType

__all__ = ["LeaderElectionRecord", "Lease", "LeaseSpec"]


class LeaseSpec(Model):
    """Who holds a lease, since when, and for how long."""

    acquire_time: MicroTime | None | UnsetType = msgspec.field(name="acquireTime", default=UNSET)
    holder_identity: str | None | UnsetType = msgspec.field(name="holderIdentity", default=UNSET)
    lease_duration_seconds: int | None | UnsetType = msgspec.field(
        name="leaseDurationSeconds", default=UNSET
    )
    lease_transitions: int | None | UnsetType = msgspec.field(
        name="leaseTransitions", default=UNSET
    )
    preferred_holder: str | None | UnsetType = msgspec.field(name="preferredHolder", default=UNSET)
    renew_time: MicroTime | None | UnsetType = msgspec.field(name="renewTime", default=UNSET)
    strategy: str | None | UnsetType = UNSET


class Lease(Model):
    """A ``coordination.k8s.io/v1`` Lease."""

    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | None | UnsetType = UNSET
    metadata: ObjectMeta | None | UnsetType = UNSET
    spec: LeaseSpec | None | UnsetType = UNSET


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


@dataclass(frozen=True)
class LeaderElectionRecord:
    """What a lock stores about the current leader, whatever the lock's object.

    Times are ``MicroTime`` strings (``""`` when unset). Two records are equal when every field
    is: the elector uses that to notice that the holder renewed.
    """

    holder_identity: str = ""
    lease_duration_seconds: int = 0
    acquire_time: str = ""
    renew_time: str = ""
    leader_transitions: int = 0
    strategy: str = ""
    preferred_holder: str = ""

    @classmethod
    def from_lease_spec(cls, spec: LeaseSpec | None | UnsetType) -> LeaderElectionRecord:
        if not isinstance(spec, LeaseSpec):
            return cls()
        return cls(
            holder_identity=_str(spec.holder_identity),
            lease_duration_seconds=_int(spec.lease_duration_seconds),
            acquire_time=_str(spec.acquire_time),
            renew_time=_str(spec.renew_time),
            leader_transitions=_int(spec.lease_transitions),
            strategy=_str(spec.strategy),
            preferred_holder=_str(spec.preferred_holder),
        )

    def to_lease_spec(self) -> LeaseSpec:
        return LeaseSpec(
            holder_identity=self.holder_identity,
            lease_duration_seconds=self.lease_duration_seconds,
            acquire_time=self.acquire_time or UNSET,
            renew_time=self.renew_time or UNSET,
            lease_transitions=self.leader_transitions,
            strategy=self.strategy or UNSET,
            preferred_holder=self.preferred_holder or UNSET,
        )
