"""``ClientBase``: what every typed client has whatever verbs it serves.

A typed client is :class:`ClientBase` plus one mixin per verb family the resource serves
(:mod:`kgen.client._verbs`). The base holds the construction arguments, addresses requests
(group/version, namespace, resource, name, subresources), and offers the subresource helpers
(``get_subresource``, ``create_subresource``, ``update_subresource``, ``patch_subresource``,
``stream``) that generated subresource methods call. It has no verb of its own.

Namespaces. ``namespace=None`` means a cluster-scoped resource: no ``namespaces/`` segment ever.
A namespaced client made with ``namespace=""`` addresses all namespaces: the segment is added
only for a non-empty namespace, so ``list``/``watch``/``delete_collection`` span every namespace.
The subresource helpers always pass the namespace of a namespaced client, so calling them with
``""`` fails before sending (the REST client refuses an empty namespace next to a name for GET,
PUT and POST) instead of addressing a path that cannot exist; like client-go's, that check
leaves PATCH alone, so ``patch_subresource`` then addresses the path without a namespace.

Thread-safety: a client holds only immutable configuration and the thread-safe
:class:`kgen.rest.RESTClient`; any number of threads may call it at once. Objects passed in are
only read; objects returned are new and belong to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

from kgen.client._patch import PatchType
from kgen.client._schema import GroupVersionResource
from kgen.meta import ApplyConfiguration, Model, encode, meta_field, meta_name
from kgen.rest import BodyStream, ListOptions, Request, RESTClient, Result

__all__ = ["ClientBase", "FieldValidation", "PatchData", "PropagationPolicy"]

T = TypeVar("T")
L = TypeVar("L")
R = TypeVar("R")

PropagationPolicy = Literal["Orphan", "Background", "Foreground"]
"""What happens to an object's dependents when it is deleted."""
FieldValidation = Literal["Ignore", "Warn", "Strict"]
"""How the server treats unknown or duplicate fields in a write."""
PatchData = bytes | str | Mapping[str, Any] | Sequence[Mapping[str, Any]]
"""A patch body: sent as is when bytes or str, else encoded as JSON (a list for JSON patch)."""


