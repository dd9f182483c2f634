"""``AsyncResourceClient``: every async verb at once (the twin of
:class:`kgen.client.ResourceClient`), for callers that do not know what a resource serves."""

from __future__ import annotations

from typing import TypeVar

from kgen.client.aio._connect import (
    AsyncAttachMixin,
    AsyncExecMixin,
    AsyncLogsMixin,
    AsyncPortForwardMixin,
    AsyncProxyMixin,
)
from kgen.client.aio._verbs import (
    AsyncApplyStatusMixin,
    AsyncCreateMixin,
    AsyncDeleteCollectionMixin,
    AsyncDeleteMixin,
    AsyncGetMixin,
    AsyncListMixin,
    AsyncPatchMixin,
    AsyncUpdateMixin,
    AsyncUpdateStatusMixin,
    AsyncWatchMixin,
)

__all__ = ["AsyncResourceClient"]

T = TypeVar("T")
L = TypeVar("L")


class AsyncResourceClient(
    AsyncCreateMixin[T, L],
    AsyncUpdateMixin[T, L],
    AsyncUpdateStatusMixin[T, L],
    AsyncDeleteMixin[T, L],
    AsyncDeleteCollectionMixin[T, L],
    AsyncGetMixin[T, L],
    AsyncListMixin[T, L],
    AsyncWatchMixin[T, L],
    AsyncPatchMixin[T, L],
    AsyncApplyStatusMixin[T, L],
    AsyncExecMixin[T, L],
    AsyncAttachMixin[T, L],
    AsyncLogsMixin[T, L],
    AsyncPortForwardMixin[T, L],
    AsyncProxyMixin[T, L],
):
    """Every async verb of one resource; each is documented on its mixin."""
