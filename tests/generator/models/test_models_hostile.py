"""Hostile specs: names, descriptions, enums and defaults crafted to break out of strings.

Whatever the spec says, the generated modules compile, have only the shape of model code
(imports, ``__all__``, classes of annotated fields with constant defaults, docstrings), import
without running anything from the spec, and keep every wire name exactly.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgen.generator import naming
from kgen.generator.models import model_ref, render_models
from kgen.meta import decode, encode
from kgen.spec import SpecError, load

SENTINEL = "KGEN_HOSTILE_RAN"
PAYLOADS = [
    '"""',
    "'''",
    "\\",
    "\\N{",
    "\n",
    "\r",
    "\x00",
    "\u2028",
    "#",
    f'"""; __import__("builtins").__setattr__("{SENTINEL}", 1); """',
    f"'''; __import__('builtins').__setattr__('{SENTINEL}', 1) #",
    f"\n__import__('builtins').__setattr__('{SENTINEL}', 1)\n",
    "__init__",
    "class",
    "None",
    "msgspec",
    "annotations",
    "UNSET",
    "Model",
    "Any",
    "str",
]
hostile = st.lists(st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=6)), max_size=5).map(
    "".join
)
identifierish = st.lists(
    st.one_of(st.sampled_from(PAYLOADS), st.from_regex(r"[A-Za-z0-9_.\-$]{0,6}", fullmatch=True)),
    min_size=1,
    max_size=4,
).map("".join)


def _spec(
    kind: str, props: list[str], description: str, enum: list[str], other: str
) -> dict[str, Any]:
    package = "io.k8s.api.hostile.v1"
    properties: dict[str, Any] = {
        p: {"type": "string", "description": description, "enum": enum, "default": description}
        for p in props
    }
    properties["apiVersion"] = {"type": "string"}
    properties["kind"] = {"type": "string"}
    properties["ref"] = {"$ref": f"#/definitions/{package}.{other}", "description": description}
    return {
        "swagger": "2.0",
        "info": {"title": description, "version": "1"},
        "paths": {},
        "definitions": {
            f"{package}.{kind}": {
                "type": "object",
                "description": description,
                "properties": properties,
                "x-kubernetes-group-version-kind": [
                    {"group": "hostile", "version": "v1", "kind": kind}
                ],
            },
            f"{package}.{other}": {
                "type": "object",
                "description": description,
                "properties": {p: {"type": "integer"} for p in props} or {"x": {"type": "string"}},
            },
        },
    }


_ALLOWED_TOP = (ast.ImportFrom, ast.Import, ast.ClassDef, ast.Assign, ast.Expr)


