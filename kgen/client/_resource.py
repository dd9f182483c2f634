"""``ResourceClient``: every verb at once, for callers that do not know what a resource serves.

The dynamic client (``ResourceClient[dict, dict]``), hand-written clients and tests use it; the
server answers a verb it does not serve with 405 MethodNotSupported (and ``exec``/``attach``
of a resource without those subresources with 404). Generated typed clients do
not: they inherit only the mixins of the verbs their resource serves (:mod:`kgen.client._verbs`).
"""

from __future__ import annotations

from typing import TypeVar

from kgen.client._connect import (
    AttachMixin,
    ExecMixin,
    LogsMixin,
    PortForwardMixin,
    ProxyMixin,
)
from kgen.client._verbs import (
    ApplyStatusMixin,
    CreateMixin,
    DeleteCollectionMixin,
    DeleteMixin,
    GetMixin,
    ListMixin,
    PatchMixin,
    UpdateMixin,
    UpdateStatusMixin,
    WatchMixin,
)

__all__ = ["ResourceClient"]

T = TypeVar("T")
L = TypeVar("L")


class ResourceClient(
    CreateMixin[T, L],
    UpdateMixin[T, L],
    UpdateStatusMixin[T, L],
    DeleteMixin[T, L],
    DeleteCollectionMixin[T, L],
    GetMixin[T, L],
    ListMixin[T, L],
    WatchMixin[T, L],
    PatchMixin[T, L],
    ApplyStatusMixin[T, L],
    ExecMixin[T, L],
    AttachMixin[T, L],
    LogsMixin[T, L],
    PortForwardMixin[T, L],
    ProxyMixin[T, L],
):
    """Every verb of one resource, in one namespace (or cluster-wide), decoding into ``T``/``L``.

    Construction, namespaces, errors and thread-safety are :class:`ClientBase`'s; each verb is
    documented on its mixin.
    """
