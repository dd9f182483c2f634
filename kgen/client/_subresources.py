"""Subresource methods as declarations: ``get_scale = subresource_getter("scale", Scale)``.

A generated typed client declares each of its subresource methods with one of
:func:`subresource_getter`, :func:`subresource_creator`, :func:`subresource_updater` and
:func:`subresource_patcher`, the same line for the sync and the async client. The descriptor
binds to the client it is read from: on a sync client (:class:`kgen.client.ClientBase`) it is
a plain method, on an async one (:class:`kgen.client.aio.AsyncClientBase`) a coroutine function,
and mypy sees exactly that through the overloads of ``__get__`` (``get_scale(name) -> Scale``,
or ``async get_scale(name) -> Scale``). The call goes to the client's ``get_subresource``,
``create_subresource``, ``update_subresource`` or ``patch_subresource`` (which build their
requests in :class:`kgen.client._core.ResourceCore`); read from the class, the descriptor itself
is returned (its ``subresource``, ``result_type`` and ``body_type`` say what it sends).

Descriptors are immutable and may be shared by any number of clients and threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar, overload

from kgen.client._base import ClientBase
from kgen.client._core import FieldValidation, PatchData
from kgen.client._patch import PatchType

if TYPE_CHECKING:
    from kgen.client.aio._base import AsyncClientBase

__all__ = [
    "AsyncGetSubresource",
    "AsyncPatchSubresource",
    "AsyncWriteSubresource",
    "GetSubresource",
    "PatchSubresource",
    "SubresourceGetter",
    "SubresourcePatcher",
    "SubresourceWriter",
    "WriteSubresource",
    "subresource_creator",
    "subresource_getter",
    "subresource_patcher",
    "subresource_updater",
]

R = TypeVar("R")
Bd = TypeVar("Bd")
R_co = TypeVar("R_co", covariant=True)
B_contra = TypeVar("B_contra", contravariant=True)


class GetSubresource(Protocol[R_co]):
    """``get_<sub>(name)`` of a sync client."""

    def __call__(self, name: str) -> R_co: ...


class AsyncGetSubresource(Protocol[R_co]):
    """``get_<sub>(name)`` of an async client."""

    async def __call__(self, name: str) -> R_co: ...


class WriteSubresource(Protocol[B_contra, R_co]):
    """``create_<sub>(name, body)`` / ``update_<sub>(name, body)`` of a sync client."""

    def __call__(
        self,
        name: str,
        body: B_contra,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> R_co: ...


class AsyncWriteSubresource(Protocol[B_contra, R_co]):
    """``create_<sub>(name, body)`` / ``update_<sub>(name, body)`` of an async client."""

    async def __call__(
        self,
        name: str,
        body: B_contra,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> R_co: ...


class PatchSubresource(Protocol[R_co]):
    """``patch_<sub>(name, data, patch_type)`` of a sync client."""

    def __call__(
        self,
        name: str,
        data: PatchData,
        patch_type: PatchType,
        *,
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
        field_validation: FieldValidation | None = None,
    ) -> R_co: ...


class AsyncPatchSubresource(Protocol[R_co]):
    """``patch_<sub>(name, data, patch_type)`` of an async client."""

    async def __call__(
        self,
        name: str,
        data: PatchData,
        patch_type: PatchType,
        *,
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
        field_validation: FieldValidation | None = None,
    ) -> R_co: ...


class _Declared(Generic[R]):
    """What every subresource method declares: the subresource and the answer's type."""

    verb = ""

    def __init__(self, subresource: str, result_type: type[R], doc: str) -> None:
        if not subresource or "/" in subresource:
            raise ValueError(f"subresource must be one path segment, got {subresource!r}")
        self.subresource = subresource
        self.result_type = result_type
        self.__doc__ = doc
        self.__name__ = f"{self.verb}_{subresource}"

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.__name__ = name

    def _bound(self, call: Callable[..., Any]) -> Callable[..., Any]:
        call.__name__ = call.__qualname__ = self.__name__
        call.__doc__ = self.__doc__
        return call

    def __repr__(self) -> str:
        return f"<{self.verb} subresource {self.subresource!r} -> {self.result_type.__name__}>"


