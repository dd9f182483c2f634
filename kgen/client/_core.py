"""``ResourceCore``: how a typed client's calls become requests, for both transports.

Every verb of a typed client is two halves: building the request (path, query parameters,
body, validation of the arguments) and sending it. The first half is written here, once, over
any :class:`kgen.rest._builder.RequestBuilder` (the sync :class:`kgen.rest.Request` and the
async :class:`kgen.rest.aio.AsyncRequest` share it); the sync mixins (:mod:`kgen.client._verbs`)
and the async ones (:mod:`kgen.client.aio`) only send what these methods build, with
``.do()`` or ``await ....do()``. So options, path building, patch types, apply bodies and
delete options cannot drift between the two.

Namespaces. ``namespace=None`` means a cluster-scoped resource: no ``namespaces/`` segment ever.
A namespaced client made with ``namespace=""`` addresses all namespaces: the segment is added
only for a non-empty namespace, so ``list``/``watch``/``delete_collection`` span every namespace.
The subresource helpers always pass the namespace of a namespaced client, so calling them with
``""`` fails before sending (the REST client refuses an empty namespace next to a name for GET,
PUT and POST) instead of addressing a path that cannot exist; like client-go's, that check
leaves PATCH alone, so ``patch_subresource`` then addresses the path without a namespace.

Every method builds a new request and mutates nothing of the client; arguments that cannot
make a valid request raise ``ValueError`` (``TypeError`` for a body of the wrong kind) before
anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

from kgen.client._patch import PatchType
from kgen.client._schema import GroupVersionResource
from kgen.meta import (
    DeleteOptions,
    Model,
    Preconditions,
    encode,
    meta_field,
    meta_name,
)
from kgen.rest import ListOptions
from kgen.rest._builder import RequestBuilder
from kgen.rest._verbs import RequestVerbs

__all__ = ["FieldValidation", "PatchData", "PropagationPolicy", "ResourceCore"]

T = TypeVar("T")
L = TypeVar("L")
Q = TypeVar("Q", bound=RequestBuilder)
B = TypeVar("B", bound=RequestBuilder)

PropagationPolicy = Literal["Orphan", "Background", "Foreground"]
"""What happens to an object's dependents when it is deleted."""
FieldValidation = Literal["Ignore", "Warn", "Strict"]
"""How the server treats unknown or duplicate fields in a write."""
PatchData = bytes | str | Mapping[str, Any] | Sequence[Mapping[str, Any]]
"""A patch body: sent as is when bytes or str, else encoded as JSON (a list for JSON patch)."""


class ResourceCore(Generic[T, L, Q]):
    """One resource, in one namespace (or cluster-wide), decoding into ``T`` and ``L``, whose
    requests are ``Q`` (made by ``rest``). Holds immutable configuration only."""

    def __init__(
        self,
        rest: RequestVerbs[Q],
        resource: GroupVersionResource,
        object_type: type[T],
        list_type: type[L],
        namespace: str | None = None,
    ) -> None:
        self._verbs = rest
        self._resource = resource
        self._object_type = object_type
        self._list_type = list_type
        self._namespace = namespace

    @property
    def resource(self) -> GroupVersionResource:
        return self._resource

    @property
    def target_namespace(self) -> str | None:
        """``None`` for a cluster-scoped resource, ``""`` for all namespaces, else the namespace."""
        return self._namespace

    # -- addressing --------------------------------------------------------------------------------

    def _request(
        self,
        request: B,
        *,
        name: str | None = None,
        subresource: Sequence[str] = (),
        strict_namespace: bool = False,
    ) -> B:
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

    def _named(self, request: B, name: str, subresource: str) -> B:
        return self._request(request, name=name, subresource=(subresource,), strict_namespace=True)

    def _collection(self, request: B, options: ListOptions) -> B:
        """The collection with list options as query parameters; the request's own timeout is
        ``timeout_seconds`` (none when unset, even if the config has one: a watch or a large
        list must outlive it)."""
        request = self._request(request).list_options(options)
        return request.timeout(options.timeout_seconds or None)

    # -- the verbs' requests -------------------------------------------------------------------------

    def _get_request(self, name: str, resource_version: str) -> Q:
        request = self._request(self._verbs.get(), name=name)
        if resource_version:
            request = request.param("resourceVersion", resource_version)
        return request

    def _create_request(
        self,
        obj: object,
        dry_run: bool,
        field_manager: str | None,
        field_validation: FieldValidation | None,
    ) -> Q:
        request = self._request(self._verbs.post())
        return _write(request, obj, dry_run, field_manager, field_validation)

    def _put_request(
        self,
        obj: object,
        subresource: Sequence[str],
        dry_run: bool,
        field_manager: str | None,
        field_validation: FieldValidation | None,
    ) -> Q:
        """PUT ``obj`` under its ``metadata.name`` (and ``subresource``)."""
        name = _required_name(obj, "update")
        request = self._request(self._verbs.put(), name=name, subresource=subresource)
        return _write(request, obj, dry_run, field_manager, field_validation)

    def _patch_request(
        self,
        name: str,
        data: PatchData,
        patch_type: PatchType,
        subresources: Sequence[str],
        force: bool | None,
        dry_run: bool,
        field_manager: str | None,
        field_validation: FieldValidation | None,
        *,
        strict_namespace: bool = False,
    ) -> Q:
        request = self._request(
            self._verbs.patch(patch_type),
            name=name,
            subresource=subresources,
            strict_namespace=strict_namespace,
        )
        return _patch_body(request, data, force, dry_run, field_manager, field_validation)

    def _apply_request(
        self,
        obj: object,
        subresource: Sequence[str],
        field_manager: str,
        force: bool,
        dry_run: bool,
    ) -> Q:
        """Server-side apply of ``obj`` (and ``subresource``), validated before sending."""
        if obj is None:
            raise ValueError("apply: the object to apply must not be None")
        name = _required_name(obj, "apply")
        if _has_managed_fields(obj):
            raise ValueError("apply: the object must not carry metadata.managedFields")
        if not field_manager:
            raise ValueError("apply: field_manager is required for server-side apply")
        request = self._request(
            self._verbs.patch(PatchType.APPLY), name=name, subresource=subresource
        )
        request = request.body(encode(obj))
        if force:
            request = request.param("force", "true")
        return _with_write_options(request, dry_run, field_manager, None)

    def _delete_request(
        self,
        name: str,
        grace_period_seconds: int | None,
        propagation_policy: PropagationPolicy | None,
        preconditions: Preconditions | None,
        dry_run: bool,
    ) -> Q:
        """DELETE ``name``; the options travel as a ``DeleteOptions`` body."""
        options = _delete_options(grace_period_seconds, propagation_policy, preconditions, dry_run)
        return self._request(self._verbs.delete(), name=name).body(options)

    def _delete_collection_request(
        self,
        list_options: ListOptions,
        grace_period_seconds: int | None,
        propagation_policy: PropagationPolicy | None,
        preconditions: Preconditions | None,
        dry_run: bool,
    ) -> Q:
        options = _delete_options(grace_period_seconds, propagation_policy, preconditions, dry_run)
        return self._collection(self._verbs.delete(), list_options).body(options)

    # -- subresources ---------------------------------------------------------------------------

    def _get_subresource_request(
        self, name: str, subresource: str, params: Mapping[str, str] | None
    ) -> Q:
        return _with_params(self._named(self._verbs.get(), name, subresource), params)

    def _write_subresource_request(
        self,
        method: Literal["POST", "PUT"],
        name: str,
        subresource: str,
        body: object,
        dry_run: bool,
        field_manager: str | None,
        field_validation: FieldValidation | None,
    ) -> Q:
        request = self._named(self._verbs.verb(method), name, subresource)
        return _write(request, body, dry_run, field_manager, field_validation)