class ClientBase(Generic[T, L]):
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
        self._rest = rest
        self._resource = resource
        self._object_type = object_type
        self._list_type = list_type
        self._namespace = namespace

    @property
    def rest_client(self) -> RESTClient:
        """The REST client requests go through (for hand-written extension methods)."""
        return self._rest

    @property
    def resource(self) -> GroupVersionResource:
        return self._resource

    @property
    def target_namespace(self) -> str | None:
        """``None`` for a cluster-scoped resource, ``""`` for all namespaces, else the namespace."""
        return self._namespace

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
        request = self._named(self._rest.get(), name, subresource)
        return _with_params(request, params).do().into(result_type)

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
        request = self._named(self._rest.post(), name, subresource)
        return _write(request, body, dry_run, field_manager, field_validation).into(result_type)

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
        request = self._named(self._rest.put(), name, subresource)
        return _write(request, body, dry_run, field_manager, field_validation).into(result_type)

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
        request = self._named(self._rest.patch(patch_type), name, subresource)
        return self._patch(
            request, data, result_type, force, dry_run, field_manager, field_validation
        )

    def stream(
        self, name: str, subresource: str, *, params: Mapping[str, str] | None = None
    ) -> BodyStream:
        """GET ``<name>/<subresource>`` as a byte stream (``log``): chunks as they arrive.

        Close the iterator (or exhaust it) to release the connection.
        """
        return _with_params(self._named(self._rest.get(), name, subresource), params).stream()

    # -- building requests (for the verb mixins) ---------------------------------------------------

    def _request(
        self,
        request: Request,
        *,
        name: str | None = None,
        subresource: Sequence[str] = (),
        strict_namespace: bool = False,
    ) -> Request:
        """Address the resource: group/version, namespace, resource, name, subresources.

        The namespace segment is added when non-empty, or for any namespaced client when
        ``strict_namespace`` (the subresource helpers, see the module docstring).
        """
        request = request.group_version(self._resource.group, self._resource.version)
        if self._namespace or (strict_namespace and self._namespace is not None):
            request = request.namespace(self._namespace)
        request = request.resource(self._resource.resource)
        if name is not None:
            request = request.name(name)
        if subresource:
            request = request.subresource(*subresource)
        return request

    def _named(self, request: Request, name: str, subresource: str) -> Request:
        return self._request(request, name=name, subresource=(subresource,), strict_namespace=True)

    def _collection(self, request: Request, options: ListOptions) -> Request:
        """The collection with list options as query parameters; the request's own timeout is
        ``timeout_seconds`` (none when unset, even if the config has one: a watch or a large
        list must outlive it)."""
        request = self._request(request).list_options(options)
        return request.timeout(options.timeout_seconds or None)

    def _put(
        self,
        obj: T,
        subresource: Sequence[str],
        dry_run: bool,
        field_manager: str | None,
        field_validation: FieldValidation | None,
    ) -> T:
        """PUT ``obj`` under its ``metadata.name`` (and ``subresource``)."""
        name = _required_name(obj, "update")
        request = self._request(self._rest.put(), name=name, subresource=subresource)
        return _write(request, obj, dry_run, field_manager, field_validation).into(
            self._object_type
        )

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
        raw = data.encode() if isinstance(data, str) else data
        request = request.body(raw if isinstance(raw, bytes) else encode(raw))
        if force is not None:
            request = request.param("force", "true" if force else "false")
        request = _with_write_options(request, dry_run, field_manager, field_validation)
        return request.do().into(result_type)

    def _apply(
        self,
        obj: T | ApplyConfiguration,
        subresource: Sequence[str],
        field_manager: str,
        force: bool,
        dry_run: bool,
    ) -> T:
        """Server-side apply of ``obj`` (and ``subresource``), validated before sending."""
        if obj is None:
            raise ValueError("apply: the object to apply must not be None")
        name = _required_name(obj, "apply")
        if _has_managed_fields(obj):
            raise ValueError("apply: the object must not carry metadata.managedFields")
        if not field_manager:
            raise ValueError("apply: field_manager is required for server-side apply")
        request = self._request(
            self._rest.patch(PatchType.APPLY), name=name, subresource=subresource
        )
        request = request.body(encode(obj))
        if force:
            request = request.param("force", "true")
        return (
            _with_write_options(request, dry_run, field_manager, None).do().into(self._object_type)
        )


def _body(obj: object) -> bytes | Model | Mapping[str, Any]:
    """Check that ``obj`` is something the request builder can send (it sets the JSON type)."""
    if isinstance(obj, bytes | Model | Mapping):
        return obj
    raise TypeError(f"cannot send a {type(obj).__name__} as a request body: use a model or a dict")


def _required_name(obj: object, verb: str) -> str:
    name = meta_name(obj)
    if not name:
        raise ValueError(f"{verb}: the object must have metadata.name set")
    return name


def _has_managed_fields(obj: object) -> bool:
    if isinstance(obj, Mapping):
        return bool(meta_field(obj, "managedFields"))
    metadata = getattr(obj, "metadata", None)
    return bool(getattr(metadata, "managed_fields", None))


def _with_params(request: Request, params: Mapping[str, str] | None) -> Request:
    for key, value in (params or {}).items():
        request = request.param(key, value)
    return request


def _write(
    request: Request,
    body: object,
    dry_run: bool,
    field_manager: str | None,
    field_validation: FieldValidation | None,
) -> Result:
    """Send ``body`` with the write options (create, update and their subresources)."""
    request = request.body(_body(body))
    return _with_write_options(request, dry_run, field_manager, field_validation).do()


def _with_write_options(
    request: Request,
    dry_run: bool,
    field_manager: str | None,
    field_validation: FieldValidation | None,
) -> Request:
    """The query parameters shared by create, update, patch and apply."""
    if dry_run:
        request = request.param("dryRun", "All")
    if field_manager:
        request = request.param("fieldManager", field_manager)
    if field_validation:
        request = request.param("fieldValidation", field_validation)
    return request
