"""A container's filesystem for exec handlers: a directory on the test machine playing ``/``,
with enough of ``tar`` (and ``test -d``) for ``kubectl cp`` and kgen's copies to run against it.

``tar -xmf - [-C DIR]`` extracts the archive on stdin (Python's :mod:`tarfile` with its
``tar`` filter, so nothing lands outside the root); ``tar cf - PATH`` writes PATH as GNU tar
does (member names without the leading ``/``, symlinks kept); ``test -d PATH``.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import IO, Any, cast

from kgen.testing import ContainerProcess, Input


class _Raw(io.RawIOBase):
    """``process.stdin`` read by what arrives (``read1``), so that a buffered reader on top
    reads it in linear time whatever the sizes asked."""

    def __init__(self, stdin: Input) -> None:
        self._stdin = stdin
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._left or self._stdin.read1()
        view = memoryview(buffer).cast("B")
        size = min(len(view), len(data))
        view[:size] = data[:size]
        self._left = data[size:]
        return size


class FakeFS:
    """The handler (``server.containers.on_exec(FakeFS(root))``); ``root`` is ``/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, inside: str) -> Path:
        """The host path of ``inside`` (a path in the container)."""
        return self.root / inside.lstrip("/")

    def __call__(self, process: ContainerProcess) -> int:
        argv = list(process.command)
        if argv[:2] == ["test", "-d"]:
            return 0 if self.path(argv[2]).is_dir() else 1
        if argv[:1] == ["tar"] and "-xmf" in argv:
            directory = argv[argv.index("-C") + 1] if "-C" in argv else "/"
            if not self.path(directory).is_dir():
                process.stderr.write(f"tar: {directory}: Cannot open: No such file or directory\n")
                return 2
            stdin = cast(IO[bytes], io.BufferedReader(_Raw(process.stdin), 1 << 16))
            with tarfile.open(fileobj=stdin, mode="r|") as archive:
                archive.extractall(self.path(directory), filter="tar")
            return 0
        if argv[:3] == ["tar", "cf", "-"] and len(argv) == 4:
            source = argv[3]
            if not os.path.lexists(self.path(source)):
                process.stderr.write(f"tar: {source}: Cannot stat: No such file or directory\n")
                process.stderr.write("tar: Exiting with failure status due to previous errors\n")
                return 2
            if source.startswith("/"):
                process.stderr.write("tar: Removing leading `/' from member names\n")
            stdout = cast(IO[bytes], process.stdout)
            with tarfile.open(fileobj=stdout, mode="w|", format=tarfile.GNU_FORMAT) as archive:
                archive.add(self.path(source), arcname=source.lstrip("/"))
            return 0
        process.stderr.write(f"sh: {argv[0]}: not found\n")
        return 127


def hostile_tar(process: ContainerProcess) -> int:
    """A container whose ``tar cf - PATH`` answers an archive of PATH (``data``) that tries to
    write outside the copy's destination: ``../`` climbs, a symlink to ``/etc`` and a file
    written through it, a symlink escaping by ``..``, one escaping through another symlink,
    beside entries that are fine."""
    prefix = process.command[3].lstrip("/")
    with tarfile.open(fileobj=cast(IO[bytes], process.stdout), mode="w|") as archive:
        _add_dir(archive, prefix)
        _add_file(archive, f"{prefix}/ok.txt", b"fine\n")
        _add_file(archive, f"{prefix}/../../escaped.txt", b"climbed\n")
        _add_link(archive, f"{prefix}/etc", "/etc")
        _add_file(archive, f"{prefix}/etc/owned", b"owned\n")
        _add_link(archive, f"{prefix}/up", "../..")
        _add_link(archive, f"{prefix}/here", "ok.txt")
        _add_link(archive, f"{prefix}/loop", ".")
        _add_link(archive, f"{prefix}/esc", "loop/..")  # inside on paper, outside through loop
    return 0


def _add_dir(archive: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    archive.addfile(info)


def _add_file(archive: tarfile.TarFile, name: str, data: bytes) -> None:

    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    archive.addfile(info, io.BytesIO(data))


def _add_link(archive: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    archive.addfile(info)