def list_options(
    *,
    label_selector: str = "",
    field_selector: str = "",
    limit: int = 0,
    continue_: str = "",
    resource_version: str = "",
    resource_version_match: str = "",
    timeout_seconds: int | None = None,
    allow_watch_bookmarks: bool = False,
    send_initial_events: bool | None = None,
) -> ListOptions:
    """The :class:`ListOptions` of the keyword arguments of ``list``, ``watch`` and
    ``delete_collection`` (one spelling for both transports)."""
    return ListOptions(
        label_selector=label_selector,
        field_selector=field_selector,
        limit=limit,
        continue_=continue_,
        resource_version=resource_version,
        resource_version_match=resource_version_match,
        timeout_seconds=timeout_seconds,
        allow_watch_bookmarks=allow_watch_bookmarks,
        send_initial_events=send_initial_events,
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


def _with_params(request: B, params: Mapping[str, str] | None) -> B:
    for key, value in (params or {}).items():
        request = request.param(key, value)
    return request


def _write(
    request: B,
    body: object,
    dry_run: bool,
    field_manager: str | None,
    field_validation: FieldValidation | None,
) -> B:
    """``body`` with the write options (create, update and their subresources)."""
    request = request.body(_body(body))
    return _with_write_options(request, dry_run, field_manager, field_validation)


def _patch_body(
    request: B,
    data: PatchData,
    force: bool | None,
    dry_run: bool,
    field_manager: str | None,
    field_validation: FieldValidation | None,
) -> B:
    """The addressed PATCH ``request`` with ``data`` (sent as is when bytes or str, else as
    JSON) and the patch options."""
    raw = data.encode() if isinstance(data, str) else data
    request = request.body(raw if isinstance(raw, bytes) else encode(raw))
    if force is not None:
        request = request.param("force", "true" if force else "false")
    return _with_write_options(request, dry_run, field_manager, field_validation)


def _with_write_options(
    request: B,
    dry_run: bool,
    field_manager: str | None,
    field_validation: FieldValidation | None,
) -> B:
    """The query parameters shared by create, update, patch and apply."""
    if dry_run:
        request = request.param("dryRun", "All")
    if field_manager:
        request = request.param("fieldManager", field_manager)
    if field_validation:
        request = request.param("fieldValidation", field_validation)
    return request


def _delete_options(
    grace_period_seconds: int | None,
    propagation_policy: PropagationPolicy | None,
    preconditions: Preconditions | None,
    dry_run: bool,
) -> DeleteOptions:
    """The ``DeleteOptions`` body of a delete; always sent, even when empty."""
    options = DeleteOptions(kind="DeleteOptions", api_version="v1")
    if grace_period_seconds is not None:
        options.grace_period_seconds = grace_period_seconds
    if propagation_policy is not None:
        options.propagation_policy = propagation_policy
    if preconditions is not None:
        options.preconditions = preconditions
    if dry_run:
        options.dry_run = ("All",)
    return options
