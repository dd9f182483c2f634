"""What the templates see: the API model turned into names, types and method lists.

Every decision an emitter makes (which resources get a client, which verbs and subresource
methods it has, what each Python name is, which model class each type refers to) is taken here,
once, so that the templates only spell things out. Every identifier is built by
:mod:`kgen.generator.naming` (sanitised: keywords, clashes and hostile names handled); every
string from a spec reaches a template only through the ``py_str``/``py_doc`` filters.

Views are immutable and built fresh for each render; nothing here is shared between threads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kgen.generator import naming
from kgen.generator.models import model_ref
from kgen.spec import version_priority
from kgen.spec.model import APIModel, GroupVersion, Resource, Subresource

__all__ = [
    "Flavor",
    "GenerateError",
    "GroupVersionView",
    "ResourceView",
    "SubresourceMethod",
    "TypeRef",
    "build_views",
]


class GenerateError(Exception):
    """The API model cannot be turned into a package (e.g. two group/versions get one name)."""


@dataclass(frozen=True, order=True)
class TypeRef:
    """A model class as generated code refers to it: ``<alias>.<name>`` after
    ``import <module> as <alias>``."""

    module: str
    name: str

    @property
    def alias(self) -> str:
        """``_core_v1`` for ``<package>.models.core_v1``, ``_kgen_meta`` for ``kgen.meta``."""
        _, models, rest = self.module.rpartition(".models.")
        return "_" + (rest if models else self.module).replace(".", "_")

    @property
    def expr(self) -> str:
        return f"{self.alias}.{self.name}"


@dataclass(frozen=True)
class Flavor:
    """Which transport a rendering of the clientset templates is for: the same templates make
    the sync clients (``<package>.clientset``, ``<package>.typed``) and the async ones
    (``<package>.aio``, ``<package>.aio.typed``); only these names differ. Every runtime class
    of the async flavor is the sync one's name prefixed with ``Async``."""

    prefix: str
    """Prefix of every class name (the runtime's and the generated ones): ``""`` or ``Async``."""
    runtime: str
    """The module the mixins come from: ``kgen.client`` or ``kgen.client.aio``."""
    rest_module: str
    rest_class: str
    package: str
    """The package the clientset and ``typed`` of this flavor live in."""
    concurrency: str
    """What the docstrings say of sharing a client."""
    cache: str
    """The module the informer bases come from: ``kgen.cache`` or ``kgen.cache.aio``."""
    clientset_module: str
    """The module of this flavor's clientset: ``<package>.clientset`` or ``<package>.aio``."""
    testing: str
    """The module the fake clientset's base comes from: ``kgen.testing`` or
    ``kgen.testing.aio``."""
    fake_module: str
    """The module of this flavor's fake clientset: ``<package>.fake`` or
    ``<package>.aio.fake``."""

    @property
    def function_prefix(self) -> str:
        """Prefix of a generated function's name: ``""`` or ``async_``
        (``new_simple_async_clientset``)."""
        return f"{self.prefix.lower()}_" if self.prefix else ""

    @classmethod
    def sync(cls, package: str) -> Flavor:
        return cls(
            "",
            "kgen.client",
            "kgen.rest",
            "RESTClient",
            package,
            "thread-safe",
            "kgen.cache",
            f"{package}.clientset",
            "kgen.testing",
            f"{package}.fake",
        )

    @classmethod
    def asyncio(cls, package: str) -> Flavor:
        return cls(
            "Async",
            "kgen.client.aio",
            "kgen.rest.aio",
            "AsyncRESTClient",
            f"{package}.aio",
            "usable from the tasks of one event loop",
            "kgen.cache.aio",
            f"{package}.aio",
            "kgen.testing.aio",
            f"{package}.aio.fake",
        )


