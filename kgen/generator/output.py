"""Putting a rendered package on disk: atomically, only when something changed, or just comparing.

A rendered package is a mapping of POSIX paths relative to the package folder to file contents.
Each emitter *owns* some entries of the folder (``models/``, ``clientset.py``, ...); writing
replaces exactly the owned entries and keeps everything else, so ``kgen listers`` does not delete
what ``kgen models`` wrote.

Writing never leaves a half-written package: the new tree is assembled in a temporary folder
beside the target and swapped in with renames once complete. A stamp file
(:data:`STAMP_NAME`) records, per emitter, the fingerprint of the inputs and the hash of every
file written, so an unchanged rerun is detected without loading any spec or rendering anything.

Nothing here is thread-safe: one writer per package folder at a time.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "STAMP_NAME",
    "Changes",
    "compare",
    "is_up_to_date",
    "write_package",
]

STAMP_NAME = ".kgen-stamp.json"
"""Name of the stamp file kept in every generated package folder (not part of the package)."""


@dataclass
class Changes:
    """How the files on disk differ from a rendered package (paths relative to the package)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)
    """Unified diff of every changed file (current on disk -> would be written)."""

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def report(self, max_diff_lines: int = 40) -> str:
        """A human-readable summary: one line per file, then the start of each diff."""
        lines = [f"  added:   {p}" for p in self.added]
        lines += [f"  changed: {p}" for p in self.changed]
        lines += [f"  removed: {p}" for p in self.removed]
        for path in self.changed:
            diff = self.diffs[path].splitlines()
            lines += diff[:max_diff_lines]
            if len(diff) > max_diff_lines:
                lines.append(f"  ... {len(diff) - max_diff_lines} more diff lines in {path}")
        return "\n".join(lines)


def _owned(path: str, owned: Iterable[str]) -> bool:
    """True when ``path`` is one of the ``owned`` entries or lies under an owned folder."""
    return any(path == entry or path.startswith(entry.rstrip("/") + "/") for entry in owned)


def _existing_files(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.name != STAMP_NAME:
            found[path.relative_to(root).as_posix()] = path
    return found


def compare(root: Path, files: Mapping[str, str], owned: Iterable[str]) -> Changes:
    """Compare the package folder ``root`` with ``files`` over the ``owned`` entries only."""
    owned = tuple(owned)
    on_disk = {p: f for p, f in _existing_files(root).items() if _owned(p, owned)}
    changes = Changes()
    for path in sorted(files):
        if path not in on_disk:
            changes.added.append(path)
            continue
        current = on_disk[path].read_text(encoding="utf-8")
        if current != files[path]:
            changes.changed.append(path)
            changes.diffs[path] = "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    files[path].splitlines(keepends=True),
                    fromfile=f"a/{path}",
                    tofile=f"b/{path}",
                )
            )
    changes.removed = sorted(set(on_disk) - set(files))
    return changes


def _digest(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def _read_stamp(root: Path) -> dict[str, dict[str, object]]:
    try:
        loaded = json.loads((root / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def is_up_to_date(root: Path, part: str, fingerprint: str) -> bool:
    """True when ``part`` was last written from inputs with ``fingerprint`` and its files are
    still exactly as written (none edited, none deleted). Reads files; renders nothing."""
    entry = _read_stamp(root).get(part)
    if not isinstance(entry, dict) or entry.get("fingerprint") != fingerprint:
        return False
    hashes = entry.get("files")
    if not isinstance(hashes, dict):
        return False
    for path, expected in hashes.items():
        try:
            if _digest((root / path).read_bytes()) != expected:
                return False
        except OSError:
            return False
    return True


def write_package(
    root: Path,
    files: Mapping[str, str],
    owned: Iterable[str],
    stamps: Mapping[str, tuple[str, Iterable[str]]],
) -> Changes:
    """Make the owned entries of ``root`` exactly ``files``; keep every other entry as it is.

    ``stamps`` maps an emitter's name to (fingerprint, the paths it produced) and is merged into
    the stamp file. The new tree is built beside ``root`` and swapped in with renames; on any
    error ``root`` is left untouched. Returns what changed.
    """
    owned = tuple(owned)
    changes = compare(root, files, owned)
    root.parent.mkdir(parents=True, exist_ok=True)
    stamp = _read_stamp(root)
    for part, (fingerprint, paths) in stamps.items():
        stamp[part] = {
            "fingerprint": fingerprint,
            "files": {p: _digest(files[p].encode("utf-8")) for p in sorted(paths)},
        }
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.kgen-", dir=root.parent))
    try:
        new_root = staging / root.name
        for path, source in _existing_files(root).items():
            if not _owned(path, owned):
                target = new_root / path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        for path, text in files.items():
            target = new_root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
        new_root.mkdir(parents=True, exist_ok=True)
        (new_root / STAMP_NAME).write_text(
            json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
        old_root = staging / (root.name + ".old")
        if root.exists():
            os.replace(root, old_root)
        try:
            os.replace(new_root, root)
        except OSError:
            if old_root.exists():
                os.replace(old_root, root)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return changes
