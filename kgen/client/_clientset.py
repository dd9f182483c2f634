"""``ClientsetBase``: construction and lifetime of a generated ``Clientset``.

A generated clientset subclasses it and only adds one cached accessor per group/version
(``cs.core_v1``), each a typed group client over :attr:`rest_client`; the async twin is
:class:`kgen.client.aio.AsyncClientsetBase`. Thread-safe: group clients are created on first
access, idempotently and statelessly, so concurrent first accesses are harmless.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Self

from kgen.rest import Config, RESTClient

if TYPE_CHECKING:
    import requests

    from kgen.discovery import DiscoveryClient

__all__ = ["ClientsetBase"]


class ClientsetBase:
    """One :class:`kgen.rest.RESTClient` for every group client. Build it with
    ``Clientset(config)``, ``Clientset.from_kubeconfig()`` or ``Clientset.in_cluster()``;
    ``session`` sends requests through a given ``requests.Session`` (kgen.testing's fake
    clientsets use it). ``close()`` (or ``with``) releases the pooled connections."""

    def __init__(self, config: Config, *, session: requests.Session | None = None) -> None:
        self._config = config
        self._rest = RESTClient(config, session=session)

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | None = None,
        *,
        context: str | None = None,
        session: requests.Session | None = None,
    ) -> Self:
        """A clientset for the current (or the named) context of a kubeconfig."""
        from kgen.config import load_kubeconfig  # yaml, only when a kubeconfig is read

        return cls(load_kubeconfig(path, context=context), session=session)

    @classmethod
    def in_cluster(cls, *, session: requests.Session | None = None) -> Self:
        """A clientset for the API server of the pod this runs in (its service account)."""
        from kgen.config import in_cluster_config

        return cls(in_cluster_config(), session=session)

    @property
    def config(self) -> Config:
        """The configuration the clientset was built from (do not mutate)."""
        return self._config

    @property
    def rest_client(self) -> RESTClient:
        """The REST client shared by every group client."""
        return self._rest

    def close(self) -> None:
        """Release the pooled connections (of a session the clientset created itself)."""
        self._rest.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @cached_property
    def discovery(self) -> DiscoveryClient:
        """Discovery of the server's groups, versions and resources."""
        from kgen.discovery import DiscoveryClient

        return DiscoveryClient(self._rest)
