"""Copying files to and from a container from asyncio, as :mod:`kgen.streams._cp` does with
threads: the same paths, commands, archive and protections (``Upload`` and ``Download`` decide
everything), over :class:`kgen.streams.AsyncExecSession`.

The tar archive itself is written and read by :mod:`tarfile`, which blocks: a copy to a pod
streams an archive a helper thread writes into a pipe (stdin read in a worker thread, as
``run_async`` reads a file); a copy from a pod feeds the session's stdout into a pipe that a
worker thread extracts from as it arrives, so neither holds the archive in memory nor blocks
the event loop on disk work. Cancelling the task stops the copy and closes the session; the
worker threads end with it (their pipe is closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tarfile
from collections.abc import Awaitable, Callable, Sequence
from typing import IO

from kgen.streams._async import AsyncExecSession, run_async
from kgen.streams._cp import Download, Upload

__all__ = ["AsyncOpenExec", "async_copy_from_pod", "async_copy_to_pod"]

AsyncOpenExec = Callable[[Sequence[str], bool], Awaitable[AsyncExecSession]]
"""Opens an exec session of ``command`` in the container (with stdin when the flag is set)."""


async def async_copy_to_pod(
    open_exec: AsyncOpenExec,
    local_path: str | os.PathLike[str],
    remote_path: str,
    description: str,
) -> None:
    """As :func:`kgen.streams._cp.copy_to_pod`, awaited."""
    upload = Upload(local_path, remote_path, description)
    probe = await run_async(await open_exec(upload.probe_command, False))
    session = await open_exec(upload.tar_command(probe.exit_code == 0), True)
    with upload.archive() as stdin:
        result = await run_async(session, stdin=stdin)
    upload.check(result.exit_code, result.stderr)


async def async_copy_from_pod(
    open_exec: AsyncOpenExec,
    remote_path: str,
    local_path: str | os.PathLike[str],
    description: str,
) -> list[str]:
    """As :func:`kgen.streams._cp.copy_from_pod`, awaited: the entries skipped."""
    download = Download(remote_path, local_path, description)
    stderr = bytearray()
    async with await open_exec(download.tar_command, False) as session:
        reader, writer = os.pipe()
        with os.fdopen(reader, "rb") as archive_in, os.fdopen(writer, "wb") as archive_out:
            extraction = asyncio.ensure_future(asyncio.to_thread(download.extract, archive_in))
            # once the archive has ended, what tar still writes is dropped: nobody reads it
            extraction.add_done_callback(lambda _: archive_in.close())
            try:
                async for output in session:
                    if output.stream != "stdout":
                        stderr.extend(output.data)
                    elif not extraction.done():
                        await _put(archive_out, output.data)
            finally:
                with contextlib.suppress(BrokenPipeError, ValueError):
                    archive_out.close()  # the end of the archive for the extracting thread
                outcome = (await asyncio.gather(extraction, return_exceptions=True))[0]
        code = await session.wait()
    if isinstance(outcome, tarfile.ReadError):
        download.check(code, bytes(stderr))
        raise download.corrupt(outcome) from None
    if isinstance(outcome, BaseException):
        raise outcome
    download.check(code, bytes(stderr))
    return outcome


async def _put(out: IO[bytes], data: bytes) -> None:
    """Write ``data`` to the pipe in a worker thread (it blocks while the pipe is full); a
    reader that has stopped (the archive ended, or the extraction failed) drops it."""

    def write() -> None:
        out.write(data)
        out.flush()

    try:
        await asyncio.to_thread(write)
    except (BrokenPipeError, ValueError):
        return
