"""``DiskCachedDiscoveryClient``: discovery answers kept as files, shared between processes.

Layout under the cache directory: ``servergroups.json`` and
``<group>/<version>/serverresources.json`` (``v1/serverresources.json`` for the core group).
A file is used when it exists, is younger than ``ttl`` (by modification time) and decodes;
otherwise the delegate is asked and the answer written atomically (a temporary file renamed
into place; directories ``0o750``, files ``0o660``). Empty answers and errors are not cached.

Freshness: :meth:`DiskCachedDiscoveryClient.fresh` stays ``True`` until an answer is served from
a file this client did not write itself (another process, or an earlier run, wrote it), which
tells callers such as the deferred REST mapper that a miss may be due to stale data.
:meth:`DiskCachedDiscoveryClient.invalidate` makes every file written before it invisible (only
files this client writes afterwards are used), sets ``fresh()`` back to ``True`` and
invalidates the delegate.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import TypeVar

import msgspec

from kgen.discovery._aggregated import DiscoveredGroups
from kgen.discovery._base import DiscoveryBase, VersionInfo
from kgen.meta import APIGroupList, APIResourceList, decode, encode

__all__ = ["DiskCachedDiscoveryClient"]

_DIR_MODE = 0o750
_FILE_MODE = 0o660
_GROUPS_FILE = "servergroups.json"
_RESOURCES_FILE = "serverresources.json"

D = TypeVar("D", APIGroupList, APIResourceList)


class DiskCachedDiscoveryClient(DiscoveryBase):
    """Discovery through a directory of cached answers (see the module docstring).

    ``ttl`` is in seconds. Thread-safe; several processes may share one directory (writes are
    atomic renames, so a reader sees a whole old file or a whole new one).
    """

    def __init__(
        self, delegate: DiscoveryBase, cache_dir: str | os.PathLike[str], ttl: float
    ) -> None:
        self._delegate = delegate
        self._dir = Path(cache_dir)
        self._ttl = ttl
        self._lock = threading.Lock()
        self._our_files: set[Path] = set()
        self._invalidated = False
        self._fresh = True

    @property
    def cache_dir(self) -> Path:
        return self._dir

    def server_version(self) -> VersionInfo:
        return self._delegate.server_version()

    def groups_and_maybe_resources(self) -> DiscoveredGroups:
        groups_file = self._dir / _GROUPS_FILE
        cached = self._read(groups_file, APIGroupList)
        if cached is not None:
            return DiscoveredGroups(groups=list(cached.groups))
        live = self._delegate.groups_and_maybe_resources()
        if live.groups:
            self._write(groups_file, APIGroupList(groups=tuple(live.groups)))
        for group_version, resources in (live.resources or {}).items():
            path = self._resources_file(group_version)
            if path is not None and resources.resources:
                self._write(path, resources)
        return live

    def server_resources_for_group_version(self, group_version: str) -> APIResourceList:
        path = self._resources_file(group_version)
        cached = self._read(path, APIResourceList) if path is not None else None
        if cached is not None:
            return cached
        live = self._delegate.server_resources_for_group_version(group_version)
        if path is not None and live.resources:
            self._write(path, live)
        return live

    def fresh(self) -> bool:
        with self._lock:
            return self._fresh

    def invalidate(self) -> None:
        with self._lock:
            self._our_files.clear()
            self._fresh = True
            self._invalidated = True
        self._delegate.invalidate()

    def _resources_file(self, group_version: str) -> Path | None:
        """Where a group/version's resources are cached; ``None`` (not cached) for a name that
        could leave the cache directory (the names come from the server)."""
        parts = group_version.split("/")
        if any(part in ("", ".", "..") or "\\" in part for part in parts):
            return None
        return self._dir.joinpath(*parts, _RESOURCES_FILE)

    def _read(self, path: Path, type_: type[D]) -> D | None:
        """The cached answer in ``path``, or ``None`` when missing, expired, invisible or bad."""
        with self._lock:
            ours = path in self._our_files
            if self._invalidated and not ours:
                return None
        try:
            if time.time() - path.stat().st_mtime > self._ttl:
                return None
            value = decode(path.read_bytes(), type_)
        except (OSError, msgspec.DecodeError):
            return None
        with self._lock:
            self._fresh = self._fresh and ours
        return value

    def _write(self, path: Path, value: APIGroupList | APIResourceList) -> None:
        """Write ``value`` atomically; a cache that cannot be written is simply not used."""
        try:
            _make_dirs(path.parent)
            handle, temporary = tempfile.mkstemp(prefix=f"{path.name}.", dir=path.parent)
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(encode(value))
                os.chmod(temporary, _FILE_MODE)
                with self._lock:
                    os.replace(temporary, path)
                    self._our_files.add(path)
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)
        except OSError:
            return


def _make_dirs(directory: Path) -> None:
    """``mkdir -p`` giving every directory it creates ``_DIR_MODE`` (less the umask)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=_DIR_MODE)
        except FileExistsError:
            continue
