"""The asyncio flavour of exec: AsyncRESTClient requests opened as sessions against the test
server, in asyncio debug mode, failing on any task, socket or session left behind."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from kgen.rest import Config, StatusError, is_bad_request, is_not_found
from kgen.rest.aio import AsyncRequest, AsyncRESTClient
from kgen.streams import V5, AsyncExecSession, open_async_session, run_async
from kgen.testing import APIServer, ContainerProcess
from tests.rest_async.conftest import run
from tests.streams.conftest import MakePod
from tests.streams.shell import shell

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


def _config(server: APIServer) -> Config:
    assert server.ca_pem is not None
    return Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem)


def _exec(rest: AsyncRESTClient, pod: str) -> AsyncRequest:
    return (
        rest.get()
        .group_version("", "v1")
        .namespace("default")
        .resource("pods")
        .name(pod)
        .subresource("exec")
    )


def test_run_to_completion(server: APIServer, make_pod: MakePod) -> None:
    server.containers.on_exec(shell)
    name = make_pod()

    async def main() -> tuple[Any, Any]:
        async with AsyncRESTClient(_config(server)) as rest:
            failed = await run_async(
                await open_async_session(
                    _exec(rest, name), command=["sh", "-c", "echo out; echo err >&2; exit 3"]
                )
            )
            fed = await run_async(
                await open_async_session(_exec(rest, name), command=["cat"], stdin=True),
                stdin=b"one\ntwo\n",
                timeout=10,
            )
            return failed, fed

    failed, fed = run(main)
    assert (failed.stdout, failed.stderr, failed.exit_code) == (b"out\n", b"err\n", 3)
    assert (fed.stdout, fed.exit_code) == (b"one\ntwo\n", 0)


def test_stdin_from_a_file(server: APIServer, make_pod: MakePod, tmp_path: Path) -> None:
    server.containers.on_exec(shell)
    name = make_pod()
    data = os.urandom(3 * 1024 * 1024 + 5)
    path = tmp_path / "in.bin"
    path.write_bytes(data)

    async def main() -> Any:
        async with AsyncRESTClient(_config(server)) as rest:
            with path.open("rb") as source:
                session = await open_async_session(
                    _exec(rest, name), command=["sha256sum"], stdin=True
                )
                return await run_async(session, stdin=source, timeout=30)

    assert run(main).stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_interactive_session(server: APIServer, make_pod: MakePod) -> None:
    server.containers.on_exec(shell)
    name = make_pod()

    async def main() -> list[bytes]:
        seen = []
        async with AsyncRESTClient(_config(server)) as rest:
            session = await open_async_session(_exec(rest, name), command=["cat"], stdin=True)
            async with session:
                assert session.protocol == V5
                for word in (b"alpha\n", b"beta\n"):
                    await session.write(word)
                    output = await session.read(timeout=10)
                    assert output is not None
                    seen.append(output.data)
                await session.close_stdin()
                async for output in session:
                    seen.append(output.data)
                assert await session.wait() == 0 and session.exit_code == 0
        return seen

    assert run(main) == [b"alpha\n", b"beta\n"]


def test_refusals_are_the_servers_status(server: APIServer, make_pod: MakePod) -> None:
    name = make_pod("web", "sidecar")

    async def main() -> list[StatusError]:
        errors = []
        async with AsyncRESTClient(_config(server)) as rest:
            for pod in ("no-such-pod", name):
                with pytest.raises(StatusError) as caught:
                    await open_async_session(_exec(rest, pod), command=["true"])
                errors.append(caught.value)
        return errors

    missing, ambiguous = run(main)
    assert is_not_found(missing) and 'pods "no-such-pod" not found' in str(missing)
    assert is_bad_request(ambiguous) and "choose one of: [web sidecar]" in str(ambiguous)


def test_cancelling_a_reading_task_ends_the_process(server: APIServer, make_pod: MakePod) -> None:
    started, gone = threading.Event(), threading.Event()

    def forever(process: ContainerProcess) -> int:
        started.set()
        process.disconnected.wait(30)
        gone.set()
        return 0

    server.containers.on_exec(forever)
    name = make_pod()

    async def main() -> None:
        async with AsyncRESTClient(_config(server)) as rest:
            session: AsyncExecSession = await open_async_session(_exec(rest, name), command=["x"])

            async def reader() -> None:
                async with session:
                    await session.read()

            task = asyncio.create_task(reader())
            await asyncio.to_thread(started.wait, 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    run(main)
    assert gone.wait(10), "the handler never saw the client leave"
