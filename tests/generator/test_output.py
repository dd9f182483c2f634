"""Writing generated packages: owned entries replaced, others kept, stamps, comparisons."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgen.generator.output import STAMP_NAME, compare, is_up_to_date, write_package


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != STAMP_NAME
    }


def test_write_replaces_owned_entries_and_keeps_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    write_package(root, {"a/x.py": "1", "b.py": "2"}, ["a", "b.py"], {"one": ("fp", ["a/x.py"])})
    (root / "mine.txt").write_text("user file")
    changes = write_package(root, {"a/y.py": "3", "b.py": "2"}, ["a", "b.py"], {})
    assert _tree(root) == {"a/y.py": "3", "b.py": "2", "mine.txt": "user file"}
    assert (changes.added, changes.changed, changes.removed) == (["a/y.py"], [], ["a/x.py"])
    assert not list(tmp_path.glob(".pkg.kgen-*")), "staging folder left behind"


def test_compare_reports_a_diff_of_changed_files(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    write_package(root, {"m.py": "x = 1\n"}, ["m.py"], {})
    changes = compare(root, {"m.py": "x = 2\n", "n.py": ""}, ["m.py", "n.py"])
    assert changes.changed == ["m.py"] and changes.added == ["n.py"]
    assert "-x = 1" in changes.report() and "+x = 2" in changes.report()
    assert not compare(root, {"m.py": "x = 1\n"}, ["m.py"])


def test_stamp_detects_unchanged_inputs_and_edited_outputs(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    write_package(root, {"m.py": "x = 1\n"}, ["m.py"], {"models": ("fp1", ["m.py"])})
    assert is_up_to_date(root, "models", "fp1")
    assert not is_up_to_date(root, "models", "fp2")
    assert not is_up_to_date(root, "clientset", "fp1")
    (root / "m.py").write_text("x = 99\n")
    assert not is_up_to_date(root, "models", "fp1")
    (root / "m.py").unlink()
    assert not is_up_to_date(root, "models", "fp1")


def test_failed_write_leaves_the_old_package(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    write_package(root, {"m.py": "old"}, ["m.py"], {})
    with pytest.raises(KeyError):
        # a stamp naming a file that was not rendered fails while staging
        write_package(root, {"m.py": "new"}, ["m.py"], {"x": ("fp", ["missing.py"])})
    assert _tree(root) == {"m.py": "old"}
    assert not list(tmp_path.glob(".pkg.kgen-*"))
