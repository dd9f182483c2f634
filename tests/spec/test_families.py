"""v2 and v3 documents given together (a server's whole folder): v3 wins, said once."""

from __future__ import annotations

import shutil
from pathlib import Path

from kgen.spec import load


def test_a_whole_server_folder_reads_as_its_v3_documents(specs_dir: Path) -> None:
    folder = specs_dir / "kubernetes" / "v1.35"
    both = load([folder])
    v3 = load([folder / "openapi-v3"])
    assert both.schemas == v3.schemas
    assert both.group_versions == v3.group_versions
    family = [n for n in both.notes if "OpenAPI v2" in n]
    assert family == [
        f"OpenAPI v2 ({folder / 'swagger.json'}) and v3 documents given: using v3 (kubectl "
        "reads /openapi/v3 first); the v2 documents serve nothing more and are not read"
    ]
    assert not [n for n in both.notes if "differ" in n]


def test_v2_adds_only_the_group_versions_v3_lacks(specs_dir: Path, tmp_path: Path) -> None:
    folder = specs_dir / "kubernetes" / "v1.35"
    shutil.copy(folder / "openapi-v3" / "api__v1_openapi.json", tmp_path)
    mixed = load([tmp_path / "api__v1_openapi.json", folder / "swagger.json"])
    core_v3 = load([tmp_path / "api__v1_openapi.json"])
    v2 = load([folder / "swagger.json"])
    assert set(mixed.group_versions) == set(v2.group_versions)
    core = ("", "v1")
    assert mixed.group_versions[core] == core_v3.group_versions[core]
    pod = "io.k8s.api.core.v1.Pod"
    assert mixed.schemas[pod] == core_v3.schemas[pod] != v2.schemas[pod]
    apps = ("apps", "v1")
    assert mixed.group_versions[apps].resources.keys() == v2.group_versions[apps].resources.keys()
    assert [n for n in mixed.notes if "OpenAPI v2" in n] == [
        f"OpenAPI v2 ({folder / 'swagger.json'}) and v3 documents given: v3 wins where both "
        "serve a group/version (kubectl reads /openapi/v3 first); v2 adds only the rest"
    ]
    assert not [n for n in mixed.notes if "differ" in n]


def test_documents_of_one_family_still_report_their_differences(tmp_path: Path) -> None:
    def swagger(description: str) -> str:
        return (
            '{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}, '
            '"definitions": {"a.B": {"type": "object", "description": "' + description + '"}}}'
        )

    (tmp_path / "one.json").write_text(swagger("one"))
    (tmp_path / "two.json").write_text(swagger("two"))
    notes = load([tmp_path / "one.json", tmp_path / "two.json"]).notes
    assert "1 definitions differ between documents; the first was kept" in notes
