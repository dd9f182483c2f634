"""``ResourceClient``: every verb of a typed client, written once.

Generated typed clients subclass ``ResourceClient[Pod, PodList]`` and add nothing but a name and
the two types; the dynamic client uses ``ResourceClient[dict, dict]``. The wire behaviour of each
verb (path, method, body, query parameters) is therefore decided here and nowhere else:

===================  ======  ==================================================  ================
method               HTTP    path under ``/api/v1`` or ``/apis/<g>/<v>``         body
===================  ======  ==================================================  ================
get                  GET     ``[namespaces/<ns>/]<res>/<name>``                  none
list                 GET     ``[namespaces/<ns>/]<res>``                         none
watch                GET     ``[namespaces/<ns>/]<res>?watch=true``              none
create               POST    ``[namespaces/<ns>/]<res>``                         the object
update               PUT     ``.../<res>/<metadata.name>``                       the object
update_status        PUT     ``.../<res>/<metadata.name>/status``                the object
patch                PATCH   ``.../<res>/<name>[/<subresources>]``               the patch
apply                PATCH   ``.../<res>/<metadata.name>``                       the object, JSON
apply_status         PATCH   ``.../<res>/<metadata.name>/status``                the object, JSON
delete               DELETE  ``.../<res>/<name>``                                DeleteOptions
delete_collection    DELETE  ``[namespaces/<ns>/]<res>?<list options>``          DeleteOptions
===================  ======  ==================================================  ================

Namespaces. ``namespace=None`` means a cluster-scoped resource: no ``namespaces/`` segment ever.
A namespaced client made with ``namespace=""`` addresses all namespaces: the segment is added
only for a non-empty namespace, so ``list``/``watch``/``delete_collection`` span every namespace.
The subresource helpers (``get_subresource`` and friends) always pass the namespace of a
namespaced client, so calling them with ``""`` fails before sending (the REST client refuses an
empty namespace next to a name) instead of addressing a path that cannot exist.

``timeout_seconds`` of ``list``, ``watch`` and ``delete_collection`` is both the server-side
``timeoutSeconds`` and the request's own deadline (``timeout=<Go duration>`` on the wire); when
it is unset these three calls have no deadline at all, whatever ``Config.timeout`` says, so
that a long watch or a large list is not cut short. Every other verb keeps the config's.

Thread-safety: a ``ResourceClient`` holds only immutable configuration and the thread-safe
:class:`kgen.rest.RESTClient`; any number of threads may call it at once. Objects passed in are
only read; objects returned are new and belong to the caller.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

from kgen.client._patch import PatchType
from kgen.client._schema import GroupVersionResource
from kgen.meta import DeleteOptions, Model, Preconditions, encode, meta_field, meta_name
from kgen.rest import ListOptions, Request, RESTClient, Watch

__all__ = ["FieldValidation", "PropagationPolicy", "ResourceClient"]

T = TypeVar("T")
L = TypeVar("L")
R = TypeVar("R")

PropagationPolicy = Literal["Orphan", "Background", "Foreground"]
"""What happens to an object's dependents when it is deleted."""
FieldValidation = Literal["Ignore", "Warn", "Strict"]
"""How the server treats unknown or duplicate fields in a write."""


