"""How a list field merges, read from its schema: one rule for the server and the generator.

kgen.testing's server-side apply and strategic merge patch, and the generated apply
configurations (:mod:`kgen.meta._applyconfig` ``_lists``), all read the same extensions:
``x-kubernetes-list-type`` and ``x-kubernetes-list-map-keys``, falling back to
``x-kubernetes-patch-strategy`` and ``x-kubernetes-patch-merge-key``. Pure and thread-safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ListMerge", "list_merge"]


@dataclass(frozen=True)
class ListMerge:
    """How a list field merges: ``atomic`` (replaced whole), ``set`` (union of scalars) or
    ``map`` (items matched by ``keys``)."""

    kind: str
    keys: tuple[str, ...] = ()
    retain_keys: bool = False


def list_merge(resolved: Mapping[str, Any], for_apply: bool) -> ListMerge:
    """How the list of (``$ref``-resolved) schema ``resolved`` merges in a strategic merge
    patch (``for_apply=False``) or in server-side apply (``for_apply=True``, falling back to
    the patch strategy where the list type says nothing, as kube-apiserver does)."""
    strategy = str(resolved.get("x-kubernetes-patch-strategy", ""))
    merge_key = resolved.get("x-kubernetes-patch-merge-key")
    list_type = resolved.get("x-kubernetes-list-type")
    map_keys = tuple(resolved.get("x-kubernetes-list-map-keys") or ())
    retain = "retainKeys" in strategy
    if for_apply and list_type == "map" and map_keys:
        return ListMerge("map", map_keys, retain)
    if for_apply and list_type in ("atomic", "set"):
        return ListMerge(str(list_type))
    if "merge" in strategy.split(","):
        if isinstance(merge_key, str):
            return ListMerge("map", map_keys if for_apply and map_keys else (merge_key,), retain)
        return ListMerge("set", (), retain)
    if not for_apply and list_type == "map" and map_keys:
        return ListMerge("map", map_keys, retain)
    return ListMerge("atomic", (), retain)