def _check_shape(source: str) -> None:
    """Only model code: no calls but ``msgspec.field(...)`` with constant arguments."""
    tree = ast.parse(source)
    for node in tree.body:
        assert isinstance(node, _ALLOWED_TOP), ast.dump(node)
        if isinstance(node, ast.Expr):
            assert isinstance(node.value, ast.Constant)
        if isinstance(node, ast.Assign):
            assert [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"]
            assert all(
                isinstance(e, ast.Constant)
                for e in ast.walk(node.value)
                if e is not node.value and not isinstance(e, ast.Load)
            )
        if isinstance(node, ast.ClassDef):
            assert not node.decorator_list
            for stmt in node.body:
                if isinstance(stmt, ast.Expr):
                    assert isinstance(stmt.value, ast.Constant)
                    continue
                assert isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                value = stmt.value
                if isinstance(value, ast.Call):
                    assert ast.unparse(value.func) == "msgspec.field" and not value.args
                    assert all(
                        isinstance(k.value, ast.Constant) or ast.unparse(k.value) == "UNSET"
                        for k in value.keywords
                    )
                else:
                    assert (
                        value is None
                        or isinstance(value, ast.Constant)
                        or (isinstance(value, ast.Name) and value.id == "UNSET")
                    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    kind=identifierish,
    other=identifierish,
    props=st.lists(hostile, min_size=1, max_size=5, unique=True),
    description=hostile,
    enum=st.lists(hostile, max_size=3),
)
def test_hostile_specs_render_inert_code(
    kind: str, other: str, props: list[str], description: str, enum: list[str]
) -> None:
    props = [p for p in props if p not in ("apiVersion", "kind", "ref")] or ["x"]
    if kind == other or "." in kind or "." in other or not kind or not other:
        kind, other = "K" + kind.replace(".", ""), "O" + other.replace(".", "")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = root / "spec.json"
        spec.write_text(json.dumps(_spec(kind, props, description, enum, other)), encoding="utf-8")
        unsupported = [p for p in props if re.search(r'[\\"\x00-\x1f]', p)]
        if unsupported:
            with pytest.raises(SpecError, match="kgen cannot model it") as info:
                load([spec])
            assert "/properties/" in info.value.pointer
            return
        api = load([spec])
        files = render_models(api, "hostile_pkg")
        for rel, source in files.items():
            compile(source, rel, "exec")
            if rel != "models/__init__.py":
                _check_shape(source)
            (root / "hostile_pkg" / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / "hostile_pkg" / rel).write_text(source, encoding="utf-8")
        (root / "hostile_pkg" / "__init__.py").write_text("", encoding="utf-8")
        sys.path.insert(0, tmp)
        try:
            module_name, cls_name = model_ref(api, f"io.k8s.api.hostile.v1.{kind}")
            module = importlib.import_module("hostile_pkg" + module_name)
            cls = getattr(module, cls_name)
            assert not hasattr(builtins, SENTINEL)
            wire = {p: description for p in props}
            again = json.loads(encode(decode(json.dumps(wire).encode(), cls)))
            assert again == {**wire, "apiVersion": "hostile/v1", "kind": kind}
            fields = msgspec.structs.fields(cls)
            assert all(f.name.isidentifier() and not f.name.startswith("_") for f in fields)
        finally:
            sys.path.remove(tmp)
            for name in [n for n in sys.modules if n.split(".")[0] == "hostile_pkg"]:
                del sys.modules[name]


@given(st.text())
def test_python_string_and_docstring_evaluate_to_the_text(text: str) -> None:
    assert ast.literal_eval(naming.python_string(text)) == text
    assert ast.literal_eval(naming.docstring(text)) == text


@given(st.text())
def test_names_are_safe_identifiers(text: str) -> None:
    for name in (
        naming.attribute_name(text),
        naming.class_name(text),
        naming.group_version_attr(text, "v1"),
        naming.module_for_definition(text),
    ):
        assert name.isidentifier() and name.isascii()
        assert not __import__("keyword").iskeyword(name)
        assert not hasattr(builtins, name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(group=identifierish, version=identifierish, kind=identifierish, prop=hostile)
def test_hostile_crd_names_give_safe_modules(
    group: str, version: str, kind: str, prop: str
) -> None:
    if (
        not group.strip()
        or not version.strip()
        or not kind.strip()
        or re.search(r'[\\"\x00-\x1f]', prop)
    ):
        return
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": group,
            "names": {"kind": kind, "plural": "things"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "properties": {prop: {"type": "string"}}}
                            },
                        }
                    },
                }
            ],
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "crd.json").write_text(json.dumps(crd), encoding="utf-8")
        api = load([root / "crd.json"])
        resource = api.group_versions[(group, version)].resources["things"]
        assert resource.schema is not None
        for rel, source in render_models(api, "hostile_crd").items():
            compile(source, rel, "exec")
            if rel != "models/__init__.py":
                _check_shape(source)
            (root / "hostile_crd" / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / "hostile_crd" / rel).write_text(source, encoding="utf-8")
        (root / "hostile_crd" / "__init__.py").write_text("", encoding="utf-8")
        sys.path.insert(0, tmp)
        try:
            module_name, cls_name = model_ref(api, resource.schema)
            cls = getattr(importlib.import_module("hostile_crd" + module_name), cls_name)
            assert not hasattr(builtins, SENTINEL)
            wire = {"apiVersion": f"{group}/{version}", "kind": kind, "spec": {prop: "x"}}
            assert json.loads(encode(decode(json.dumps(wire).encode(), cls))) == wire
        finally:
            sys.path.remove(tmp)
            for name in [n for n in sys.modules if n.split(".")[0] == "hostile_crd"]:
                del sys.modules[name]
