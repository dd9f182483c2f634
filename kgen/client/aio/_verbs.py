"""The asyncio verb mixins: :mod:`kgen.client._verbs` over :class:`AsyncClientBase`.

One mixin per verb family, with the sync mixin's name prefixed by ``Async`` and the same
arguments; each builds its request with the shared :class:`kgen.client._core.ResourceCore`
method and awaits it. ``list`` returns the typed list; ``watch`` returns an
:class:`AsyncWatchOpener`: ``async with client.watch() as events: async for event in events``
(or ``events = await client.watch()``, then ``events.stop()``). Timeouts of ``list``, ``watch``
and ``delete_collection`` as the sync mixins (``timeout_seconds``, else none).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

from kgen.client._core import FieldValidation, PatchData, PropagationPolicy, list_options
from kgen.client._patch import PatchType
from kgen.client.aio._base import AsyncClientBase
from kgen.meta import ApplyConfiguration, Preconditions
from kgen.rest import ListOptions
from kgen.rest.aio import AsyncWatch

__all__ = [
    "AsyncApplyStatusMixin",
    "AsyncCreateMixin",
    "AsyncDeleteCollectionMixin",
    "AsyncDeleteMixin",
    "AsyncGetMixin",
    "AsyncListMixin",
    "AsyncPatchMixin",
    "AsyncUpdateMixin",
    "AsyncUpdateStatusMixin",
    "AsyncWatchMixin",
    "AsyncWatchOpener",
]

T = TypeVar("T")
L = TypeVar("L")


class AsyncWatchOpener(Generic[T]):
    """A watch not yet started: ``async with`` it (the watch is stopped on exit, whatever
    happens) or ``await`` it for the :class:`~kgen.rest.aio.AsyncWatch` (then stop it
    yourself). Nothing is sent before either; each opens a new watch."""

    def __init__(self, start: Callable[[], Awaitable[AsyncWatch[T]]]) -> None:
        self._start = start
        self._open: list[AsyncWatch[T]] = []

    def __await__(self) -> Generator[Any, None, AsyncWatch[T]]:
        return self._start().__await__()

    async def __aenter__(self) -> AsyncWatch[T]:
        watch = await self._start()
        self._open.append(watch)
        return watch

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open.pop().stop()


class AsyncGetMixin(AsyncClientBase[T, L]):
    """``get``: one object by name."""

    async def get(self, name: str, *, resource_version: str = "") -> T:
        """GET one object by name; ``resource_version`` asks for an older or cached state."""
        return (await self._get_request(name, resource_version).do()).into(self._object_type)


class AsyncListMixin(AsyncClientBase[T, L]):
    """``list`` and ``list_with``: the collection, or one page of it."""

    async def list(
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
        return await self.list_with(
            list_options(
                label_selector=label_selector,
                field_selector=field_selector,
                limit=limit,
                continue_=continue_,
                resource_version=resource_version,
                resource_version_match=resource_version_match,
                timeout_seconds=timeout_seconds,
            )
        )

    async def list_with(self, options: ListOptions) -> L:
        """``list`` with a ready-made :class:`kgen.rest.ListOptions`."""
        result = await self._collection(self._rest.get(), options).do()
        return result.into(self._list_type)


class AsyncWatchMixin(AsyncClientBase[T, L]):
    """``watch`` and ``watch_with``: a stream of typed changes to the collection."""

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
    ) -> AsyncWatchOpener[T]:
        """A watch of the collection, started by ``async with`` or ``await``."""
        return self.watch_with(
            list_options(
                label_selector=label_selector,
                field_selector=field_selector,
                resource_version=resource_version,
                resource_version_match=resource_version_match,
                timeout_seconds=timeout_seconds,
                allow_watch_bookmarks=allow_watch_bookmarks,
                send_initial_events=send_initial_events,
            )
        )

    def watch_with(self, options: ListOptions) -> AsyncWatchOpener[T]:
        """``watch`` with a ready-made :class:`kgen.rest.ListOptions`."""
        return AsyncWatchOpener(
            lambda: self._collection(self._rest.get(), options).watch(self._object_type)
        )


class AsyncCreateMixin(AsyncClientBase[T, L]):
    """``create``: a new object in the collection."""

    async def create(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """POST a new object to the collection; returns what the server stored."""
        request = self._create_request(obj, dry_run, field_manager, field_validation)
        return (await request.do()).into(self._object_type)


class AsyncUpdateMixin(AsyncClientBase[T, L]):
    """``update``: replace a whole object."""

    async def update(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """PUT the whole object under its ``metadata.name`` (a stale resourceVersion conflicts)."""
        request = self._put_request(obj, (), dry_run, field_manager, field_validation)
        return (await request.do()).into(self._object_type)


class AsyncUpdateStatusMixin(AsyncClientBase[T, L]):
    """``update_status``: only for resources whose ``status`` subresource serves update."""

    async def update_status(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """PUT the object to its ``status`` subresource (only the status is changed)."""
        request = self._put_request(obj, ("status",), dry_run, field_manager, field_validation)
        return (await request.do()).into(self._object_type)


class AsyncPatchMixin(AsyncClientBase[T, L]):
    """``patch`` in any of the four formats, and server-side ``apply``."""

    async def patch(
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
        """As :meth:`kgen.client.PatchMixin.patch`."""
        request = self._patch_request(
            name, data, patch_type, subresources, force, dry_run, field_manager, field_validation
        )
        return (await request.do()).into(self._object_type)

    async def apply(
        self,
        obj: T | ApplyConfiguration,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
    ) -> T:
        """Server-side apply of a model or an apply configuration, as
        :meth:`kgen.client.PatchMixin.apply`."""
        request = self._apply_request(obj, (), field_manager, force, dry_run)
        return (await request.do()).into(self._object_type)


class AsyncApplyStatusMixin(AsyncClientBase[T, L]):
    """``apply_status``: only for resources whose ``status`` subresource serves patch."""

    async def apply_status(
        self,
        obj: T | ApplyConfiguration,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
    ) -> T:
        """``apply`` to the ``status`` subresource."""
        request = self._apply_request(obj, ("status",), field_manager, force, dry_run)
        return (await request.do()).into(self._object_type)


class AsyncDeleteMixin(AsyncClientBase[T, L]):
    """``delete``: one object by name."""

    async def delete(
        self,
        name: str,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: PropagationPolicy | None = None,
        preconditions: Preconditions | None = None,
        dry_run: bool = False,
    ) -> None:
        """DELETE ``name``; the options travel as a ``DeleteOptions`` body."""
        request = self._delete_request(
            name, grace_period_seconds, propagation_policy, preconditions, dry_run
        )
        await request.do()


class AsyncDeleteCollectionMixin(AsyncClientBase[T, L]):
    """``delete_collection``: every object some list options select."""

    async def delete_collection(
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
        selection = list_options(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_=continue_,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
        )
        request = self._delete_collection_request(
            selection, grace_period_seconds, propagation_policy, preconditions, dry_run
        )
        await request.do()
