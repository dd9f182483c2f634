"""``AsyncClientBase``: the asyncio twin of :class:`kgen.client.ClientBase`.

The same requests (built by :class:`kgen.client._core.ResourceCore`), sent over
:class:`kgen.rest.aio.AsyncRESTClient` with ``await``. Errors are the sync client's
(:class:`kgen.rest.StatusError`, ``ValueError`` before sending); transport failures are
``aiohttp.ClientError`` and timeouts ``TimeoutError``. Cancelling the awaiting task aborts the
request's connection.

Concurrency: a client holds only immutable configuration and the REST client; use it from the
REST client's event loop, from any number of its tasks at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from kgen.client._core import FieldValidation, PatchData, ResourceCore
from kgen.client._patch import PatchType
from kgen.client._schema import GroupVersionResource
from kgen.rest.aio import AsyncBodyStream, AsyncRequest, AsyncRESTClient

__all__ = ["AsyncClientBase"]

T = TypeVar("T")
L = TypeVar("L")
R = TypeVar("R")


class AsyncClientBase(ResourceCore[T, L, AsyncRequest]):
    """One resource, in one namespace (or cluster-wide), decoding into ``T`` and ``L``, over
    an :class:`~kgen.rest.aio.AsyncRESTClient`; construction as :class:`kgen.client.ClientBase`.
    """

    def __init__(
        self,
        rest: AsyncRESTClient,
        resource: GroupVersionResource,
        object_type: type[T],
        list_type: type[L],
        namespace: str | None = None,
    ) -> None:
        super().__init__(rest, resource, object_type, list_type, namespace)
        self._rest = rest

    @property
    def rest_client(self) -> AsyncRESTClient:
        """The async REST client requests go through."""
        return self._rest

    async def get_subresource(
        self,
        name: str,
        subresource: str,
        result_type: type[R],
        *,
        params: Mapping[str, str] | None = None,
    ) -> R:
        """GET ``<name>/<subresource>`` decoded into ``result_type``."""
        request = self._get_subresource_request(name, subresource, params)
        return (await request.do()).into(result_type)

    async def create_subresource(
        self,
        name: str,
        subresource: str,
        body: object,
        result_type: type[R],
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> R:
        """POST ``body`` to ``<name>/<subresource>`` (``eviction``, ``binding``, ``token``, ...)."""
        request = self._write_subresource_request(
            "POST", name, subresource, body, dry_run, field_manager, field_validation
        )
        return (await request.do()).into(result_type)

    async def update_subresource(
        self,
        name: str,
        subresource: str,
        body: object,
        result_type: type[R],
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> R:
        """PUT ``body`` to ``<name>/<subresource>`` (``scale``, ``ephemeralcontainers``, ...)."""
        request = self._write_subresource_request(
            "PUT", name, subresource, body, dry_run, field_manager, field_validation
        )
        return (await request.do()).into(result_type)

    async def patch_subresource(
        self,
        name: str,
        subresource: str,
        data: PatchData,
        patch_type: PatchType,
        result_type: type[R],
        *,
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
        field_validation: FieldValidation | None = None,
    ) -> R:
        """PATCH ``<name>/<subresource>`` with ``data`` in the format ``patch_type``."""
        request = self._patch_request(
            name,
            data,
            patch_type,
            (subresource,),
            force,
            dry_run,
            field_manager,
            field_validation,
            strict_namespace=True,
        )
        return (await request.do()).into(result_type)

    async def stream(
        self, name: str, subresource: str, *, params: Mapping[str, str] | None = None
    ) -> AsyncBodyStream:
        """GET ``<name>/<subresource>`` as chunks as they arrive; close it (``async with``) to
        release the connection early."""
        return await self._get_subresource_request(name, subresource, params).stream()
