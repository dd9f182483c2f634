"""Retries and throttling over real HTTP (4.1.12, S64, S65) and the client token bucket."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from kgen.rest import (
    Config,
    RESTClient,
    StatusError,
    TokenBucket,
    is_internal_error,
    is_too_many_requests,
)
from kgen.rest._backoff import URLBackoff, backoff_from_env

from .conftest import Sleeps
from .helpers import FakeClock
from .server import Handler, LoopbackServer, Reply

MakeClient = Callable[..., RESTClient]


def test_429_with_retry_after_is_retried_with_the_full_body_each_time(
    server: LoopbackServer, make_client: MakeClient, sleeps: Sleeps
) -> None:
    for _ in range(4):
        server.reply(429, b"slow down", Retry_After="1", Content_Type="text/plain")
    server.reply(200, b"{}")
    body = b"x" * 4000
    result = make_client(server).post().abs_path("/a").body(body).do()
    assert result.status_code == 200
    assert len(server.requests) == 5
    assert all(r.body == body for r in server.requests)
    assert sleeps.calls == [1, 1, 1, 1]


@pytest.mark.parametrize("code", [429, 500, 501, 504])
def test_retryable_codes_with_retry_after_zero(
    server: LoopbackServer, make_client: MakeClient, sleeps: Sleeps, code: int
) -> None:
    for _ in range(4):
        server.reply(code, b"", Retry_After="0")
    server.reply(200, b"{}")
    assert make_client(server).put().abs_path("/a").body(b"{}").do().status_code == 200
    assert len(server.requests) == 5 and sleeps.calls == [0, 0, 0, 0]


def test_max_retries(server: LoopbackServer, make_client: MakeClient) -> None:
    client = make_client(server)
    server.reply(429, b"", Retry_After="0")
    with pytest.raises(StatusError) as info:
        client.get().abs_path("/a").max_retries(0).do()
    assert is_too_many_requests(info.value)
    server.reply(429, b"", Retry_After="0")
    server.reply(200, b"{}")
    assert client.get().abs_path("/a").max_retries(1).do().status_code == 200
    assert len(server.requests) == 3


def test_default_max_retries_is_ten(
    server: LoopbackServer, make_client: MakeClient, sleeps: Sleeps
) -> None:
    for _ in range(12):
        server.reply(503, b"", Retry_After="2")
    with pytest.raises(StatusError) as info:
        make_client(server).get().abs_path("/a").do()
    assert len(server.requests) == 11 and sleeps.calls == [2] * 10
    assert info.value.retry_after_seconds == 2


def test_5xx_without_retry_after_is_not_retried(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(500, b"boom", Content_Type="text/plain")
    with pytest.raises(StatusError) as info:
        make_client(server).get().abs_path("/a").do()
    assert is_internal_error(info.value) and len(server.requests) == 1


def test_final_error_notes_the_previous_attempt(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(429, b"", Retry_After="0")
    server.reply(500, b"final", Content_Type="text/plain")
    with pytest.raises(StatusError) as info:
        make_client(server).get().abs_path("/a").do()
    assert "final" in str(info.value)
    assert any("previous attempt" in note for note in info.value.__notes__)


def test_connection_reset_is_retried_for_get(
    server: LoopbackServer, make_client: MakeClient, sleeps: Sleeps
) -> None:
    server.reply_reset()
    server.reply_reset()
    server.reply(200, b"{}")
    assert make_client(server).get().abs_path("/a").do().status_code == 200
    assert len(server.requests) == 3 and sleeps.calls == [1.0, 1.0]


def test_connection_reset_is_not_retried_for_post(
    server: LoopbackServer, make_client: MakeClient, sleeps: Sleeps
) -> None:
    server.reply_reset()
    server.reply(200, b"{}")
    with pytest.raises(requests.ConnectionError):
        make_client(server).post().abs_path("/a").body(b"{}").do()
    assert len(server.requests) == 1 and sleeps.calls == []


def test_streamed_bodies_are_never_retried(
    server: LoopbackServer, make_client: MakeClient, tmp_path: Path
) -> None:
    server.reply(429, b"", Retry_After="0")
    path = tmp_path / "b"
    path.write_bytes(b"streamed")
    with path.open("rb") as f, pytest.raises(StatusError):
        make_client(server).post().abs_path("/a").body(f).do()
    assert len(server.requests) == 1 and server.requests[0].body == b"streamed"


def test_token_bucket_allows_burst_then_qps() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, 3, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        bucket.wait()
    assert clock.sleeps == [0.5, 0.5]
    clock.now += 10  # refills up to the burst only
    for _ in range(4):
        bucket.wait()
    assert clock.sleeps == [0.5, 0.5, 0.5]


def test_client_requests_are_throttled(server: LoopbackServer) -> None:
    clock = FakeClock()
    for _ in range(4):
        server.reply(200, b"{}")
    with RESTClient(
        Config(host=server.url, qps=1, burst=2), clock=clock, sleep=clock.sleep
    ) as client:
        for _ in range(4):
            client.get().abs_path("/a").do()
    assert clock.sleeps == [1.0, 1.0]


def test_backoff_is_off_unless_both_variables_are_integers() -> None:
    assert backoff_from_env({}) is None
    assert backoff_from_env({"KUBE_CLIENT_BACKOFF_BASE": "1"}) is None
    assert (
        backoff_from_env({"KUBE_CLIENT_BACKOFF_BASE": "1", "KUBE_CLIENT_BACKOFF_DURATION": "x"})
        is None
    )
    backoff = backoff_from_env(
        {"KUBE_CLIENT_BACKOFF_BASE": "2", "KUBE_CLIENT_BACKOFF_DURATION": "5"}
    )
    assert backoff is not None and (backoff.base, backoff.cap) == (2, 5)


def test_url_backoff_doubles_per_server_and_resets() -> None:
    clock = FakeClock()
    backoff = URLBackoff(1, 8, clock=clock)
    for _ in range(5):
        backoff.update("https://a:1/x", 503)
    assert backoff.delay("https://a:1/other") == 8 and backoff.delay("https://b/x") == 0
    backoff.update("https://a:1/x", 404)
    assert backoff.delay("https://a:1/x") == 0
    backoff.update("https://a:1/x", 429)
    clock.now += 17  # untouched for longer than twice the cap: starts over
    backoff.update("https://a:1/x", None)
    assert backoff.delay("https://a:1/x") == 1


def test_env_backoff_delays_requests_to_a_failing_server(
    server: LoopbackServer, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBE_CLIENT_BACKOFF_BASE", "2")
    monkeypatch.setenv("KUBE_CLIENT_BACKOFF_DURATION", "30")
    server.reply(503, b"", Retry_After="1")
    server.reply(503, b"")
    server.reply(200, b"{}")
    server.reply(200, b"{}")
    with RESTClient(Config(host=server.url, qps=-1), sleep=sleeps) as client:
        with pytest.raises(StatusError):
            client.get().abs_path("/a").do()  # 503 (retry after max(1, 2)), 503: fails
        client.get().abs_path("/a").do()  # waits the doubled backoff first, then succeeds
        client.get().abs_path("/a").do()  # success cleared the backoff
    assert sleeps.calls == [2, 4]


def test_retries_stop_when_the_wait_would_pass_the_timeout(server: LoopbackServer) -> None:
    clock = FakeClock()
    server.reply(503, b"", Retry_After="2")
    server.reply(503, b"", Retry_After="2")
    server.reply(200, b"{}")
    client = RESTClient(Config(host=server.url, qps=-1), clock=clock, sleep=clock.sleep)
    with client, pytest.raises(StatusError) as info:
        client.get().abs_path("/a").timeout(3).do()
    # 2 s fit in the 3 s timeout, the next 2 s would not: two attempts, one pause.
    assert info.value.code == 503 and len(server.requests) == 2 and clock.sleeps == [2]


def test_a_server_slower_than_the_timeout_times_out(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    release = threading.Event()

    def slow(request: object, handler: Handler) -> None:
        release.wait(timeout=10)
        handler.answer(Reply(200, b"{}"))

    server.handler = slow
    try:
        with pytest.raises(requests.Timeout):
            make_client(server, timeout=0.2).get().abs_path("/a").do()
    finally:
        release.set()
    assert server.requests[0].query["timeout"] == ["200ms"]
