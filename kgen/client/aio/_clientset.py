"""``AsyncClientsetBase``: construction and lifetime of a generated ``AsyncClientset``.

The twin of :class:`kgen.client.ClientsetBase` over one
:class:`kgen.rest.aio.AsyncRESTClient`::

    async with AsyncClientset.from_kubeconfig() as cs:
        pod = await cs.core_v1.pods("default").get("web")

Building it reads the kubeconfig (or the service account files) at once and opens nothing; the
HTTP session is made on the first request, in the running loop. Leaving ``async with`` (or
``await cs.close()``) stops running watches and closes every connection. Use it from one event
loop (any number of its tasks). No discovery client yet (``discovery`` is sync only).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from kgen.config import in_cluster_config, load_kubeconfig
from kgen.rest import Config
from kgen.rest.aio import AsyncRESTClient, Connector, ConnectorFactory

__all__ = ["AsyncClientsetBase"]


class AsyncClientsetBase:
    """One :class:`~kgen.rest.aio.AsyncRESTClient` for every async group client.
    ``connector_factory`` makes its connector (see :class:`~kgen.rest.aio.AsyncRESTClient`;
    kgen.testing's async fake clientsets use it)."""

    def __init__(self, config: Config, *, connector_factory: ConnectorFactory = Connector) -> None:
        self._config = config
        self._rest = AsyncRESTClient(config, connector_factory=connector_factory)

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | None = None,
        *,
        context: str | None = None,
        connector_factory: ConnectorFactory = Connector,
    ) -> Self:
        """A clientset for the current (or the named) context of a kubeconfig."""
        config = load_kubeconfig(path, context=context)
        return cls(config, connector_factory=connector_factory)

    @classmethod
    def in_cluster(cls, *, connector_factory: ConnectorFactory = Connector) -> Self:
        """A clientset for the API server of the pod this runs in (its service account)."""
        return cls(in_cluster_config(), connector_factory=connector_factory)

    @property
    def config(self) -> Config:
        """The configuration the clientset was built from (do not mutate)."""
        return self._config

    @property
    def rest_client(self) -> AsyncRESTClient:
        """The async REST client shared by every group client."""
        return self._rest

    async def close(self) -> None:
        """Stop running watches and close every connection. Idempotent."""
        await self._rest.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
