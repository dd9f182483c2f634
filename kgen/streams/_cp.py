"""Copying files to and from a container as ``kubectl cp`` does: ``tar`` over an exec session.

To a pod: ``test -d <remote>`` decides whether ``remote`` is a directory to copy into (then the
copy lands at ``<remote>/<basename of local>``), and ``tar -xmf - -C <dir>`` reads a tar archive
that :mod:`tarfile` writes on a helper thread into a pipe streamed to stdin, so a large tree
is never held in memory. Symlinks go as symlinks; file modes go in the headers.

From a pod: ``tar cf - <remote>`` writes the archive to stdout, which is read as it arrives
(:class:`_Stdout`) and extracted under ``local``, with kubectl's protections: every entry must
start with the remote path (leading ``/`` and ``../`` stripped, as tar and kubectl do), or the
copy fails (``CopyError``: the archive was tampered with); an entry whose path, once joined to
the destination, lies outside it (``..``) is skipped with a warning, as is a symlink whose
target lies outside it (an absolute target, ``..``) and any entry that is not a file, a
directory or a symlink. Unlike kubectl (which now skips every symlink), a symlink whose target
stays inside the destination is kept, as older kubectl did (its ``linkJoin`` check). Each entry
is also refused when a symlink extracted earlier would lead its path out of the destination.

Both block until the copy ends. Errors: :class:`kgen.rest.StatusError` from the exec (NotFound
pod, a container to choose), :class:`CopyError` with tar's stderr when tar exits nonzero.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import tarfile
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import IO, cast

from kgen.streams._exec import ExecSession, run

__all__ = ["CopyError", "Download", "OpenExec", "Upload", "copy_from_pod", "copy_to_pod"]

_log = logging.getLogger("kgen.streams")

OpenExec = Callable[[Sequence[str], bool], ExecSession]
"""Opens an exec session of ``command`` in the container (with stdin when the flag is set)."""


class CopyError(RuntimeError):
    """A copy that failed in the container (tar's exit code and stderr) or a corrupt archive."""


def copy_to_pod(
    open_exec: OpenExec, local_path: str | os.PathLike[str], remote_path: str, description: str
) -> None:
    """Copy the file or directory tree ``local_path`` to ``remote_path`` in the container, into
    it when ``remote_path`` is a directory there. ``FileNotFoundError`` when ``local_path``
    does not exist; errors of the exec and :class:`CopyError` as the module says."""
    upload = Upload(local_path, remote_path, description)
    is_dir = run(open_exec(upload.probe_command, False)).exit_code == 0
    session = open_exec(upload.tar_command(is_dir), True)
    with upload.archive() as stdin:
        result = run(session, stdin=stdin)
    upload.check(result.exit_code, result.stderr)


class Upload:
    """What a copy to a pod decides before and after its exec sessions, for the threaded and
    the asyncio flavours: the checks of the paths, the command that probes whether the remote
    path is a directory, the ``tar -x`` command, the archive (written by a helper thread into a
    pipe, so a large tree is never held in memory) and the verdict. One copy per instance."""

    def __init__(
        self, local_path: str | os.PathLike[str], remote_path: str, description: str
    ) -> None:
        self.local = os.fspath(local_path)
        self.description = description
        if not os.path.lexists(self.local):
            raise FileNotFoundError(
                f"{description}: {self.local} does not exist on the local filesystem"
            )
        if not remote_path:
            raise ValueError(f"{description}: the remote path is empty")
        self._dest = _strip_trailing_slash(remote_path)
        self.probe_command = ["test", "-d", self._dest]
        self._failure: list[BaseException] = []

    def tar_command(self, remote_is_dir: bool) -> list[str]:
        """``tar -xmf -`` in the directory the copy lands in (fixes the archive's name)."""
        dest = self._dest
        if remote_is_dir:
            dest = posixpath.join(dest, os.path.basename(os.path.normpath(self.local)))
        self._dest = posixpath.normpath(dest)
        command = ["tar", "-xmf", "-"]
        directory = posixpath.dirname(self._dest)
        if directory:
            command += ["-C", directory]
        return command

    @contextlib.contextmanager
    def archive(self) -> Iterator[IO[bytes]]:
        """The tar stream to send as stdin, read as the helper thread writes it; the thread is
        joined on leaving."""
        reader, writer = os.pipe()
        tar_thread = threading.Thread(
            target=_write_tar,
            args=(self.local, posixpath.basename(self._dest), os.fdopen(writer, "wb")),
            kwargs={"failure": self._failure},
            name="kgen-cp-tar",
            daemon=True,
        )
        with os.fdopen(reader, "rb") as stdin:
            tar_thread.start()
            try:
                yield stdin
            finally:
                stdin.close()  # a writer still going sees a broken pipe and stops
                tar_thread.join()

    def check(self, exit_code: int, stderr: bytes) -> None:
        """Raise for a local read error or tar's failure in the container."""
        if self._failure:
            error = self._failure[0]
            raise OSError(f"{self.description}: reading {self.local} failed: {error}") from error
        _check(exit_code, stderr, self.description)


def _write_tar(local: str, name: str, out: IO[bytes], *, failure: list[BaseException]) -> None:
    """Write ``local`` (recursively, symlinks not followed) as ``name`` in a tar stream to
    ``out``, then close it. A read error is recorded in ``failure`` (the archive is cut)."""
    try:
        with out, tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
            archive.add(local, arcname=name)
    except BrokenPipeError:
        return  # tar in the container stopped reading; its exit code says why
    except OSError as error:
        failure.append(error)


def copy_from_pod(
    open_exec: OpenExec, remote_path: str, local_path: str | os.PathLike[str], description: str
) -> list[str]:
    """Copy ``remote_path`` (a file or a directory tree) from the container to ``local_path``
    (which becomes that file or directory). Returns the archive entries skipped because they
    would land outside ``local_path`` or are of a kind not copied (each also logged as a
    warning on the ``kgen.streams`` logger). Errors as the module says."""
    download = Download(remote_path, local_path, description)
    session = open_exec(download.tar_command, False)
    with session:
        stdout = _Stdout(session)
        try:
            skipped = download.extract(cast(IO[bytes], stdout))
        except tarfile.ReadError as error:
            download.check(stdout.finish(), stdout.stderr)
            raise download.corrupt(error) from None
        code = stdout.finish()
    download.check(code, stdout.stderr)
    return skipped


class Download:
    """What a copy from a pod decides, for the threaded and the asyncio flavours: the checks of
    the paths, the ``tar cf -`` command, the extraction of the archive as it arrives (with the
    module's protections) and the verdict."""

    def __init__(
        self, remote_path: str, local_path: str | os.PathLike[str], description: str
    ) -> None:
        if not remote_path:
            raise ValueError(f"{description}: the remote path is empty")
        self.description = description
        self.tar_command = ["tar", "cf", "-", remote_path]
        self._dest = os.path.abspath(os.fspath(local_path))
        self._prefix = _strip_shortcuts(posixpath.normpath(remote_path.lstrip("/")))

    def extract(self, stream: IO[bytes]) -> list[str]:
        """Extract the tar ``stream`` (read to its end of archive); the entries skipped.
        Blocks on ``stream``; ``tarfile.ReadError`` for what is not a tar archive."""
        skipped: list[str] = []
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for entry in archive:
                if not _extract(archive, entry, self._prefix, self._dest, self.description):
                    skipped.append(entry.name)
        return skipped

    def corrupt(self, error: tarfile.ReadError) -> CopyError:
        return CopyError(f"{self.description}: the archive from tar is not valid: {error}")

    def check(self, exit_code: int, stderr: bytes) -> None:
        """Raise :class:`CopyError` when tar failed in the container."""
        _check(exit_code, stderr, self.description)


def _extract(
    archive: tarfile.TarFile, entry: tarfile.TarInfo, prefix: str, dest: str, description: str
) -> bool:
    """Extract ``entry`` under ``dest``; ``False`` when it is skipped (and warned about)."""
    name = entry.name.lstrip("/")
    rest = name[len(prefix) :]
    if not name.startswith(prefix) or (prefix and rest and not rest.startswith("/")):
        raise CopyError(
            f"{description}: tar contents corrupted: entry {entry.name!r} is not under {prefix!r}"
        )
    target = os.path.normpath(os.path.join(dest, rest.lstrip("/")))
    if not _inside(dest, target) or (
        target != dest
        and not _inside(os.path.realpath(dest), os.path.realpath(os.path.dirname(target)))
    ):
        return _skip(f"file {target!r} is outside the target destination", entry)
    if entry.issym():
        link = os.path.join(os.path.dirname(target), entry.linkname)
        if not _inside(dest, os.path.normpath(link)) or not _inside(
            os.path.realpath(dest), os.path.realpath(link)
        ):
            return _skip(f"symlink {target!r} -> {entry.linkname!r} points outside", entry)
    elif not (entry.isdir() or entry.isfile()):
        return _skip(f"{target!r} is neither a file, a directory nor a symlink", entry)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if entry.isdir():
        os.makedirs(target, exist_ok=True)
        return True
    if os.path.islink(target) or (entry.issym() and os.path.isfile(target)):
        os.unlink(target)  # replaced, never written through
    if entry.issym():
        os.symlink(entry.linkname, target)
        return True
    source = archive.extractfile(entry)
    assert source is not None  # a regular file always has its data
    with source, open(target, "wb") as out:
        while chunk := source.read(1 << 16):
            out.write(chunk)
    os.chmod(target, entry.mode & 0o777)
    return True


def _skip(why: str, entry: tarfile.TarInfo) -> bool:
    _log.warning("copy from pod: %s, skipping entry %r", why, entry.name)
    return False


def _inside(base: str, target: str) -> bool:
    return target == base or target.startswith(base.rstrip(os.sep) + os.sep)


def _check(code: int, stderr: bytes, description: str) -> None:
    if code != 0:
        tail = stderr[-2000:].decode(errors="replace").strip()
        raise CopyError(f"{description}: tar exited with code {code}: {tail}")


def _strip_trailing_slash(path: str) -> str:
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def _strip_shortcuts(path: str) -> str:
    """``path`` without leading ``../`` (and without ``.``/``..`` alone or a leading ``/``): the
    prefix tar's entries start with, whatever shortcuts the remote path had."""
    while path.startswith("../"):
        path = path[3:]
    if path in (".", ".."):
        return ""
    return path.lstrip("/")


class _Stdout:
    """The session's stdout as a file :mod:`tarfile` reads in stream mode; stderr is kept.

    ``read`` blocks until output arrives; ``b""`` once the session has ended."""

    def __init__(self, session: ExecSession) -> None:
        self._session = session
        self._buffer = bytearray()
        self._stderr = bytearray()

    @property
    def stderr(self) -> bytes:
        return bytes(self._stderr)

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            output = self._session.read()
            if output is None:
                break
            (self._buffer if output.stream == "stdout" else self._stderr).extend(output.data)
        size = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def finish(self) -> int:
        """Read the session to its end (stdout past the archive is dropped, stderr kept) and
        return the exit code (errors as :meth:`ExecSession.wait`)."""
        while self.read(1 << 16):
            self._buffer.clear()
        return self._session.wait()