@dataclass(frozen=True)
class SubresourceMethod:
    """One typed method over a subresource: ``get_scale(name)``, ``create_eviction(name, body)``.

    ``kind`` is ``get``, ``update``, ``create`` or ``patch``. ``body`` is the request type
    (``None`` for get and patch), ``result`` the response type.
    """

    method: str
    kind: str
    subresource: str
    body: TypeRef | None
    result: TypeRef | None

    @property
    def factory(self) -> str:
        """The ``kgen.client`` function declaring the method (``subresource_getter``...)."""
        return _FACTORIES[self.kind]


_FACTORIES = {
    "get": "subresource_getter",
    "create": "subresource_creator",
    "update": "subresource_updater",
    "patch": "subresource_patcher",
}


@dataclass(frozen=True)
class ResourceView:
    """One resource of a group/version and every name generated for it."""

    plural: str
    kind: str
    namespaced: bool
    verbs: frozenset[str]
    """kgen verb names: create, update, update_status, delete, delete_collection, get, list,
    watch, patch, apply, apply_status."""
    accessor: str
    """Method of the group client (and the informer group) returning this resource's client."""
    client_class: str
    lister_class: str
    informer_class: str
    lowercase_kind: str
    """What a lister's NotFound error names, as client-go does (the lowercase kind)."""
    object_type: TypeRef
    list_type: TypeRef | None
    subresource_methods: tuple[SubresourceMethod, ...]
    streams: frozenset[str] = frozenset()
    """The streaming subresources the API declares (``exec``, ``attach``, ``log``,
    ``portforward``, ``proxy``)."""

    @property
    def mixins(self) -> tuple[str, ...]:
        """The ``kgen.client`` classes the typed client inherits: one mixin per verb family it
        serves, in client-go's verb order, then one per streaming subresource (``ClientBase``
        alone when it has none)."""
        mixins = tuple(mixin for verb, mixin in _MIXINS if verb in self.verbs)
        mixins += tuple(mixin for sub, mixin in _STREAM_MIXINS if sub in self.streams)
        return mixins or ("ClientBase",)

    @property
    def has_lister(self) -> bool:
        return self.list_type is not None and {"get", "list"} <= self.verbs

    @property
    def has_informer(self) -> bool:
        return self.has_lister and "watch" in self.verbs


@dataclass(frozen=True)
class GroupVersionView:
    """One group/version: its module name (``core_v1``), class prefix (``CoreV1``), resources."""

    group: str
    version: str
    module: str
    class_prefix: str
    resources: tuple[ResourceView, ...]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def client_class(self) -> str:
        return f"{self.class_prefix}Client"

    @property
    def informers_class(self) -> str:
        return f"{self.class_prefix}Informers"

    @property
    def listed(self) -> tuple[ResourceView, ...]:
        return tuple(r for r in self.resources if r.has_lister)

    @property
    def informed(self) -> tuple[ResourceView, ...]:
        return tuple(r for r in self.resources if r.has_informer)

    def method_kinds(self) -> frozenset[str]:
        """The kinds of subresource method this group/version's clients have (for imports)."""
        return frozenset(m.kind for r in self.resources for m in r.subresource_methods)

    def client_imports(self, flavor: Flavor) -> list[str]:
        """The names the typed module of ``flavor`` imports from its runtime (unordered)."""
        names = {flavor.prefix + m for r in self.resources for m in r.mixins}
        names.add("GroupVersionResource")
        names.update(_FACTORIES[kind] for kind in self.method_kinds())
        return sorted(names)

    def exported(self, flavor: Flavor) -> list[str]:
        """The classes the typed module of ``flavor`` defines (unordered)."""
        return [
            flavor.prefix + c
            for c in (self.client_class, *(r.client_class for r in self.resources))
        ]

    @property
    def has_untyped_list(self) -> bool:
        return any(r.list_type is None for r in self.resources)

    def model_types(self, *, lists: bool = True, subresources: bool = True) -> list[TypeRef]:
        """Every model class this group/version's code mentions, sorted (for the imports)."""
        found: set[TypeRef] = set()
        for r in self.resources:
            found.add(r.object_type)
            if lists and r.list_type is not None:
                found.add(r.list_type)
            if subresources:
                for m in r.subresource_methods:
                    found.update(t for t in (m.body, m.result) if t is not None)
        return sorted(found)

    def model_modules(self, **kwargs: bool) -> list[tuple[str, str]]:
        """(module, alias) pairs to import, sorted."""
        pairs = sorted({(t.module, t.alias) for t in self.model_types(**kwargs)})
        _check_unique(f"model modules of {self.api_version}", [alias for _, alias in pairs])
        return pairs


