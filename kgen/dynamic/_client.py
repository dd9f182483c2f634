"""``DynamicClient`` and its per-resource client (see the package docstring)."""

from __future__ import annotations

from typing import Any, TypeAlias

from kgen.client import GroupVersionResource, ResourceClient
from kgen.rest import RESTClient

__all__ = ["DynamicClient", "DynamicResourceClient", "Unstructured"]

Unstructured: TypeAlias = dict[str, Any]
"""An object or list as decoded JSON. Yours to mutate once returned."""


class DynamicResourceClient(ResourceClient[Unstructured, Unstructured]):
    """The verbs of one resource on unstructured objects.

    Made by :meth:`DynamicClient.resource` without a namespace: cluster-scoped resources, or
    namespaced ones across all namespaces (``list``/``watch``). :meth:`namespace` narrows it.
    Immutable and thread-safe like every :class:`~kgen.client.ResourceClient`.
    """

    def namespace(self, namespace: str) -> DynamicResourceClient:
        """The same resource in ``namespace`` (``""``: no namespace, as without this call)."""
        return DynamicResourceClient(self.rest_client, self.resource, dict, dict, namespace or None)


class DynamicClient:
    """Entry point of dynamic access over one :class:`kgen.rest.RESTClient` (thread-safe)."""

    def __init__(self, rest: RESTClient) -> None:
        self._rest = rest

    def resource(self, resource: GroupVersionResource) -> DynamicResourceClient:
        """A client for ``resource`` (``GroupVersionResource("apps", "v1", "deployments")``)."""
        return DynamicResourceClient(self._rest, resource, dict, dict)
