"""``autoscaling/v1`` ``Scale``: the one shape :class:`~kgen.scale.ScaleClient` hands out.

Instances are plain mutable models owned by whoever holds them: the client never keeps a
reference to one it returned or was given.
"""

from __future__ import annotations

import msgspec

from kgen.meta import UNSET, Model, ObjectMeta, UnsetType

__all__ = ["AUTOSCALING_V1", "Scale", "ScaleSpec", "ScaleStatus"]

AUTOSCALING_V1 = "autoscaling/v1"


class ScaleSpec(Model, kw_only=True):
    """The desired state: how many replicas the workload should run."""

    replicas: int | None | UnsetType = UNSET


class ScaleStatus(Model, kw_only=True):
    """The observed state: replicas running, and the label selector of its pods as a string
    (``app=web``), the form the horizontal pod autoscaler reads."""

    replicas: int = 0
    selector: str | None | UnsetType = UNSET


class Scale(Model, kw_only=True):
    """The ``scale`` subresource of a scalable resource, as ``autoscaling/v1`` has it."""

    api_version: str = msgspec.field(name="apiVersion", default=AUTOSCALING_V1)
    kind: str = "Scale"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ScaleSpec = msgspec.field(default_factory=ScaleSpec)
    status: ScaleStatus = msgspec.field(default_factory=ScaleStatus)