_CONNECT_ONLY = frozenset({"proxy", "exec", "attach", "portforward", "log"})
"""Subresources that stream (upgrade the connection, or a text body): no subresource method;
exec, attach, log, portforward and proxy come as mixins (``_STREAM_MIXINS``)."""
_VERB_KINDS = {"get": "get", "update": "update", "put": "update", "create": "create"}
_VERB_KINDS |= {"post": "create", "patch": "patch"}
_MIXINS = (
    ("create", "CreateMixin"),
    ("update", "UpdateMixin"),
    ("update_status", "UpdateStatusMixin"),
    ("delete", "DeleteMixin"),
    ("delete_collection", "DeleteCollectionMixin"),
    ("get", "GetMixin"),
    ("list", "ListMixin"),
    ("watch", "WatchMixin"),
    ("patch", "PatchMixin"),
    ("apply_status", "ApplyStatusMixin"),
)
"""kgen verb -> the ``kgen.client`` mixin that brings it (``PatchMixin`` brings ``apply`` too)."""
_STREAM_MIXINS = (
    ("exec", "ExecMixin"),
    ("attach", "AttachMixin"),
    ("log", "LogsMixin"),
    ("portforward", "PortForwardMixin"),
    ("proxy", "ProxyMixin"),
)
"""Streaming subresource -> the ``kgen.client`` mixin that brings its methods."""
_BASE_METHODS = frozenset(
    {"create", "update", "update_status", "delete", "delete_collection", "get", "list", "watch"}
    | {"list_with", "watch_with", "patch", "apply", "apply_status", "stream", "SERVED_VERBS"}
    | {"exec", "open_exec", "attach", "logs", "stream_logs", "port_forward", "proxy", "proxy_get"}
    | {"copy_to_pod", "copy_from_pod"}
    | {"get_subresource", "create_subresource", "update_subresource", "patch_subresource"}
    | {"rest_client", "resource", "target_namespace", "rest", "namespace"}
)
"""Attributes of a typed client (``kgen.client.ResourceClient``'s and the generated class's) that
a subresource method must not shadow."""


def _kgen_verbs(resource: Resource) -> frozenset[str]:
    served = set(resource.verbs)
    verbs: set[str] = {
        v for v in ("create", "update", "delete", "get", "list", "watch", "patch") if v in served
    }
    if "deletecollection" in served:
        verbs.add("delete_collection")
    if "patch" in served:
        verbs.add("apply")
    status = resource.subresources.get("status")
    if status is not None:
        status_verbs = set(status.verbs)
        if status_verbs & {"update", "put"}:
            verbs.add("update_status")
        if "patch" in status_verbs:
            verbs.add("apply_status")
    return frozenset(verbs)


def _accessor(kind: str, plural: str) -> str:
    """``network_policies`` for NetworkPolicy/networkpolicies: the kind in snake_case with the
    plural's ending; the plural itself when the two do not share a stem."""
    snake = naming.attribute_name(kind)
    lower = kind.lower()
    common = next(
        (i for i, (a, b) in enumerate(zip(lower, plural, strict=False)) if a != b),
        min(len(lower), len(plural)),
    )
    if common < max(1, len(lower) - 2) or snake.replace("_", "") != lower:
        return naming.attribute_name(plural)
    letters = 0
    for index, char in enumerate(snake):
        if letters == common:
            return naming.attribute_name(snake[:index].rstrip("_") + plural[common:])
        letters += char != "_"
    return naming.attribute_name(snake + plural[common:])


