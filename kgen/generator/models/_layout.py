"""Where each definition of an API model lives in generated code.

A definition is one of three things:

* a **class**: an object schema with properties (every kind is one), emitted as a msgspec
  Struct in the module of its group/version;
* **provided by kgen.meta**: ``meta/v1`` types the runtime already has (``ObjectMeta``,
  ``Status``, ...) and the scalar aliases (``Time``, ``Quantity``, ``IntOrString``, ...);
* **inline**: anything else (free-form objects, ``RawExtension``, ``JSON``, objects with
  ``x-kubernetes-preserve-unknown-fields``), written out as a type expression where it is used.

Modules are named per definition package: the group/version the package's kinds declare
(:func:`~kgen.generator.naming.group_version_attr`, collisions between groups resolved over the
whole model), else the package path (:func:`~kgen.generator.naming.module_for_definition`), with
a numeric suffix if two packages still meet. Class names are unique within their module.

A :class:`Layout` is computed once per :class:`APIModel` and cached (keyed by identity, held
weakly); it is immutable and safe to share between threads. The model must not be mutated
after its layout is first asked for.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

import kgen.meta._types
from kgen.generator import naming
from kgen.spec.model import APIModel, GroupVersionKind, JSONSchema

__all__ = ["KGEN_META", "META_ALIASES", "META_CLASSES", "Layout", "is_class_schema", "layout_of"]

KGEN_META = "kgen.meta"
_META_V1 = "io.k8s.apimachinery.pkg.apis.meta.v1"
META_CLASSES = frozenset(kgen.meta._types.__all__)
"""``meta/v1`` definitions that :mod:`kgen.meta` provides as classes."""
META_ALIASES: Mapping[str, str] = {
    f"{_META_V1}.Time": "Time",
    f"{_META_V1}.MicroTime": "MicroTime",
    f"{_META_V1}.FieldsV1": "FieldsV1",
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
}
"""Definitions that :mod:`kgen.meta` provides as type aliases, and the alias names."""


def is_class_schema(schema: JSONSchema) -> bool:
    """Whether a definition becomes a class: it has properties and does not keep unknown
    fields (a Struct would drop them), or it is a kind."""
    props = schema.get("properties")
    if not isinstance(props, dict) or not props:
        return False
    if schema.get("x-kubernetes-group-version-kind"):
        return True
    return not schema.get("x-kubernetes-preserve-unknown-fields")


def _single_gvk(schema: JSONSchema) -> GroupVersionKind | None:
    raw = schema.get("x-kubernetes-group-version-kind")
    if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], dict):
        e = raw[0]
        return GroupVersionKind(
            str(e.get("group", "")), str(e.get("version", "")), str(e.get("kind", ""))
        )
    return None


@dataclass(frozen=True)
class Layout:
    """Module and class name of every class definition, and what kgen.meta provides.

    ``classes`` maps definition name -> ``(module, class name)`` where module is relative to
    the generated ``models`` package (``core_v1``), or ``kgen.meta`` for provided types.
    ``modules`` lists, per module, its class definitions in emission order. ``kinds`` maps
    class definitions that are a single kind to that kind (for ``apiVersion``/``kind``
    defaults).
    """

    classes: Mapping[str, tuple[str, str]]
    modules: Mapping[str, tuple[str, ...]]
    kinds: Mapping[str, GroupVersionKind]


def _module_names(api: APIModel, packages: dict[str, list[str]]) -> dict[str, str]:
    groups = {g for g, _ in api.group_versions}
    package_gv: dict[str, tuple[str, str] | None] = {}
    for package, names in packages.items():
        found = {
            (gvk.group, gvk.version)
            for name in names
            if (gvk := _single_gvk(api.schemas[name])) is not None
        }
        package_gv[package] = found.pop() if len(found) == 1 else None
        groups |= {gv[0] for gv in [package_gv[package]] if gv}
    taken: set[str] = {KGEN_META}
    out = {}
    for package in sorted(packages):
        gv = package_gv[package]
        if package == _META_V1:
            base = "meta_v1"
        elif gv is not None:
            base = naming.group_version_attr(gv[0], gv[1], groups)
        else:
            base = naming.module_for_definition(package + ".X")
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out[package] = name
    return out


def _build(api: APIModel) -> Layout:
    classes: dict[str, tuple[str, str]] = {}
    packages: dict[str, list[str]] = {}
    for name, schema in api.schemas.items():
        package, _, short = name.rpartition(".")
        if package == _META_V1 and short in META_CLASSES:
            classes[name] = (KGEN_META, short)
        elif name in META_ALIASES or not is_class_schema(schema):
            continue
        else:
            packages.setdefault(package, []).append(name)
    module_of = _module_names(api, packages)
    modules: dict[str, tuple[str, ...]] = {}
    kinds: dict[str, GroupVersionKind] = {}
    for package in sorted(packages):
        module = module_of[package]
        taken = {"Any", "Model", "UNSET", "UnsetType"}
        ordered = sorted(packages[package])
        for name in ordered:
            base = naming.class_name(name)
            cls, n = base, 1
            while cls in taken:
                n += 1
                cls = f"{base}{n}"
            taken.add(cls)
            classes[name] = (module, cls)
            gvk = _single_gvk(api.schemas[name])
            if gvk is not None:
                kinds[name] = gvk
        modules[module] = tuple(ordered)
    return Layout(classes, dict(sorted(modules.items())), kinds)


_lock = threading.Lock()
_cache: dict[int, tuple[weakref.ref[APIModel], Layout]] = {}


def layout_of(api: APIModel) -> Layout:
    """The (cached) layout of ``api``. Thread-safe."""
    key = id(api)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0]() is api:
            return hit[1]
    layout = _build(api)
    with _lock:
        for stale in [k for k, (ref, _) in _cache.items() if ref() is None]:
            del _cache[stale]
        _cache[key] = (weakref.ref(api), layout)
    return layout
