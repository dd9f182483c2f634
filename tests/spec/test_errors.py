"""Bad input gives a SpecError naming the file, the JSON pointer and what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kgen.spec import SpecError, load, load_documents


def _swagger(definitions: dict[str, Any]) -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "definitions": definitions,
    }


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _crd(group: str = "example.com", kind: str = "Widget", plural: str = "widgets") -> str:
    return f"""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{group}
spec:
  group: {group}
  names: {{kind: {kind}, plural: {plural}}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {{type: integer}}
"""


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.json", '{\n  "swagger": "2.0",\n  "definitions": {,}\n}')
    with pytest.raises(SpecError) as info:
        load([path])
    assert info.value.source == str(path)
    assert (info.value.line, info.value.column) == (3, 19)
    assert str(info.value) == f"{path}:3:19: malformed JSON: object keys must be strings"


def test_truncated_json_is_reported_at_its_end(tmp_path: Path) -> None:
    path = _write(tmp_path, "cut.json", '{\n  "swagger": "2.0",\n  "paths": {')
    with pytest.raises(SpecError) as info:
        load([path])
    assert (
        str(info.value) == f"{path}:3:13: malformed JSON: unexpected end of file (truncated JSON)"
    )


@pytest.mark.parametrize("content", ["", "  \n\n", "\n"])
@pytest.mark.parametrize("name", ["empty.json", "empty.yaml"])
def test_empty_file_says_so(tmp_path: Path, name: str, content: str) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(SpecError) as info:
        load([path])
    assert str(info.value) == f"{path}: empty file"


def test_malformed_yaml_names_line_and_column_from_its_mark(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.yaml", "kind: CustomResourceDefinition\nspec: [unclosed\n")
    with pytest.raises(SpecError) as info:
        load([path])
    assert (info.value.line, info.value.column) == (3, 1)
    assert str(info.value).startswith(f"{path}:3:1: malformed YAML: did not find expected ")
    assert "(while parsing a flow sequence at line 2)" in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"kind": "ConfigMap", "apiVersion": "v1"}, "not an API document \\(kind 'ConfigMap'\\)"),
        ([1, 2], "expected a JSON object"),
        ({"swagger": "3.1"}, "unsupported swagger version"),
        ({"openapi": "2.0"}, "unsupported OpenAPI version"),
    ],
)
def test_wrong_kind_of_document(tmp_path: Path, content: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load([_write(tmp_path, "doc.json", content)])


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load([tmp_path / "absent.json"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError, match=r"no \.json, \.yaml or \.yml files"):
        load([tmp_path / "empty"])


def test_dangling_reference_points_at_the_ref(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "s.json",
        _swagger(
            {"a.v1.A": {"type": "object", "properties": {"b": {"$ref": "#/definitions/nope"}}}}
        ),
    )
    with pytest.raises(SpecError) as info:
        load([path])
    assert info.value.pointer == "/definitions/a.v1.A/properties/b/$ref"
    assert "dangling reference '#/definitions/nope'" in info.value.message


def test_non_local_reference_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.json", _swagger({"a.v1.A": {"$ref": "other.json#/definitions/X"}}))
    with pytest.raises(SpecError, match="unsupported reference"):
        load([path])


def test_cyclic_alias_is_reported_not_followed_forever(tmp_path: Path) -> None:
    defs = {
        "a.v1.A": {"$ref": "#/definitions/a.v1.B"},
        "a.v1.B": {"$ref": "#/definitions/a.v1.A"},
    }
    with pytest.raises(SpecError, match=r"cyclic reference: a\.v1\.A -> a\.v1\.B -> a\.v1\.A"):
        load([_write(tmp_path, "s.json", _swagger(defs))])


def test_recursion_through_properties_is_legal_and_refs_in_values_are_data(tmp_path: Path) -> None:
    defs = {
        "a.v1.Node": {
            "type": "object",
            "properties": {
                "children": {"type": "array", "items": {"$ref": "#/definitions/a.v1.Node"}},
                "$ref": {"type": "string"},
                "example": {"type": "object", "default": {"$ref": "not a reference"}},
                "mode": {"type": "string", "enum": [{"$ref": "x"}]},
            },
        }
    }
    api = load([_write(tmp_path, "s.json", _swagger(defs))])
    assert "a.v1.Node" in api.schemas


def test_duplicate_kind_names_both_documents(tmp_path: Path) -> None:
    first = _write(tmp_path, "one.yaml", _crd())
    second = _write(tmp_path, "two.yaml", _crd(plural="widgetz"))
    with pytest.raises(SpecError) as info:
        load([first, second])
    assert info.value.source == str(second)
    assert "duplicate kind Widget" in info.value.message
    assert str(first) in info.value.message


def test_crd_field_errors_point_into_the_right_document(tmp_path: Path) -> None:
    broken = _crd().replace("group: example.com", "group: 42")
    path = _write(tmp_path, "multi.yaml", _crd(kind="Gadget", plural="gadgets") + "---\n" + broken)
    with pytest.raises(SpecError) as info:
        load([path])
    assert info.value.document == 1
    assert info.value.pointer == "/spec/group"
    assert "(document 2) at /spec/group: group must be a non-empty string" in str(info.value)


def test_crd_list_and_discovery_in_the_wrong_place(tmp_path: Path) -> None:
    crd = load_documents([_write(tmp_path, "c.yaml", _crd())])[0].data
    listed = _write(tmp_path, "list.json", {"kind": "List", "apiVersion": "v1", "items": [crd]})
    api = load([listed])
    assert api.group_versions[("example.com", "v1")].resources["widgets"].kind == "Widget"
    with pytest.raises(SpecError, match="expected a discovery document, found crd"):
        load([], [listed])


def test_yaml_values_without_json_equivalent(tmp_path: Path) -> None:
    path = _write(tmp_path, "b.yaml", _crd() + "        x-bin: !!binary aGVsbG8=\n")
    with pytest.raises(SpecError, match="YAML value of type bytes has no JSON equivalent"):
        load([path])


def test_yaml_reads_bare_equals_and_dates_as_strings(tmp_path: Path) -> None:
    text = _crd().replace(
        "size: {type: integer}",
        "size: {type: integer}\n              op: {type: string, enum: [=, '!='], default: 2024-01-02}",
    )
    api = load([_write(tmp_path, "c.yaml", text)])
    op = api.schemas["com.example.v1.WidgetSpec"]["properties"]["op"]
    assert op["enum"] == ["=", "!="]
    assert op["default"] == "2024-01-02"
