"""``MetadataClient`` and its per-resource client (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import msgspec

from kgen.client import (
    DeleteCollectionMixin,
    DeleteMixin,
    FieldValidation,
    GroupVersionResource,
    ListMixin,
    PatchData,
    PatchType,
    WatchMixin,
)
from kgen.meta import UNSET, PartialObjectMetadata, PartialObjectMetadataList
from kgen.rest import ListOptions, RESTClient, Result, UnexpectedResponseError, Watch

__all__ = [
    "LIST_ACCEPT",
    "OBJECT_ACCEPT",
    "MetadataClient",
    "MetadataResourceClient",
]

OBJECT_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
"""The ``Accept`` of get, patch and watch: metadata if the server can, else the whole object."""
LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
"""The ``Accept`` of list."""

_META_GROUP = "meta.k8s.io/"
_EXCERPT = 200

T = TypeVar("T")
P = PartialObjectMetadata
PL = PartialObjectMetadataList


class MetadataResourceClient(
    ListMixin[P, PL],
    WatchMixin[P, PL],
    DeleteMixin[P, PL],
    DeleteCollectionMixin[P, PL],
):
    """get, list, watch, patch, delete and delete_collection of one resource, as metadata.

    Objects come back as :class:`~kgen.meta.PartialObjectMetadata` (lists as
    :class:`~kgen.meta.PartialObjectMetadataList`). When the server answers with whole objects
    instead (it cannot transform), they are reduced to their ``apiVersion``, ``kind`` and
    ``metadata`` on decoding; ``kind`` then says what the object was (``Pod``, ``PodList``).
    A ``get`` or ``patch`` answer that is another ``meta.k8s.io`` kind (a ``Table``), or a whole
    object whose metadata has none of name, generateName, uid and creationTimestamp, raises
    :class:`kgen.rest.UnexpectedResponseError` carrying the body. Watch events are reduced
    the same way and never checked (a bookmark has only a resourceVersion).

    Made by :meth:`MetadataClient.resource`; immutable and thread-safe like every
    :class:`~kgen.client.ClientBase`.
    """

    def namespace(self, namespace: str) -> MetadataResourceClient:
        """The same resource in ``namespace`` (``""``: no namespace, as without this call)."""
        return MetadataResourceClient(self.rest_client, self.resource, P, PL, namespace or None)

    def get(self, name: str, *, resource_version: str = "") -> PartialObjectMetadata:
        """GET one object's metadata by name; ``resource_version`` asks for an older state."""
        if not name:
            raise ValueError("get: name is required")
        request = self._request(self._rest.get(), name=name).header("Accept", OBJECT_ACCEPT)
        if resource_version:
            request = request.param("resourceVersion", resource_version)
        return _object(request.do())

    def list_with(self, options: ListOptions) -> PartialObjectMetadataList:
        """GET the collection's metadata (one page of it when ``options.limit`` is set)."""
        request = self._collection(self._rest.get(), options).header("Accept", LIST_ACCEPT)
        result = request.do()
        found = _decode(result, PL)
        _refuse_other_meta_kinds(found.api_version, found.kind, "PartialObjectMetadataList", result)
        return found

    def watch_with(self, options: ListOptions) -> Watch[PartialObjectMetadata]:
        """Watch the collection; every event's object is decoded as metadata."""
        request = self._collection(self._rest.get(), options).header("Accept", OBJECT_ACCEPT)
        return request.watch(P)

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
    ) -> PartialObjectMetadata:
        """PATCH ``name`` (or one of its subresources) with ``data`` in the format
        ``patch_type`` (as :meth:`kgen.client.PatchMixin.patch`) and return its metadata."""
        if not name:
            raise ValueError("patch: name is required")
        request = self._request(self._rest.patch(patch_type), name=name, subresource=subresources)
        request = request.header("Accept", OBJECT_ACCEPT)
        # Decoded as raw JSON first, so that the checks of _object can quote what came back.
        try:
            raw = self._patch(
                request, data, msgspec.Raw, force, dry_run, field_manager, field_validation
            )
        except UnexpectedResponseError as err:
            raise _quoting(err) from None
        return _object(Result(200, bytes(raw), "application/json"))


class MetadataClient:
    """Entry point of metadata access over one :class:`kgen.rest.RESTClient` (thread-safe)."""

    def __init__(self, rest: RESTClient) -> None:
        self._rest = rest

    @property
    def rest_client(self) -> RESTClient:
        return self._rest

    def resource(self, resource: GroupVersionResource) -> MetadataResourceClient:
        """A client for ``resource``, cluster-wide (``.namespace(ns)`` narrows it)."""
        return MetadataResourceClient(self._rest, resource, P, PL)


def _object(result: Result) -> PartialObjectMetadata:
    """The metadata in a get or patch answer, after client-go's checks (class docstring)."""
    found = _decode(result, P)
    _refuse_other_meta_kinds(found.api_version, found.kind, "PartialObjectMetadata", result)
    if found.kind != "PartialObjectMetadata" and not _looks_like_object_metadata(found):
        raise UnexpectedResponseError(
            f"the server sent a {found.api_version or '?'} {found.kind or 'object'} whose "
            "metadata does not look like an ObjectMeta (no name, generateName, uid or "
            f"creationTimestamp): {found!r}",
            status_code=result.status_code,
            body=result.body,
            content_type=result.content_type,
        )
    return found


def _decode(result: Result, type: type[T]) -> T:
    """``result.into(type)``; an undecodable answer's error says what came back."""
    try:
        return result.into(type)
    except UnexpectedResponseError as err:
        raise _quoting(err) from None


def _quoting(err: UnexpectedResponseError) -> UnexpectedResponseError:
    """``err`` with what came back (content type, start of the body) in its message."""
    excerpt = err.body[:_EXCERPT].decode("utf-8", "replace")
    more = "..." if len(err.body) > _EXCERPT else ""
    return UnexpectedResponseError(
        f"{err}; the server sent {err.content_type or 'no content type'}: {excerpt!r}{more}",
        status_code=err.status_code,
        body=err.body,
        content_type=err.content_type,
    )


def _refuse_other_meta_kinds(
    api_version: object, kind: object, expected: str, result: Result
) -> None:
    """A ``meta.k8s.io`` answer must be ``expected``: any other (a ``Table``) is an error,
    where a whole object of another group is reduced to its metadata."""
    if isinstance(api_version, str) and api_version.startswith(_META_GROUP) and kind != expected:
        raise UnexpectedResponseError(
            f"unexpected object: expected {expected} but the server sent {api_version} {kind}",
            status_code=result.status_code,
            body=result.body,
            content_type=result.content_type,
        )


def _looks_like_object_metadata(partial: PartialObjectMetadata) -> bool:
    metadata = partial.metadata
    if not metadata:
        return False
    return any(
        value not in (None, "", UNSET)
        for value in (
            metadata.uid,
            metadata.creation_timestamp,
            metadata.name,
            metadata.generate_name,
        )
    )