class SubresourceGetter(_Declared[R]):
    """``get_<sub>``: GET ``<name>/<sub>`` decoded into ``result_type``."""

    verb = "get"

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: ClientBase[Any, Any], owner: type[Any]) -> GetSubresource[R]: ...
    @overload
    def __get__(
        self, obj: AsyncClientBase[Any, Any], owner: type[Any]
    ) -> AsyncGetSubresource[R]: ...
    def __get__(self, obj: Any, owner: type[Any]) -> Any:
        if obj is None:
            return self
        sub, result = self.subresource, self.result_type
        return self._bound(lambda name: obj.get_subresource(name, sub, result))


class SubresourceWriter(_Declared[R], Generic[Bd, R]):
    """``create_<sub>`` (POST) or ``update_<sub>`` (PUT): ``body`` (a ``body_type``) to
    ``<name>/<sub>``, the answer decoded into ``result_type``."""

    def __init__(
        self, verb: str, subresource: str, body_type: type[Bd], result_type: type[R], doc: str
    ) -> None:
        self.verb = verb
        super().__init__(subresource, result_type, doc)
        self.body_type = body_type

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: ClientBase[Any, Any], owner: type[Any]) -> WriteSubresource[Bd, R]: ...
    @overload
    def __get__(
        self, obj: AsyncClientBase[Any, Any], owner: type[Any]
    ) -> AsyncWriteSubresource[Bd, R]: ...
    def __get__(self, obj: Any, owner: type[Any]) -> Any:
        if obj is None:
            return self
        sub, result = self.subresource, self.result_type
        send = obj.create_subresource if self.verb == "create" else obj.update_subresource
        return self._bound(lambda name, body, **options: send(name, sub, body, result, **options))


class SubresourcePatcher(_Declared[R]):
    """``patch_<sub>``: PATCH ``<name>/<sub>``, the answer decoded into ``result_type``."""

    verb = "patch"

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: ClientBase[Any, Any], owner: type[Any]) -> PatchSubresource[R]: ...
    @overload
    def __get__(
        self, obj: AsyncClientBase[Any, Any], owner: type[Any]
    ) -> AsyncPatchSubresource[R]: ...
    def __get__(self, obj: Any, owner: type[Any]) -> Any:
        if obj is None:
            return self
        sub, result = self.subresource, self.result_type
        return self._bound(
            lambda name, data, patch_type, **options: obj.patch_subresource(
                name, sub, data, patch_type, result, **options
            )
        )


def subresource_getter(subresource: str, result_type: type[R]) -> SubresourceGetter[R]:
    """``get_<sub>(name) -> result_type``."""
    return SubresourceGetter(
        subresource, result_type, f"GET the {subresource} subresource of `name`."
    )


def subresource_creator(
    subresource: str, body_type: type[Bd], result_type: type[R]
) -> SubresourceWriter[Bd, R]:
    """``create_<sub>(name, body, *, dry_run, field_manager, field_validation) -> result_type``."""
    doc = f"POST `body` to the {subresource} subresource of `name`."
    return SubresourceWriter("create", subresource, body_type, result_type, doc)


def subresource_updater(
    subresource: str, body_type: type[Bd], result_type: type[R]
) -> SubresourceWriter[Bd, R]:
    """``update_<sub>(name, body, *, dry_run, field_manager, field_validation) -> result_type``."""
    doc = f"PUT `body` to the {subresource} subresource of `name`."
    return SubresourceWriter("update", subresource, body_type, result_type, doc)


def subresource_patcher(subresource: str, result_type: type[R]) -> SubresourcePatcher[R]:
    """``patch_<sub>(name, data, patch_type, *, field_manager, force, dry_run,
    field_validation) -> result_type``."""
    return SubresourcePatcher(
        subresource, result_type, f"PATCH the {subresource} subresource of `name`."
    )
