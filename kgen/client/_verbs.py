"""One mixin per verb family of a typed client, each over :class:`ClientBase`.

A generated typed client inherits exactly the mixins of the verbs its resource serves, so a
verb the server does not serve is not an attribute at all (client-go's ``onlyVerbs`` and
``noStatus``, read from the API documents instead of tags). Every mixin is generic over the
same ``T`` (object) and ``L`` (list) as the base, and the wire behaviour of each verb is decided
here and nowhere else:

- :class:`GetMixin`: ``get``, GET ``[namespaces/<ns>/]<res>/<name>``.
- :class:`ListMixin`: ``list``/``list_with``, GET ``[namespaces/<ns>/]<res>``.
- :class:`WatchMixin`: ``watch``/``watch_with``, GET ``[namespaces/<ns>/]<res>?watch=true``.
- :class:`CreateMixin`: ``create``, POST ``[namespaces/<ns>/]<res>`` with the object.
- :class:`UpdateMixin`: ``update``, PUT ``.../<res>/<metadata.name>`` with the object.
- :class:`UpdateStatusMixin`: ``update_status``, PUT ``.../<res>/<metadata.name>/status``.
- :class:`PatchMixin`: ``patch``, PATCH ``.../<res>/<name>[/<subresources>]`` with the patch;
  ``apply``, PATCH ``.../<res>/<metadata.name>`` with the object as JSON (apply patch type).
- :class:`ApplyStatusMixin`: ``apply_status``, as ``apply`` on ``.../status``.
- :class:`DeleteMixin`: ``delete``, DELETE ``.../<res>/<name>`` with a DeleteOptions body.
- :class:`DeleteCollectionMixin`: ``delete_collection``, DELETE
  ``[namespaces/<ns>/]<res>?<list options>`` with a DeleteOptions body.

``timeout_seconds`` of ``list``, ``watch`` and ``delete_collection`` is both the server-side
``timeoutSeconds`` and the request's own deadline (``timeout=<Go duration>`` on the wire); when
it is unset these three calls have no deadline at all, whatever ``Config.timeout`` says, so
that a long watch or a large list is not cut short. Every other verb keeps the config's.

Thread-safety is the base's: mixins add no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from kgen.client._base import (
    ClientBase,
    FieldValidation,
    PatchData,
    PropagationPolicy,
    _write,
)
from kgen.client._patch import PatchType
from kgen.meta import ApplyConfiguration, DeleteOptions, Preconditions
from kgen.rest import ListOptions, Watch

__all__ = [
    "ApplyStatusMixin",
    "CreateMixin",
    "DeleteCollectionMixin",
    "DeleteMixin",
    "GetMixin",
    "ListMixin",
    "PatchMixin",
    "UpdateMixin",
    "UpdateStatusMixin",
    "WatchMixin",
]

T = TypeVar("T")
L = TypeVar("L")


class GetMixin(ClientBase[T, L]):
    """``get``: one object by name."""

    def get(self, name: str, *, resource_version: str = "") -> T:
        """GET one object by name; ``resource_version`` asks for an older or cached state."""
        request = self._request(self._rest.get(), name=name)
        if resource_version:
            request = request.param("resourceVersion", resource_version)
        return request.do().into(self._object_type)


class ListMixin(ClientBase[T, L]):
    """``list`` and ``list_with``: the collection, or one page of it."""

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
        return self._collection(self._rest.get(), options).do().into(self._list_type)


class WatchMixin(ClientBase[T, L]):
    """``watch`` and ``watch_with``: a stream of changes to the collection."""

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
        return self._collection(self._rest.get(), options).watch(self._object_type)


class CreateMixin(ClientBase[T, L]):
    """``create``: a new object in the collection."""

    def create(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """POST a new object to the collection; returns what the server stored."""
        request = self._request(self._rest.post())
        return _write(request, obj, dry_run, field_manager, field_validation).into(
            self._object_type
        )


class UpdateMixin(ClientBase[T, L]):
    """``update``: replace a whole object."""

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


class UpdateStatusMixin(ClientBase[T, L]):
    """``update_status``: only for resources whose ``status`` subresource serves update."""

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


class PatchMixin(ClientBase[T, L]):
    """``patch`` in any of the four formats, and server-side ``apply``."""

    def patch(
        self,
        name: str,
        data: PatchData,
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
        request = self._request(self._rest.patch(patch_type), name=name, subresource=subresources)
        return self._patch(
            request, data, self._object_type, force, dry_run, field_manager, field_validation
        )

    def apply(
        self,
        obj: T | ApplyConfiguration,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
    ) -> T:
        """Server-side apply: PATCH ``application/apply-patch+yaml`` with ``obj`` as JSON; the
        server's full object comes back as the model.

        ``obj`` is the intended state this field manager owns: an apply configuration (the
        generated ``applyconfigurations``, where every field is optional and only set ones are
        sent; ``extract_<kind>`` reads back what a manager owns), or a model (unset fields are
        left out, but its required fields must be there). It must carry
        ``metadata.name`` and no ``metadata.managedFields``, and ``field_manager`` must be
        non-empty. ``force`` takes fields over from other managers instead of failing with a
        conflict.
        """
        return self._apply(obj, (), field_manager, force, dry_run)


class ApplyStatusMixin(ClientBase[T, L]):
    """``apply_status``: only for resources whose ``status`` subresource serves patch."""

    def apply_status(
        self,
        obj: T | ApplyConfiguration,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
    ) -> T:
        """``apply`` to the ``status`` subresource (``extract_<kind>(obj, manager, "status")``
        reads back what a manager applied there)."""
        return self._apply(obj, ("status",), field_manager, force, dry_run)


class DeleteMixin(ClientBase[T, L]):
    """``delete``: one object by name."""

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


class DeleteCollectionMixin(ClientBase[T, L]):
    """``delete_collection``: every object some list options select."""

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
        self._collection(self._rest.delete(), list_options).body(options).do()


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
