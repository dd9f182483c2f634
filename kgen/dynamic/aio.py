"""``AsyncDynamicClient``: the dynamic client for asyncio (needs ``kgen[async]``).

``AsyncDynamicClient(rest).resource(gvr).namespace("default")`` has every verb of
:class:`kgen.client.aio.AsyncResourceClient` on plain dicts, over an
:class:`kgen.rest.aio.AsyncRESTClient`; the requests are the sync dynamic client's (both are
built by :class:`kgen.client._core.ResourceCore`). Use it from the REST client's event loop.
"""

from __future__ import annotations

from kgen.client import GroupVersionResource
from kgen.client.aio import AsyncResourceClient
from kgen.dynamic._client import Unstructured
from kgen.rest.aio import AsyncRESTClient

__all__ = ["AsyncDynamicClient", "AsyncDynamicResourceClient"]


class AsyncDynamicResourceClient(AsyncResourceClient[Unstructured, Unstructured]):
    """The async verbs of one resource on unstructured objects; made by
    :meth:`AsyncDynamicClient.resource` without a namespace (cluster-scoped, or namespaced
    across all namespaces); :meth:`namespace` narrows it. Immutable."""

    def namespace(self, namespace: str) -> AsyncDynamicResourceClient:
        """The same resource in ``namespace`` (``""``: no namespace, as without this call)."""
        return AsyncDynamicResourceClient(
            self.rest_client, self.resource, dict, dict, namespace or None
        )


class AsyncDynamicClient:
    """Entry point of async dynamic access over one :class:`~kgen.rest.aio.AsyncRESTClient`."""

    def __init__(self, rest: AsyncRESTClient) -> None:
        self._rest = rest

    def resource(self, resource: GroupVersionResource) -> AsyncDynamicResourceClient:
        """A client for ``resource`` (``GroupVersionResource("apps", "v1", "deployments")``)."""
        return AsyncDynamicResourceClient(self._rest, resource, dict, dict)
