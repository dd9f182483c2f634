"""The applyconfigurations emitter: partial objects for server-side apply, one module per models
module, as client-go's ``applyconfigurations``.

For every definition a patchable resource reaches (its kind, and every object type below it)
the module has ``<Class>ApplyConfiguration``: the model's fields, each ``T | UnsetType = UNSET``,
nested types replaced by their apply configurations, ``meta/v1`` types by kgen.meta's
(:mod:`kgen.meta._applyconfig`), and a ``_lists`` table of the array fields that are not atomic
(read with :func:`kgen.spec._lists.list_merge`, the rule kgen.testing's server applies) and
``_atomic`` on atomic object types. Per patchable kind there are two thin functions:
``apply_<kind>(name[, namespace])`` (client-go's ``<Kind>(name, namespace)`` constructor) and
``extract_<kind>(obj, field_manager, subresource="")`` over :func:`kgen.meta.extract`.

Field docs are left to the models (the configuration of a type is named after it), which keeps
the 1.35 package small. Pure and thread-safe, like the models emitter.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kgen.generator import naming
from kgen.generator.models import _style as style
from kgen.generator.models._layout import KGEN_META, Layout, layout_of
from kgen.generator.models._render import _Module
from kgen.generator.wrapping import bracket
from kgen.meta import _applyconfig
from kgen.spec._lists import list_merge
from kgen.spec.model import APIModel

__all__ = ["render_applyconfigurations"]

_SUFFIX = "ApplyConfiguration"
_META_APPLY = frozenset(n for n in _applyconfig.__all__ if n.endswith(_SUFFIX) and n != _SUFFIX)
"""The ``meta/v1`` apply configurations kgen.meta provides; other ``meta/v1`` types an
apply configuration meets are written as free-form dicts."""


@dataclass(frozen=True)
class _Kind:
    """A patchable resource's kind: its definition, snake_case name and scope."""

    definition: str
    snake: str
    namespaced: bool


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def _patchable_kinds(api: APIModel) -> dict[str, _Kind]:
    """Definition -> kind of every resource that serves ``patch`` (and so ``apply``)."""
    kinds: dict[str, _Kind] = {}
    for key in sorted(api.group_versions):
        for resource in api.group_versions[key].resources.values():
            if resource.schema is None or "/" in resource.plural or "patch" not in resource.verbs:
                continue
            snake = naming.attribute_name(resource.kind)
            kinds.setdefault(resource.schema, _Kind(resource.schema, snake, resource.namespaced))
    return kinds