class ResourceClient(Generic[T, L]):
    """The verbs of one resource, in one namespace (or cluster-wide), decoding into ``T``/``L``.

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

    # -- reads ---------------------------------------------------------------------------------

    def get(self, name: str, *, resource_version: str = "") -> T:
        """GET one object by name; ``resource_version`` asks for an older or cached state."""
        request = self._request(self._rest.get(), name=name)
        if resource_version:
            request = request.param("resourceVersion", resource_version)
        return request.do().into(self._object_type)

    def list(
        self,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_: str = "",
        resource_version: str = "",
        resource_version_match: str = "",
        timeout_seconds: int | None = None,
    ) -> L:
        """GET the collection (one page of it when ``limit`` is set; see ``metadata.continue``)."""
        return self.list_with(
            ListOptions(
                label_selector=label_selector,
                field_selector=field_selector,
                limit=limit,
                continue_=continue_,
                resource_version=resource_version,
                resource_version_match=resource_version_match,
                timeout_seconds=timeout_seconds,
            )
        )

    def list_with(self, options: ListOptions) -> L:
        """``list`` with a ready-made :class:`kgen.rest.ListOptions` (what list-watchers hold)."""
        request = self._with_list_options(self._request(self._rest.get()), options)
        return request.do().into(self._list_type)

    def watch(
        self,
        *,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
        resource_version_match: str = "",
        timeout_seconds: int | None = None,
        allow_watch_bookmarks: bool = False,
        send_initial_events: bool | None = None,
    ) -> Watch[T]:
        """Open a watch of the collection. The caller must ``stop()`` it (or use ``with``)."""
        return self.watch_with(
            ListOptions(
                label_selector=label_selector,
                field_selector=field_selector,
                resource_version=resource_version,
                resource_version_match=resource_version_match,
                timeout_seconds=timeout_seconds,
                allow_watch_bookmarks=allow_watch_bookmarks,
                send_initial_events=send_initial_events,
            )
        )

    def watch_with(self, options: ListOptions) -> Watch[T]:
        """``watch`` with a ready-made :class:`kgen.rest.ListOptions`."""
        request = self._with_list_options(self._request(self._rest.get()), options)
        return request.watch(self._object_type)

    # -- writes --------------------------------------------------------------------------------

    def create(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """POST a new object to the collection; returns what the server stored."""
        request = self._request(self._rest.post()).body(_body(obj))
        return (
            _with_write_options(request, dry_run, field_manager, field_validation)
            .do()
            .into(self._object_type)
        )

    def update(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """PUT the whole object under its ``metadata.name`` (a stale resourceVersion conflicts)."""
        return self._put(obj, (), dry_run, field_manager, field_validation)

    def update_status(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """PUT the object to its ``status`` subresource (only the status is changed)."""
        return self._put(obj, ("status",), dry_run, field_manager, field_validation)

    def patch(
        self,
        name: str,
        data: bytes | str | Mapping[str, Any] | Sequence[Mapping[str, Any]],
        patch_type: PatchType,
        *,
        subresources: Sequence[str] = (),
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """PATCH ``name`` (or one of its subresources) with ``data`` in the format ``patch_type``.

        ``data`` is sent as is when bytes or str, else encoded as JSON (a list for JSON patch).
        """
        raw = data.encode() if isinstance(data, str) else data
        request = self._request(self._rest.patch(patch_type), name=name, subresource=subresources)
        request = request.body(raw if isinstance(raw, bytes) else encode(raw))
        if force is not None:
            request = request.param("force", "true" if force else "false")
        request = _with_write_options(request, dry_run, field_manager, field_validation)
        return request.do().into(self._object_type)

    def apply(self, obj: T, *, field_manager: str, force: bool = False, dry_run: bool = False) -> T:
        """Server-side apply: PATCH ``application/apply-patch+yaml`` with ``obj`` as JSON.

        ``obj`` is the intended state this field manager owns (unset fields are left out, so a
        model with only the fields you care about is an apply configuration). It must carry
        ``metadata.name`` and no ``metadata.managedFields``, and ``field_manager`` must be
        non-empty. ``force`` takes fields over from other managers instead of failing with a
        conflict.
        """
        return self._apply(obj, (), field_manager, force, dry_run)

    def apply_status(
        self, obj: T, *, field_manager: str, force: bool = False, dry_run: bool = False
    ) -> T:
        """``apply`` to the ``status`` subresource."""
        return self._apply(obj, ("status",), field_manager, force, dry_run)

    def delete(
        self,
        name: str,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: PropagationPolicy | None = None,
        preconditions: Preconditions | None = None,
        dry_run: bool = False,
    ) -> None:
        """DELETE ``name``; the options travel as a ``DeleteOptions`` body."""
        options = _delete_options(grace_period_seconds, propagation_policy, preconditions, dry_run)
        self._request(self._rest.delete(), name=name).body(options).do()

    def delete_collection(
        self,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_: str = "",
        resource_version: str = "",
        resource_version_match: str = "",
        timeout_seconds: int | None = None,
        grace_period_seconds: int | None = None,
        propagation_policy: PropagationPolicy | None = None,
        preconditions: Preconditions | None = None,
        dry_run: bool = False,
    ) -> None:
        """DELETE every object the list options select; delete options as a body."""
        list_options = ListOptions(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_=continue_,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
        )
        options = _delete_options(grace_period_seconds, propagation_policy, preconditions, dry_run)
        request = self._with_list_options(self._request(self._rest.delete()), list_options)
        request.body(options).do()

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
        request = self._named(self._rest.post(), name, subresource).body(_body(body))
        request = _with_write_options(request, dry_run, field_manager, field_validation)
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
        request = self._named(self._rest.put(), name, subresource).body(_body(body))
        request = _with_write_options(request, dry_run, field_manager, field_validation)
        return request.do().into(result_type)

    def stream(
        self, name: str, subresource: str, *, params: Mapping[str, str] | None = None
    ) -> Iterator[bytes]:
        """GET ``<name>/<subresource>`` as a byte stream (``log``): chunks as they arrive.

        Close the iterator (or exhaust it) to release the connection.
        """
        return _with_params(self._named(self._rest.get(), name, subresource), params).stream()

    # -- building requests -------------------------------------------------------------------

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

    @staticmethod
    def _with_list_options(request: Request, options: ListOptions) -> Request:
        """List options as query parameters; the request's own timeout is ``timeout_seconds``
        (none when unset, even if the config has one: a watch must outlive it)."""
        return request.list_options(options).timeout(options.timeout_seconds or None)

    def _put(
        self,
        obj: T,
        subresource: Sequence[str],
        dry_run: bool,
        field_manager: str | None,
        field_validation: FieldValidation | None,
    ) -> T:
        name = _required_name(obj, "update")
        request = self._request(self._rest.put(), name=name, subresource=subresource)
        request = _with_write_options(
            request.body(_body(obj)), dry_run, field_manager, field_validation
        )
        return request.do().into(self._object_type)

    def _apply(
        self,
        obj: T,
        subresource: Sequence[str],
        field_manager: str,
        force: bool,
        dry_run: bool,
    ) -> T:
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
