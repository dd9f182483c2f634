"""Small model types for the cache tests (the runtime's objects are kgen models or dicts)."""

from __future__ import annotations

import msgspec

from kgen.meta import UNSET, ListMeta, Model, ObjectMeta, UnsetType


class Pod(Model):
    """A minimal namespaced kind."""

    metadata: ObjectMeta
    kind: str | UnsetType = UNSET
    spec: dict[str, str] | UnsetType = UNSET


class PodList(Model):
    """A list of :class:`Pod` with list metadata."""

    items: tuple[Pod, ...]
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)


class Service(Model):
    """Another kind, for type checks."""

    metadata: ObjectMeta


def pod(
    name: str,
    namespace: str = "default",
    rv: str = "",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> Pod:
    """A :class:`Pod` with the given identity (empty namespace: cluster-scoped)."""
    return Pod(
        metadata=ObjectMeta(
            name=name,
            namespace=namespace or UNSET,
            resource_version=rv or UNSET,
            labels=labels if labels is not None else UNSET,
            annotations=annotations if annotations is not None else UNSET,
        )
    )
