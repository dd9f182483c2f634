"""Writing one models module: msgspec Structs over :class:`kgen.meta.Model`.

Field conventions (those of :mod:`kgen.meta`): snake_case attributes with the wire name kept by
``msgspec.field(name=...)``; a required field has no default; an optional field is
``T | None | UnsetType = UNSET`` (absent and explicit ``null`` both survive a round trip);
arrays are tuples, maps are dicts. Schema defaults and enums are documented, never applied:
a default is the server's business and an enum may grow in a later release. ``apiVersion`` and
``kind`` of a kind default to its constants. Type expressions follow
:meth:`_Module.type_expr`. Every string from a spec is written through
:func:`~kgen.generator.naming.docstring` or :func:`~kgen.generator.naming.python_string`.
"""

from __future__ import annotations

import json
from typing import Any

from kgen.generator import naming
from kgen.generator.models import _style as style
from kgen.generator.models._layout import KGEN_META, META_ALIASES, Layout
from kgen.spec.model import APIModel, JSONSchema

__all__ = ["render_module"]

_MAX_ALIAS_DEPTH = 32
_SCHEMA_KEYS = (
    "$ref",
    "type",
    "properties",
    "items",
    "additionalProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
)


def _has_type(schema: Any) -> bool:
    return isinstance(schema, dict) and any(k in schema for k in _SCHEMA_KEYS)


