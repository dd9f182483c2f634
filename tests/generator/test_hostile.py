"""Hostile names in a spec never become code: property-based tests over generated API models.

Group, version, kind, plural, subresource, short-name and category strings are drawn from
quotes, backslashes, newlines, Python keywords, Jinja delimiters and injection attempts. Every
generated package must parse, import, and contain none of those strings outside string literals
and comments.
"""

from __future__ import annotations

import copy
import importlib
import io
import itertools
import re
import sys
import tokenize
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgen.generator.emit import EMITTERS, render_package
from kgen.generator.views import GenerateError
from kgen.spec import load
from kgen.spec.model import APIModel, GroupVersion, Resource, Subresource

EXAMPLE = Path(__file__).resolve().parents[2] / "openapi-specs" / "databases.kgen.dev.yaml"
BASE = load([EXAMPLE])
KIND_SCHEMA = "dev.kgen.databases.v1.PostgresCluster"
LIST_SCHEMA = "dev.kgen.databases.v1.PostgresClusterList"

NASTY = [
    '"""',
    "'''",
    "\\",
    "\n",
    "\r\n",
    "\x00",
    "__import__('os').system('touch /tmp/pwned')",
    '"); import os; ("',
    "class",
    "None",
    "def",
    "{{ 7 * 7 }}",
    "{% raw %}",
    "#",
    "ünïcødé",
    "1abc",
    "a.b/c",
    "self",
    "rest_client",
]
names = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12),
    st.lists(st.sampled_from(NASTY), min_size=2, max_size=3).map("".join),
)
_counter = itertools.count()


def _model(group: str, version: str, kind: str, plural: str, sub: str, short: str) -> APIModel:
    kind_schema = f"{group}.{version}.{kind}"
    list_schema = f"{kind_schema}List"
    schemas = dict(BASE.schemas)
    schemas[kind_schema] = copy.deepcopy(BASE.schemas[KIND_SCHEMA])
    schemas[kind_schema]["description"] = kind
    lst = copy.deepcopy(BASE.schemas[LIST_SCHEMA])
    lst["properties"]["items"]["items"] = {"$ref": f"#/definitions/{kind_schema}"}
    schemas[list_schema] = lst
    resource = Resource(
        plural=plural,
        singular=plural,
        kind=kind,
        namespaced=len(plural) % 2 == 0,
        verbs=("create", "get", "list", "watch", "patch", "update", "delete"),
        list_kind=f"{kind}List",
        schema=kind_schema,
        list_schema=list_schema,
        subresources={
            "status": Subresource("status", ("get", "update", "patch")),
            sub: Subresource(sub, ("get", "update", "create")),
        },
        short_names=(short,),
        categories=(short,),
    )
    gv = GroupVersion(group, version, {plural: resource}, preferred=True)
    return APIModel(group_versions={(group, version): gv}, schemas=schemas)


def _code_outside_strings(source: str) -> str:
    """The source with every string literal and comment removed."""
    kept = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            kept.append(token.string)
    return " ".join(kept)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    group=names, version=names, kind=names, plural=names, sub=names, short=names
)  # fmt: skip
def test_hostile_names_give_safe_importable_code(
    tmp_path_factory: pytest.TempPathFactory,
    group: str,
    version: str,
    kind: str,
    plural: str,
    sub: str,
    short: str,
) -> None:
    package = f"hostile{next(_counter)}"
    api = _model(group, version, kind, plural, sub, short)
    try:
        rendered = render_package(api, package, EMITTERS, input_hash="h", formatted=False)
    except GenerateError:
        return  # refusing a model with a clear error is also a safe outcome
    root = tmp_path_factory.mktemp("hostile")
    values = (group, version, kind, plural, sub, short)
    hostile = [s for s in values if re.search(r"\W", s) and len(s.strip()) >= 4]
    for files in rendered.values():
        for rel, text in files.items():
            target = root / package / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            if rel.endswith(".py"):
                compile(text, rel, "exec")
                code = _code_outside_strings(text)
                for value in hostile:
                    assert value not in code, (rel, value)
    sys.path.insert(0, str(root))
    try:
        for path in sorted((root / package).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            importlib.import_module(module.removesuffix(".__init__"))
    finally:
        sys.path.remove(str(root))
        for name in list(sys.modules):
            if name.split(".")[0] == package:
                del sys.modules[name]
