"""The asyncio flavours of logs and port-forward: AsyncRESTClient requests against the test
server, in asyncio debug mode, failing on any task, socket or stream left behind."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from kgen.rest import Config, StatusError, is_not_found
from kgen.rest.aio import AsyncRequest, AsyncRESTClient
from kgen.streams import (
    AsyncLogStream,
    AsyncPortStream,
    PortForwardError,
    open_async_logs,
    open_async_port_forward,
)
from kgen.testing import APIServer
from tests.rest_async.conftest import run
from tests.streams.conftest import MakePod, echo

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


def _config(server: APIServer) -> Config:
    assert server.ca_pem is not None
    return Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem)


def _pod(rest: AsyncRESTClient, pod: str, subresource: str) -> AsyncRequest:
    return (
        rest.get()
        .group_version("", "v1")
        .namespace("default")
        .resource("pods")
        .name(pod)
        .subresource(subresource)
    )


def test_an_async_follow_sees_new_lines_and_ends_with_the_log(
    server: APIServer, make_pod: MakePod
) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("old one\nold two\n")

    async def main() -> tuple[list[str], list[str]]:
        async with AsyncRESTClient(_config(server)) as rest:
            request = _pod(rest, name, "log").param("follow", "true").param("tailLines", "1")
            stream = await open_async_logs(request)
            assert isinstance(stream, AsyncLogStream)
            async with stream:
                first = [await anext(stream)]
                log.write("new ")  # a line is sent once it is complete
                log.write("line\n")
                first.append(await anext(stream))
                loop = asyncio.get_running_loop()
                loop.call_later(0.2, lambda: (log.write("later\n"), log.end()))
                rest_of_it = [line async for line in stream]
            return first, rest_of_it

    first, rest_of_it = run(main)
    assert first == ["old two", "new line"]
    assert rest_of_it == ["later"]  # then the container stopped: the stream ends
    assert log.followers == 0


def test_async_chunks_keep_the_bytes_and_a_missing_pod_is_not_found(
    server: APIServer, make_pod: MakePod
) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write(b"caf\xc3\xa9 \xff\nno newline")
    log.end()

    async def main() -> tuple[str, bytes, StatusError]:
        async with AsyncRESTClient(_config(server)) as rest:
            async with await open_async_logs(_pod(rest, name, "log")) as stream:
                line = await anext(stream)
                chunks = b"".join([c async for c in stream.chunks()])
            try:
                await open_async_logs(_pod(rest, "no-such-pod", "log"))
            except StatusError as err:
                return line, chunks, err
            raise AssertionError("a missing pod opened a log")

    line, chunks, err = run(main)
    assert line == "café \ufffd"
    assert chunks == b"no newline"
    assert is_not_found(err)


def test_an_async_follow_closed_early_frees_the_server(
    server: APIServer, make_pod: MakePod
) -> None:
    name = make_pod()
    log = server.containers.log("default", name, "main")
    log.write("one\n")

    async def main() -> None:
        async with AsyncRESTClient(_config(server)) as rest:
            request = _pod(rest, name, "log").param("follow", "true")
            async with await open_async_logs(request) as stream:
                assert await anext(stream) == "one"
            while log.followers:  # the server notices within 0.1 s
                await asyncio.sleep(0.02)

    run(main)


def test_async_port_forward_echoes_a_large_transfer(server: APIServer, make_pod: MakePod) -> None:
    name = make_pod()
    server.containers.on_port(echo, pod=name, port=7)
    payload = os.urandom(1024 * 1024).hex().encode()  # 2 MiB, several messages

    async def main() -> tuple[bytes, bytes, bytes]:
        async with AsyncRESTClient(_config(server)) as rest:
            stream = await open_async_port_forward(_pod(rest, name, "portforward"), 7)
            assert isinstance(stream, AsyncPortStream) and stream.port == 7
            async with stream:
                await stream.write(b"hello\n")
                line = await stream.readline()
                writer = asyncio.create_task(stream.write(payload))
                echoed = await stream.readexactly(len(payload))
                await writer
                await stream.write(b"x")
                last = await stream.read(10)
            return line, echoed, last

    line, echoed, last = run(main)
    assert line == b"HELLO\n"
    assert hashlib.sha256(echoed).digest() == hashlib.sha256(payload.upper()).digest()
    assert last == b"X"


def test_async_port_forward_to_a_closed_port_raises_the_servers_error(
    server: APIServer, make_pod: MakePod
) -> None:
    name = make_pod()

    async def main() -> PortForwardError:
        async with AsyncRESTClient(_config(server)) as rest:
            async with await open_async_port_forward(_pod(rest, name, "portforward"), 9) as stream:
                try:
                    await stream.read()
                except PortForwardError as err:
                    return err
            raise AssertionError("a closed port read without an error")

    err = run(main)
    assert err.port == 9
    assert "connection refused" in err.message and f"default/{name}" in err.message
