"""kgen.client: the generic typed client that every generated client is a thin subclass of.

Public surface: :class:`ClientBase` (construction and subresource helpers) and one mixin per
verb family (:class:`GetMixin`, :class:`ListMixin`, :class:`WatchMixin`, :class:`CreateMixin`,
:class:`UpdateMixin`, :class:`UpdateStatusMixin`, :class:`PatchMixin`,
:class:`ApplyStatusMixin`, :class:`DeleteMixin`, :class:`DeleteCollectionMixin`, and the
streaming :class:`ExecMixin`, :class:`AttachMixin`, :class:`LogsMixin`,
:class:`PortForwardMixin`, :class:`ProxyMixin`), from which a generated client takes exactly
the verbs its resource serves; the subresource method declarations
:func:`subresource_getter`, :func:`subresource_creator`, :func:`subresource_updater`,
:func:`subresource_patcher` (:mod:`kgen.client._subresources`); :class:`ClientsetBase`, what a
generated ``Clientset`` is built on; :class:`ResourceClient`, all of them at once; :class:`PatchType`; and the names of things: :class:`GroupVersionResource`,
:class:`GroupResource`, :class:`GroupKind`, :class:`GroupVersionKind`, with
:func:`parse_group_version` / :func:`format_group_version`.

The asyncio twin of all of it is :mod:`kgen.client.aio` (``Async`` + the same names).
"""

from kgen.client._base import ClientBase, FieldValidation, PatchData, PropagationPolicy
from kgen.client._clientset import ClientsetBase
from kgen.client._connect import (
    AttachMixin,
    ExecMixin,
    LogOptions,
    LogsMixin,
    PortForwardMixin,
    ProxyMixin,
)
from kgen.client._patch import PatchType
from kgen.client._resource import ResourceClient
from kgen.client._schema import (
    GroupKind,
    GroupResource,
    GroupVersionKind,
    GroupVersionResource,
    format_group_version,
    parse_group_version,
)
from kgen.client._subresources import (
    subresource_creator,
    subresource_getter,
    subresource_patcher,
    subresource_updater,
)
from kgen.client._verbs import (
    ApplyStatusMixin,
    CreateMixin,
    DeleteCollectionMixin,
    DeleteMixin,
    GetMixin,
    ListMixin,
    PatchMixin,
    UpdateMixin,
    UpdateStatusMixin,
    WatchMixin,
)

__all__ = [
    "ApplyStatusMixin",
    "AttachMixin",
    "ClientBase",
    "ClientsetBase",
    "CreateMixin",
    "DeleteCollectionMixin",
    "DeleteMixin",
    "ExecMixin",
    "FieldValidation",
    "GetMixin",
    "GroupKind",
    "GroupResource",
    "GroupVersionKind",
    "GroupVersionResource",
    "ListMixin",
    "LogOptions",
    "LogsMixin",
    "PatchData",
    "PatchMixin",
    "PatchType",
    "PortForwardMixin",
    "PropagationPolicy",
    "ProxyMixin",
    "ResourceClient",
    "UpdateMixin",
    "UpdateStatusMixin",
    "WatchMixin",
    "format_group_version",
    "parse_group_version",
    "subresource_creator",
    "subresource_getter",
    "subresource_patcher",
    "subresource_updater",
]
