"""TLS of AsyncRESTClient against kgen.testing.APIServer: the server name checked instead of the
address, an unknown CA refused, insecure mode, client certificates (data and rotated files)
authenticating without a token. The TLS context is the sync client's (``TLSSettings``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import trustme

from kgen.rest import Config, StatusError, is_forbidden
from kgen.rest._transport import CERT_FILE_RECHECK
from kgen.rest.aio import AsyncRESTClient
from kgen.testing import APIServer, Rule
from tests.testing.conftest import small_model

from .conftest import run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


@pytest.fixture(scope="module")
def named(ca: trustme.CA) -> Iterator[APIServer]:
    """A server whose certificate names only ``kgen.test``; client certificates accepted;
    only ``kgen-admin`` may do anything."""
    cert = ca.issue_cert("kgen.test")
    with APIServer(
        small_model(),
        tls=(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()),
        ca_pem=ca.cert_pem.bytes(),
        client_ca_pem=ca.cert_pem.bytes(),
        rules=[Rule(users=("kgen-admin",))],
    ) as running:
        yield running


def namespaces(config: Config) -> int:
    async def main() -> int:
        async with AsyncRESTClient(config) as client:
            result = await client.get().group_version("", "v1").resource("namespaces").do()
            return result.status_code

    return run(main)


def test_the_server_name_is_checked_instead_of_the_address(named: APIServer) -> None:
    config = Config(host=named.url, ca_data=named.ca_pem or b"", bearer_token=named.token, qps=-1)
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        namespaces(config)
    config.tls_server_name = "kgen.test"
    assert namespaces(config) == 200


def test_an_unknown_ca_is_refused_and_insecure_skips_the_check(named: APIServer) -> None:
    other = trustme.CA()
    config = Config(
        host=named.url, ca_data=other.cert_pem.bytes(), bearer_token=named.token, qps=-1
    )
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        namespaces(config)
    assert (
        namespaces(Config(host=named.url, insecure=True, bearer_token=named.token, qps=-1)) == 200
    )


def test_client_certificates_authenticate_and_rotated_files_are_picked_up(
    named: APIServer, ca: trustme.CA, tmp_path: Path
) -> None:
    admin = ca.issue_cert("kgen-admin@example.com", common_name="kgen-admin")
    base = Config(host=named.url, ca_data=named.ca_pem or b"", tls_server_name="kgen.test", qps=-1)
    with_data = base.copy()
    with_data.cert_data = admin.cert_chain_pems[0].bytes()
    with_data.key_data = admin.private_key_pem.bytes()
    assert namespaces(with_data) == 200

    nobody = ca.issue_cert("nobody@example.com", common_name="nobody")
    cert_file, key_file = tmp_path / "client.crt", tmp_path / "client.key"
    cert_file.write_bytes(nobody.cert_chain_pems[0].bytes())
    key_file.write_bytes(nobody.private_key_pem.bytes())
    from_files = base.copy()
    from_files.cert_file, from_files.key_file = str(cert_file), str(key_file)
    now = [0.0]

    async def main() -> None:
        async with AsyncRESTClient(from_files, clock=lambda: now[0]) as client:
            request = client.get().group_version("", "v1").resource("namespaces")
            with pytest.raises(StatusError) as caught:
                await request.do()
            assert is_forbidden(caught.value)  # authenticated as "nobody"
            cert_file.write_bytes(admin.cert_chain_pems[0].bytes())
            key_file.write_bytes(admin.private_key_pem.bytes())
            now[0] += CERT_FILE_RECHECK
            again = client.get().group_version("", "v1").resource("namespaces")
            assert (await again.do()).status_code == 200  # a new connection, the new pair

    run(main)