def _schemas(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _types(schema: JSONSchema) -> set[str]:
    raw = schema.get("type")
    if isinstance(raw, str):
        return {raw}
    if isinstance(raw, list):
        return {t for t in raw if isinstance(t, str) and t != "null"}
    return set()


class _Module:
    """Per-module state: the imports its annotations need. Not thread-safe; one per render."""

    def __init__(self, api: APIModel, layout: Layout, module: str) -> None:
        self.api = api
        self.layout = layout
        self.module = module
        self.local = {layout.classes[d][1] for d in layout.modules[module]}
        self.meta_names: set[str] = set()
        self.meta_module = False
        self.modules: set[str] = set()
        self.typing_any = False
        self.field_alias = False

    def _imports(self) -> tuple[frozenset[str], bool, frozenset[str], bool]:
        return (
            frozenset(self.meta_names),
            self.meta_module,
            frozenset(self.modules),
            self.typing_any,
        )

    def _restore(self, saved: tuple[frozenset[str], bool, frozenset[str], bool]) -> None:
        self.meta_names = set(saved[0])
        self.meta_module = saved[1]
        self.modules = set(saved[2])
        self.typing_any = saved[3]

    def meta(self, name: str) -> str:
        if name in self.local:
            self.meta_module = True
            return f"_kgen_meta.{name}"
        self.meta_names.add(name)
        return name

    def ref(self, definition: str) -> str:
        module, cls = self.layout.classes[definition]
        if module == KGEN_META:
            return self.meta(cls)
        if module == self.module:
            return cls
        self.modules.add(module)
        return f"_{module}.{cls}"

    def _is_time(self, annotation: str) -> bool:
        """Whether ``annotation`` is kgen.meta's Time or MicroTime. Servers write a zero time
        as ``null`` even where the schema says required (``events.k8s.io`` Event
        ``eventTime``), so required times also accept ``None``."""
        return any(
            annotation == (f"_kgen_meta.{n}" if n in self.local else n)
            for n in ("Time", "MicroTime")
        )

    def any(self) -> str:
        self.typing_any = True
        return "Any"

    def type_expr(self, schema: Any, depth: int = 0) -> str:
        """The Python type of values valid for ``schema``.

        int-or-string -> IntOrString; references -> the class, the kgen.meta alias or the
        referenced schema inline; preserve-unknown-fields and free-form objects ->
        ``dict[str, Any]``; ``allOf`` of one typed schema -> that type; ``anyOf``/``oneOf`` of
        integer and string -> IntOrString, of one type -> it, otherwise ``Any`` (a union of
        several classes cannot be decoded without a tag); ``number`` -> ``int | float`` (so
        ``1`` stays ``1``); ``date-time`` -> Time; arrays -> tuples.
        """
        if not isinstance(schema, dict) or depth > _MAX_ALIAS_DEPTH:
            return self.any()
        if (
            schema.get("x-kubernetes-int-or-string") is True
            or schema.get("format") == "int-or-string"
        ):
            return self.meta("IntOrString")
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = ref.rsplit("/", 1)[-1]
            if target in META_ALIASES:
                return self.meta(META_ALIASES[target])
            if target in self.layout.classes:
                return self.ref(target)
            return self.type_expr(self.api.schemas.get(target), depth + 1)
        types = _types(schema)
        if schema.get("x-kubernetes-preserve-unknown-fields") is True:
            return f"dict[str, {self.any()}]" if types == {"object"} else self.any()
        if not types:
            parts = [p for p in _schemas(schema.get("allOf")) if _has_type(p)]
            if len(parts) == 1:
                return self.type_expr(parts[0], depth + 1)
            alternatives = [*_schemas(schema.get("anyOf")), *_schemas(schema.get("oneOf"))]
            imports = self._imports()
            exprs = {self.type_expr(a, depth + 1): a for a in alternatives if _has_type(a)}
            self._restore(imports)  # only the type finally written may add imports
            if set(exprs) == {"int", "str"}:
                return self.meta("IntOrString")
            if len(exprs) == 1:
                return self.type_expr(next(iter(exprs.values())), depth + 1)
            if "properties" in schema or "additionalProperties" in schema:
                types = {"object"}
            elif "items" in schema:
                types = {"array"}
        if types == {"integer", "string"}:
            return self.meta("IntOrString")
        if len(types) != 1:
            return self.any()
        kind = types.pop()
        if kind == "string":
            return self.meta("Time") if schema.get("format") == "date-time" else "str"
        if kind == "integer":
            return "int"
        if kind == "number":
            return "int | float"
        if kind == "boolean":
            return "bool"
        if kind == "array":
            return f"tuple[{self.type_expr(schema.get('items'), depth + 1)}, ...]"
        if kind == "object":
            extra = schema.get("additionalProperties")
            value = self.type_expr(extra, depth + 1) if isinstance(extra, dict) else self.any()
            return f"dict[str, {value}]"
        return self.any()

    def field_doc(self, schema: Any) -> str:
        if not isinstance(schema, dict):
            return ""
        text = schema.get("description")
        parts = [text.strip()] if isinstance(text, str) and text.strip() else []
        ref = schema.get("$ref")
        if not parts and isinstance(ref, str):
            target = self.api.schemas.get(ref.rsplit("/", 1)[-1], {})
            if isinstance(target, dict) and isinstance(target.get("description"), str):
                parts.append(target["description"].strip())
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            parts.append("Allowed values: " + ", ".join(json.dumps(v) for v in enum) + ".")
        if "default" in schema:
            parts.append("Server default: " + json.dumps(schema["default"], sort_keys=True) + ".")
        return "\n\n".join(parts)

    def render_class(self, definition: str) -> str:
        schema = self.api.schemas[definition]
        cls = self.layout.classes[definition][1]
        props: dict[str, Any] = schema.get("properties", {})
        raw_required = schema.get("required")
        required = (
            {r for r in raw_required if isinstance(r, str)}
            if isinstance(raw_required, list)
            else set()
        )
        gvk = self.layout.kinds.get(definition)
        description = schema.get("description")
        doc = description.strip() if isinstance(description, str) and description.strip() else cls
        doc += f"\n\nDefinition: {definition}."
        lines = [
            style.class_header(cls, "Model, kw_only=True"),
            "    " + style.docstring(doc, "    "),
            "",
        ]
        wires = list(props)
        for wire, attr in zip(wires, naming.attribute_names(wires), strict=True):
            sub = props[wire]
            annotation = self.type_expr(sub)
            constant = None
            if gvk is not None and wire == "apiVersion":
                constant = gvk.api_version
            elif gvk is not None and wire == "kind":
                constant = gvk.kind
            if constant is not None:
                annotation, default = "str", naming.python_string(constant)
            elif wire in required:
                nullable = isinstance(sub, dict) and sub.get("nullable") is True
                annotation += " | None" if nullable or self._is_time(annotation) else ""
                default = None
            else:
                annotation += " | None | " + self.meta("UnsetType")
                default = self.meta("UNSET")
            args = None
            if wire != attr:
                self.field_alias = True
                args = [f"name={naming.python_string(wire)}"]
                args += [f"default={default}"] if default is not None else []
            lines.append(style.field(attr, annotation, args, default))
            doc_text = self.field_doc(sub)
            if doc_text:
                lines.append("    " + style.docstring(doc_text, "    "))
        return "\n".join(lines) + "\n"

    def header(self) -> str:
        """Module docstring and imports, grouped and ordered as isort (and ruff) order them:
        ``__future__``, standard library, third party (straight imports first), then the
        sibling model modules by relative import."""
        sections = [["from __future__ import annotations"]]
        if self.typing_any:
            sections.append(["from typing import Any"])
        third_party = ["import kgen.meta as _kgen_meta"] if self.meta_module else []
        third_party += ["import msgspec"] if self.field_alias else []
        names = sorted({"Model"} | self.meta_names, key=lambda n: (not n.isupper(), n))
        third_party.append(style.import_from("kgen.meta", names))
        sections.append(third_party)
        if self.modules:
            sections.append([f"from . import {m} as _{m}" for m in sorted(self.modules)])
        doc = f"Models of {self.module}, generated by kgen from the API documents. Do not edit."
        blocks = ["\n".join(section) for section in sections]
        return style.docstring(doc, "") + "\n\n" + "\n\n".join(blocks) + "\n"


def render_module(api: APIModel, layout: Layout, module: str) -> str:
    """The source of models module ``module`` (sibling modules are imported relatively, so the
    source does not depend on the generated package's name)."""
    writer = _Module(api, layout, module)
    body = [writer.render_class(d) for d in layout.modules[module]]
    all_names = sorted(layout.classes[d][1] for d in layout.modules[module])
    exports = style.list_assignment("__all__", [naming.python_string(n) for n in all_names]) + "\n"
    return writer.header() + "\n" + exports + "\n\n" + "\n\n".join(body)