class _Builder:
    def __init__(self, api: APIModel, package: str) -> None:
        self.api = api
        self.package = package

    def ref(self, definition: str) -> TypeRef:
        module, name = model_ref(self.api, definition)
        if module.startswith("."):
            module = self.package + module
        return TypeRef(module, name)

    def subresource_methods(
        self, resource: Resource, object_type: TypeRef
    ) -> tuple[SubresourceMethod, ...]:
        methods: list[SubresourceMethod] = []
        for name in sorted(resource.subresources):
            sub = resource.subresources[name]
            if name == "status" or name in _CONNECT_ONLY or "/" in name:
                continue
            methods.extend(self._methods_of(sub, object_type))
        taken: set[str] = set()
        unique = []
        for m in methods:
            if m.method not in _BASE_METHODS and m.method not in taken:
                taken.add(m.method)
                unique.append(m)
        return tuple(unique)

    def _methods_of(self, sub: Subresource, object_type: TypeRef) -> Iterable[SubresourceMethod]:
        request = self.ref(sub.request_schema) if sub.request_schema else None
        response = self.ref(sub.response_schema) if sub.response_schema else None
        attr = naming.attribute_name(sub.name)
        kinds = sorted({_VERB_KINDS[v] for v in sub.verbs if v in _VERB_KINDS})
        if response is None and request is None and sub.response_kind is None:
            request = response = object_type
        for kind in kinds:
            result = response or request or object_type
            if kind == "patch" and result != object_type:
                continue  # as client-go's Patch(..., subresources): answered with its own kind
            body = (request or result) if kind in ("update", "create") else None
            yield SubresourceMethod(f"{kind}_{attr}", kind, sub.name, body, result)

    def resource(self, resource: Resource) -> ResourceView | None:
        if resource.schema is None or "/" in resource.plural:
            return None
        verbs = _kgen_verbs(resource)
        if not verbs:
            return None
        object_type = self.ref(resource.schema)
        list_type = self.ref(resource.list_schema) if resource.list_schema else None
        cls = naming.class_name(resource.kind)
        return ResourceView(
            plural=resource.plural,
            kind=resource.kind,
            namespaced=resource.namespaced,
            verbs=verbs,
            accessor=_accessor(resource.kind, resource.plural),
            client_class=f"{cls}Client",
            lister_class=f"{cls}Lister",
            informer_class=f"{cls}Informer",
            lowercase_kind=resource.kind.lower(),
            object_type=object_type,
            list_type=list_type,
            subresource_methods=self.subresource_methods(resource, object_type),
            streams=frozenset(s for s, _ in _STREAM_MIXINS if s in resource.subresources),
        )

    def group_version(self, gv: GroupVersion) -> GroupVersionView | None:
        resources = [self.resource(r) for r in gv.resources.values()]
        views = sorted((r for r in resources if r is not None), key=lambda r: (r.kind, r.plural))
        if not views:
            return None
        _check_unique(f"resource accessors of {gv.api_version}", [r.accessor for r in views])
        _check_unique(f"kinds of {gv.api_version}", [r.client_class for r in views])
        groups = {group for group, _ in self.api.group_versions}
        module = naming.group_version_attr(gv.group, gv.version, among=groups)
        prefix = "".join(part[:1].upper() + part[1:] for part in module.split("_") if part)
        return GroupVersionView(gv.group, gv.version, module, prefix, tuple(views))


def _check_unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise GenerateError(f"two {what} map to the same Python name {name!r}")
        seen.add(name)


def build_views(api: APIModel, package: str) -> tuple[GroupVersionView, ...]:
    """The group/versions of ``api`` that serve at least one resource with a schema, sorted by
    group name and then by version priority (``v1`` before ``v1beta1`` before ``v1alpha1``)."""
    builder = _Builder(api, package)
    ordered = sorted(
        api.group_versions.values(), key=lambda gv: (gv.group, version_priority(gv.version))
    )
    views = [v for v in (builder.group_version(gv) for gv in ordered) if v is not None]
    _check_unique("group/versions", [v.module for v in views])
    return tuple(views)
