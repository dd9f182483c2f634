"""``ClientBase``: what every sync typed client has whatever verbs it serves.

A typed client is :class:`ClientBase` plus one mixin per verb family the resource serves
(:mod:`kgen.client._verbs`). The base holds the construction arguments and offers the
subresource helpers (``get_subresource``, ``create_subresource``, ``update_subresource``,
``patch_subresource``, ``stream``) that the subresource methods
(:mod:`kgen.client._subresources`) call. It has no verb of its own. Requests are built by
:class:`kgen.client._core.ResourceCore` (addressing and namespaces are documented there), the
same code the async client (:mod:`kgen.client.aio`) sends.

Thread-safety: a client holds only immutable configuration and the thread-safe
:class:`kgen.rest.RESTClient`; any number of threads may call it at once. Objects passed in are
only read; objects returned are new and belong to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from kgen.client._core import (
    FieldValidation,
    PatchData,
    PropagationPolicy,
    ResourceCore,
    _patch_body,
)
from kgen.client._patch import PatchType
from kgen.client._schema import GroupVersionResource
from kgen.rest import BodyStream, Request, RESTClient

__all__ = ["ClientBase", "FieldValidation", "PatchData", "PropagationPolicy"]

T = TypeVar("T")
L = TypeVar("L")
R = TypeVar("R")


class ClientBase(ResourceCore[T, L, Request]):
    """One resource, in one namespace (or cluster-wide), decoding into ``T`` and ``L``.

    ``object_type`` and ``list_type`` are the types responses are decoded into: generated model
    classes, or ``dict`` for unstructured access. Errors from the server are raised as
    :class:`kgen.rest.StatusError` (use the ``kgen.rest`` predicates such as ``is_not_found``);
    arguments that cannot make a valid request raise ``ValueError`` before anything is sent.
    """

    def __init__(
        self,
        rest: RESTClient,
        resource: GroupVersionResource,
        object_type: type[T],
        list_type: type[L],
        namespace: str | None = None,
    ) -> None:
        super().__init__(rest, resource, object_type, list_type, namespace)
        self._rest = rest

    @property
    def rest_client(self) -> RESTClient:
        """The REST client requests go through (for hand-written extension methods)."""
        return self._rest

    # -- subresources ----------------------------------------------------------------------------

    def get_subresource(
        self,
        name: str,
        subresource: str,
        result_type: type[R],
        *,
        params: Mapping[str, str] | None = None,
    ) -> R:
        """GET ``<name>/<subresource>`` (``scale``, ``status``, ...) decoded into ``result_type``."""
        return self._get_subresource_request(name, subresource, params).do().into(result_type)

    def create_subresource(
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
        return request.do().into(result_type)

    def update_subresource(
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
        return request.do().into(result_type)

    def patch_subresource(
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
        """PATCH ``<name>/<subresource>`` with ``data`` in the format ``patch_type``, decoded
        into ``result_type``; ``data`` as for ``patch``."""
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
        return request.do().into(result_type)

    def stream(
        self, name: str, subresource: str, *, params: Mapping[str, str] | None = None
    ) -> BodyStream:
        """GET ``<name>/<subresource>`` as a byte stream (``log``): chunks as they arrive.

        Close the iterator (or exhaust it) to release the connection.
        """
        return self._get_subresource_request(name, subresource, params).stream()

    # -- for hand-written clients over the base (kgen.metadata) ------------------------------------

    def _patch(
        self,
        request: Request,
        data: PatchData,
        result_type: type[R],
        force: bool | None,
        dry_run: bool,
        field_manager: str | None,
        field_validation: FieldValidation | None,
    ) -> R:
        """Send the addressed PATCH ``request`` with ``data``, decoded into ``result_type``."""
        request = _patch_body(request, data, force, dry_run, field_manager, field_validation)
        return request.do().into(result_type)