def _reachable(api: APIModel, layout: Layout, roots: list[str]) -> set[str]:
    """Class definitions (outside kgen.meta) that ``roots`` reach through ``$ref``."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in api.schemas:
            continue
        seen.add(name)
        todo.extend(_refs(api.schemas[name]))
    return {n for n in seen if n in layout.classes and layout.classes[n][0] != KGEN_META}


def _wrapped(text: str) -> str:
    return "\n".join(textwrap.wrap(text, 88))


def _literal(value: object) -> str | None:
    if isinstance(value, str):
        return naming.python_string(value)
    if isinstance(value, bool | int | float):
        return repr(value)
    return None


class _ApplyModule(_Module):
    """One applyconfigurations module. Not thread-safe; one per render."""

    def __init__(self, api: APIModel, layout: Layout, module: str, definitions: list[str]) -> None:
        super().__init__(api, layout, module)
        self.definitions = definitions
        self.local = {layout.classes[d][1] + _SUFFIX for d in definitions}
        self.class_vars = False
        self.list_vars = False
        self.models_module = False

    def ref(self, definition: str) -> str:
        module, cls = self.layout.classes[definition]
        name = cls + _SUFFIX
        if module == KGEN_META:
            return self.meta(name) if name in _META_APPLY else f"dict[str, {self.any()}]"
        if module == self.module:
            return name
        self.modules.add(module)
        return f"_{module}.{name}"

    def _resolved(self, schema: Any) -> Any:
        for _ in range(32):
            ref = schema.get("$ref") if isinstance(schema, dict) else None
            if not isinstance(ref, str):
                return schema
            schema = self.api.schemas.get(ref.rsplit("/", 1)[-1])
        return schema

    def list_entry(self, wire: str, schema: Any) -> str | None:
        """``"wire": <ListType>`` of an array field that is not atomic, else ``None``; laid out
        as an item of the exploded ``_lists`` (at eight spaces)."""
        resolved = self._resolved(schema)
        if not isinstance(resolved, dict) or resolved.get("type") != "array":
            return None
        merge = list_merge(resolved, for_apply=True)
        if merge.kind == "set":
            return f"{naming.python_string(wire)}: {naming.python_string('set')}"
        if merge.kind != "map":
            return None
        item = self._resolved(resolved.get("items"))
        props = item.get("properties", {}) if isinstance(item, dict) else {}
        defaults = []
        for key in merge.keys:
            sub = self._resolved(props.get(key))
            literal = _literal(sub.get("default")) if isinstance(sub, dict) else None
            if literal is not None:
                defaults.append(f"{naming.python_string(key)}: {literal}")
        keys = ", ".join(naming.python_string(k) for k in merge.keys)
        keys += "," if len(merge.keys) == 1 else ""
        pair = [f"({keys})", f"{{{', '.join(defaults)}}}"]
        head = f"{naming.python_string(wire)}: ("
        return bracket(8, head, pair, "),", "collection")[:-1]  # _lists adds the comma

    def render_class(self, definition: str) -> str:
        schema = self.api.schemas[definition]
        cls = self.layout.classes[definition][1] + _SUFFIX
        props: dict[str, Any] = schema.get("properties", {})
        gvk = self.layout.kinds.get(definition)
        doc = f"Apply configuration of {definition}."
        lines = [style.class_header(cls, "ApplyConfiguration, kw_only=True")]
        lines.append("    " + style.docstring(doc, "    "))
        lists = [e for wire in props if (e := self.list_entry(wire, props[wire])) is not None]
        extra: list[str] = []
        if schema.get("x-kubernetes-map-type") == "atomic":
            extra.append("    _atomic: ClassVar[bool] = True")
        if lists:
            self.list_vars = True
            head = "_lists: ClassVar[Mapping[str, ListType]] = {"
            extra.append("    " + bracket(4, head, lists, "}", "collection"))
        if extra:
            self.class_vars = True
            lines += ["", *extra]
        lines.append("")
        wires = list(props)
        for wire, attr in zip(wires, naming.attribute_names(wires), strict=True):
            if gvk is not None and wire in ("apiVersion", "kind"):
                annotation = "str"
                default = naming.python_string(
                    gvk.api_version if wire == "apiVersion" else gvk.kind
                )
            else:
                annotation = self.type_expr(props[wire]) + " | " + self.meta("UnsetType")
                default = self.meta("UNSET")
            args = None
            if wire != attr:
                self.field_alias = True
                args = [f"name={naming.python_string(wire)}", f"default={default}"]
            lines.append(style.field(attr, annotation, args, default))
        return "\n".join(lines) + "\n"

    def render_functions(self, kind: _Kind) -> str:
        """``apply_<kind>`` and ``extract_<kind>`` of a patchable kind defined here."""
        module, model = self.layout.classes[kind.definition]
        cls = model + _SUFFIX
        self.models_module = True
        meta = self.meta("ObjectMetaApplyConfiguration")
        self.meta("extract")
        self.typing_any = True
        if kind.namespaced:
            signature, meta_args = ["name: str", "namespace: str"], "name=name, namespace=namespace"
            what = "named `name` in `namespace`"
        else:
            signature, meta_args = ["name: str"], "name=name"
            what = "named `name`"
        apply_doc = f"A {cls} {what}, apiVersion and kind set (client-go's constructor)."
        extract_doc = (
            f"The {cls} holding exactly the fields `field_manager` applied to `obj` (to its "
            '`subresource`, "status" for apply_status), read from metadata.managedFields.'
        )
        extract_args = ["obj", "field_manager", cls, "subresource"]
        return (
            "\n".join(
                [
                    bracket(0, f"def apply_{kind.snake}(", signature, f") -> {cls}:", "def"),
                    "    " + style.docstring(_wrapped(apply_doc), "    "),
                    "    " + bracket(4, f"return {cls}(", [f"metadata={meta}({meta_args})"], ")"),
                    "",
                    "",
                    f"def extract_{kind.snake}(",
                    f"    obj: _models_{module}.{model} | Mapping[str, Any],",
                    "    field_manager: str,",
                    '    subresource: str = "",',
                    f") -> {cls}:",
                    "    " + style.docstring(_wrapped(extract_doc), "    "),
                    "    " + bracket(4, "return extract(", extract_args, ")"),
                ]
            )
            + "\n"
        )

    def apply_header(self, names: list[str]) -> str:
        sections = [["from __future__ import annotations"]]
        standard = []
        if self.list_vars or self.models_module:
            standard.append("from collections.abc import Mapping")
        typing = (["Any"] if self.typing_any else []) + (["ClassVar"] if self.class_vars else [])
        if typing:
            standard.append(f"from typing import {', '.join(typing)}")
        if standard:
            sections.append(standard)
        third_party = ["import kgen.meta as _kgen_meta"] if self.meta_module else []
        third_party += ["import msgspec"] if self.field_alias else []
        imported = {"ApplyConfiguration"} | self.meta_names
        imported |= {"ListType"} if self.list_vars else set()
        ordered = sorted(imported, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))
        third_party.append(style.import_from("kgen.meta", ordered))
        sections.append(third_party)
        local = [
            f"from ..models import {self.module} as _models_{self.module}"
        ] * self.models_module
        local += [f"from . import {m} as _{m}" for m in sorted(self.modules)]
        if local:
            sections.append(local)
        doc = (
            f"Apply configurations of {self.module} (server-side apply's partial objects), "
            "generated by kgen from the API documents. Do not edit."
        )
        blocks = ["\n".join(section) for section in sections]
        exports = style.list_assignment("__all__", [naming.python_string(n) for n in names])
        return style.docstring(doc, "") + "\n\n" + "\n\n".join(blocks) + "\n\n" + exports + "\n"


def render_applyconfigurations(api: APIModel, package: str) -> dict[str, str]:
    """The files of ``<package>/applyconfigurations``: path relative to the package folder ->
    source. Modules mirror the ``models`` modules (only those a patchable kind reaches) and
    import the models (for the ``extract_<kind>`` signatures) relatively."""
    layout = layout_of(api)
    kinds = _patchable_kinds(api)
    included = _reachable(api, layout, list(kinds))
    files: dict[str, str] = {}
    modules = []
    for module, definitions in layout.modules.items():
        chosen = [d for d in definitions if d in included]
        if not chosen:
            continue
        modules.append(module)
        writer = _ApplyModule(api, layout, module, chosen)
        classes = [writer.render_class(d) for d in chosen]
        here = [kinds[d] for d in chosen if d in kinds]
        functions = [writer.render_functions(k) for k in here]
        names = sorted(layout.classes[d][1] + _SUFFIX for d in chosen)
        names += sorted(f"{verb}_{k.snake}" for k in here for verb in ("apply", "extract"))
        body = "\n\n".join(classes + functions)
        files[f"applyconfigurations/{module}.py"] = writer.apply_header(names) + "\n\n" + body
    listing = "\n".join(f"- ``{m}``" for m in modules) or "(no patchable kinds)"
    files["applyconfigurations/__init__.py"] = (
        style.docstring(
            f"Apply configurations of {package} for server-side apply, one module per API "
            "group/version (import the module you need):\n\n" + listing,
            "",
        )
        + "\n"
    )
    return files
