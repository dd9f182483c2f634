"""TLS over real HTTPS on 127.0.0.1 with a trustme CA (4.12a): CA and client certificates as
files or data, the server name, and insecure mode."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import trustme
import urllib3

from kgen.rest import Config, RESTClient

from .helpers import FakeClock, Provider
from .server import LoopbackServer

MakeClient = Callable[..., RESTClient]


def _client_pair(ca: trustme.CA, who: str) -> tuple[bytes, bytes]:
    leaf = ca.issue_cert(who)
    return leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes()


def _subject(server: LoopbackServer, index: int = 0) -> str | None:
    peer = server.requests[index].peer_cert
    if not peer:
        return None
    return ",".join(value for _kind, value in peer.get("subjectAltName", ()))


def test_ca_data_verifies_the_server(
    tls_server: LoopbackServer, make_client: MakeClient, ca: trustme.CA
) -> None:
    tls_server.reply(200, b"{}")
    client = make_client(tls_server, ca_data=ca.cert_pem.bytes())
    assert client.get().abs_path("/a").do().status_code == 200


def test_scheme_defaults_to_https_when_tls_is_configured(
    tls_server: LoopbackServer, make_client: MakeClient, ca: trustme.CA
) -> None:
    tls_server.reply(200, b"{}")
    host = tls_server.url.removeprefix("https://")
    client = make_client(host, ca_data=ca.cert_pem.bytes())
    assert client.base_url.startswith("https://")
    client.get().abs_path("/a").do()


def test_ca_file_and_client_certificate_files(
    tls_server: LoopbackServer, make_client: MakeClient, ca: trustme.CA, tmp_path: Path
) -> None:
    cert, key = _client_pair(ca, "file-user@kgen.test")
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem.bytes())
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    tls_server.reply(200, b"{}")
    client = make_client(
        tls_server,
        ca_file=str(tmp_path / "ca.pem"),
        cert_file=str(tmp_path / "cert.pem"),
        key_file=str(tmp_path / "key.pem"),
    )
    client.get().abs_path("/a").do()
    assert _subject(tls_server) == "file-user@kgen.test"


def test_client_certificate_data_leaves_no_temporary_files(
    tls_server: LoopbackServer,
    make_client: MakeClient,
    ca: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    cert, key = _client_pair(ca, "data-user@kgen.test")
    tls_server.reply(200, b"{}")
    client = make_client(tls_server, ca_data=ca.cert_pem.bytes(), cert_data=cert, key_data=key)
    client.get().abs_path("/a").do()
    assert _subject(tls_server) == "data-user@kgen.test"
    assert os.listdir(tmp_path) == []


def test_unknown_ca_is_rejected(tls_server: LoopbackServer, make_client: MakeClient) -> None:
    other = trustme.CA()
    client = make_client(tls_server, ca_data=other.cert_pem.bytes())
    with pytest.raises(requests.exceptions.SSLError):
        client.get().abs_path("/a").max_retries(0).do()


def test_server_name_is_checked_instead_of_the_address(
    tls_server: LoopbackServer, make_client: MakeClient, ca: trustme.CA
) -> None:
    tls_server.reply(200, b"{}")
    good = make_client(tls_server, ca_data=ca.cert_pem.bytes(), tls_server_name="kgen.test")
    good.get().abs_path("/a").do()
    bad = make_client(tls_server, ca_data=ca.cert_pem.bytes(), tls_server_name="other.test")
    with pytest.raises(requests.exceptions.SSLError):
        bad.get().abs_path("/a").do()


def test_insecure_skips_verification_and_warns(
    tls_server: LoopbackServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        tls_server.reply(200, b"{}")
    with (
        caplog.at_level(logging.WARNING, logger="kgen"),
        warnings.catch_warnings(record=True) as seen,
    ):
        warnings.simplefilter("always")
        client = make_client(tls_server, insecure=True)
        for _ in range(3):
            assert client.get().abs_path("/a").do().status_code == 200
    assert [r.getMessage() for r in caplog.records] == [  # kgen's one warning, per client
        f"TLS verification of {tls_server.url} is disabled (Config.insecure, "
        "insecure-skip-tls-verify): its certificate is not checked"
    ]
    assert [
        w for w in seen if issubclass(w.category, urllib3.exceptions.InsecureRequestWarning)
    ] == []


def test_urllib3s_warning_is_silenced_in_kgens_sessions_only(
    tls_server: LoopbackServer, make_client: MakeClient
) -> None:
    tls_server.reply(200, b"{}")
    tls_server.reply(200, b"{}")
    make_client(tls_server, insecure=True).get().abs_path("/a").do()
    with warnings.catch_warnings(record=True) as seen, requests.Session() as own:
        warnings.simplefilter("always")
        assert own.get(tls_server.url + "/a", verify=False, timeout=10).status_code == 200
    assert [w.category for w in seen] == [urllib3.exceptions.InsecureRequestWarning]


def test_without_tls_settings_an_unknown_server_is_not_trusted(
    tls_server: LoopbackServer, make_client: MakeClient
) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        make_client(tls_server).get().abs_path("/a").do()


def test_auth_provider_client_certificate_rotates(
    tls_server: LoopbackServer, make_client: MakeClient, ca: trustme.CA
) -> None:
    provider = Provider(pair=_client_pair(ca, "first@kgen.test"))
    client = make_client(tls_server, ca_data=ca.cert_pem.bytes(), auth_provider=provider)
    for _ in range(3):
        tls_server.reply(200, b"{}")
    client.get().abs_path("/a").do()
    client.get().abs_path("/a").do()
    provider.pair = _client_pair(ca, "second@kgen.test")
    client.get().abs_path("/a").do()
    assert [_subject(tls_server, i) for i in range(3)] == [
        "first@kgen.test",
        "first@kgen.test",
        "second@kgen.test",
    ]


def test_client_certificate_files_are_reloaded_when_rotated(
    tls_server: LoopbackServer, ca: trustme.CA, tmp_path: Path
) -> None:
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"

    def install(who: str) -> None:
        cert, key = _client_pair(ca, who)
        cert_path.write_bytes(cert)
        key_path.write_bytes(key)

    install("before@kgen.test")
    clock = FakeClock()
    config = Config(
        host=tls_server.url,
        qps=-1,
        ca_data=ca.cert_pem.bytes(),
        cert_file=str(cert_path),
        key_file=str(key_path),
    )
    for _ in range(4):
        tls_server.reply(200, b"{}")
    with RESTClient(config, clock=clock) as client:
        client.get().abs_path("/a").do()
        install("after@kgen.test")
        clock.now += 10  # too early for a re-check
        client.get().abs_path("/a").do()
        clock.now += 300
        client.get().abs_path("/a").do()
        key_path.write_bytes(b"half-rotated garbage")  # an unloadable pair keeps the last good
        clock.now += 300
        client.get().abs_path("/a").do()
    assert [_subject(tls_server, i) for i in range(4)] == [
        "before@kgen.test",
        "before@kgen.test",
        "after@kgen.test",
        "after@kgen.test",
    ]


def test_https_through_a_connect_proxy(
    tls_server: LoopbackServer, server: LoopbackServer, make_client: MakeClient, ca: trustme.CA
) -> None:
    server.handler = lambda request, handler: handler.tunnel()  # the plain server is the proxy
    tls_server.reply(200, b"{}")
    client = make_client(tls_server, ca_data=ca.cert_pem.bytes(), proxy_url=server.url)
    client.get().abs_path("/through").do()
    assert [r.method for r in server.requests] == ["CONNECT"]
    assert server.requests[0].target == tls_server.url.removeprefix("https://")
    assert [r.path for r in tls_server.requests] == ["/through"]
