"""Credentials, impersonation, proxy and secret hygiene over real HTTP (4.12b/c, S78-S79 parts
that belong to the REST client)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from kgen.rest import (
    AuthProvider,
    Config,
    ImpersonationConfig,
    RESTClient,
    StatusError,
    is_unauthorized,
)

from .helpers import FakeClock, Provider
from .server import LoopbackServer

MakeClient = Callable[..., RESTClient]


def _auth(server: LoopbackServer) -> list[str | None]:
    return [r.headers.get("Authorization") for r in server.requests]


def test_bearer_token(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(200, b"{}")
    server.reply(200, b"{}")
    client = make_client(server, bearer_token="tok")
    client.get().abs_path("/a").do()
    client.get().abs_path("/a").header("Authorization", "Bearer own").do()
    assert _auth(server) == ["Bearer tok", "Bearer own"]


def test_basic_auth(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(200, b"{}")
    make_client(server, username="me", password="pw:x").get().abs_path("/a").do()
    assert _auth(server) == ["Basic " + base64.b64encode(b"me:pw:x").decode()]


def test_token_file_is_reread_after_fifty_seconds_and_survives_read_failures(
    server: LoopbackServer, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("a\n")
    clock = FakeClock()
    for _ in range(5):
        server.reply(200, b"{}")
    with RESTClient(
        Config(host=server.url, qps=-1, bearer_token_file=str(token)), clock=clock
    ) as client:
        client.get().abs_path("/a").do()
        token.write_text("b")
        clock.now += 49
        client.get().abs_path("/a").do()
        clock.now += 2
        client.get().abs_path("/a").do()
        token.unlink()
        clock.now += 60
        client.get().abs_path("/a").do()
        client.get().abs_path("/a").header("Authorization", "Bearer mine").do()
    assert _auth(server) == ["Bearer a", "Bearer a", "Bearer b", "Bearer b", "Bearer mine"]


def test_token_file_falls_back_to_the_static_token(
    server: LoopbackServer, make_client: MakeClient, tmp_path: Path
) -> None:
    server.reply(200, b"{}")
    client = make_client(server, bearer_token="static", bearer_token_file=str(tmp_path / "no"))
    client.get().abs_path("/a").do()
    assert _auth(server) == ["Bearer static"]


def test_empty_token_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "t").write_text("  \n")
    with pytest.raises(ValueError, match="is empty"):
        RESTClient(Config(bearer_token_file=str(tmp_path / "t")))


def test_impersonation_headers_are_repeated(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(200, b"{}")
    imp = ImpersonationConfig(
        user="alice",
        uid="u-1",
        groups=("dev", "ops"),
        extra={"scopes": ("view", "edit"), "a/b": ("c",)},
    )
    make_client(server, impersonate=imp).get().abs_path("/a").do()
    req = server.requests[0]
    assert req.header_values("Impersonate-User") == ["alice"]
    assert req.header_values("Impersonate-Uid") == ["u-1"]
    assert req.header_values("Impersonate-Group") == ["dev", "ops"]
    assert req.header_values("Impersonate-Extra-scopes") == ["view", "edit"]
    assert req.header_values("Impersonate-Extra-a%2Fb") == ["c"]


def test_provider_supplies_credentials_and_refreshes_after_401(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    provider = Provider()
    assert isinstance(provider, AuthProvider)
    server.reply(200, b"{}")
    server.reply(401, b"")
    server.reply(200, b"{}")
    client = make_client(server, auth_provider=provider)
    client.get().abs_path("/a").do()
    client.post().abs_path("/a").body(b"payload").do()
    assert _auth(server) == ["Bearer token1", "Bearer token1", "Bearer token2"]
    assert server.requests[2].body == b"payload"
    assert provider.unauthorized == 1


def test_provider_401_is_retried_once_only_and_not_when_declined(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(401, b"")
    server.reply(401, b"")
    with pytest.raises(StatusError) as info:
        make_client(server, auth_provider=Provider()).get().abs_path("/a").do()
    assert is_unauthorized(info.value) and len(server.requests) == 2
    server.reply(401, b"")
    declined = Provider(retry=False)
    with pytest.raises(StatusError):
        make_client(server, auth_provider=declined).get().abs_path("/a").do()
    assert len(server.requests) == 3 and declined.unauthorized == 1


def test_static_credentials_win_over_the_provider(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(401, b"")
    provider = Provider()
    with pytest.raises(StatusError):
        make_client(server, bearer_token="static", auth_provider=provider).get().abs_path("/a").do()
    assert _auth(server) == ["Bearer static"] and provider.unauthorized == 0


def test_proxy_url_routes_requests_through_the_proxy(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(200, b"{}")
    client = make_client("http://cluster.invalid:6443", proxy_url=server.url)
    client.get().group_version("", "v1").resource("pods").do()
    assert server.requests[0].target == "http://cluster.invalid:6443/api/v1/pods"


def test_secrets_never_reach_logs_reprs_or_errors(
    server: LoopbackServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.reply(429, b"", Retry_After="0")
    server.reply(403, b"denied", Content_Type="text/plain")
    client = make_client(server, bearer_token="SECRET-TOKEN", proxy_url="")
    with pytest.raises(StatusError) as info:
        client.get().abs_path("/a").do()
    basic = make_client(server, username="u", password="SECRET-PW")
    texts = [
        caplog.text,
        repr(client),
        repr(client.config),
        repr(basic.config),
        str(info.value),
        repr(info.value),
        *getattr(info.value, "__notes__", []),
    ]
    assert caplog.records, "expected the client to log the retry"
    for text in texts:
        assert "SECRET" not in text
