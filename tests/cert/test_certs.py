"""kgen.cert's keys, certificates and signing requests: what cryptography reads back, and a
real TLS handshake over 127.0.0.1 with a client that trusts only the generated CA."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kgen.cert import (
    CertKeyPair,
    encode_cert_pem,
    generate_self_signed_ca,
    generate_self_signed_cert_key,
    generate_serving_cert,
    make_csr,
    make_ec_private_key_pem,
    new_rsa_private_key,
    parse_certs_pem,
    parse_csr_pem,
    parse_private_key_pem,
    subject_name,
)

LOCALHOST = ipaddress.ip_address("127.0.0.1")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@pytest.fixture(scope="module")
def ca() -> CertKeyPair:
    return generate_self_signed_ca("kgen-test-ca", ["kgen"])


@pytest.fixture(scope="module")
def serving(ca: CertKeyPair) -> CertKeyPair:
    return generate_serving_cert(
        ca, "localhost", alternate_ips=["127.0.0.1", "::1"], alternate_dns=["api.kgen.test"]
    )


def test_self_signed_ca(ca: CertKeyPair) -> None:
    cert = parse_certs_pem(ca.cert_pem)[0]
    cert.verify_directly_issued_by(cert)
    assert cert.subject == cert.issuer == subject_name("kgen-test-ca", ["kgen"])
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "kgen"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.digital_signature and usage.key_encipherment
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["kgen-test-ca"]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert abs(lifetime - datetime.timedelta(days=3650)) < datetime.timedelta(minutes=1)
    assert abs(cert.not_valid_before_utc - _now()) < datetime.timedelta(minutes=1)
    key = parse_private_key_pem(ca.key_pem)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert 1 <= cert.serial_number < 2**63 - 1


def test_serving_cert_is_signed_by_the_ca(ca: CertKeyPair, serving: CertKeyPair) -> None:
    cert = parse_certs_pem(serving.cert_pem)[0]
    cert.verify_directly_issued_by(ca.cert)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost", "api.kgen.test"]
    assert sans.get_values_for_type(x509.IPAddress) == [LOCALHOST, ipaddress.ip_address("::1")]
    start = _now() - datetime.timedelta(hours=1)
    assert abs(cert.not_valid_before_utc - start) < datetime.timedelta(minutes=1)
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime == datetime.timedelta(days=365)


def test_an_ip_host_becomes_an_ip_san(ca: CertKeyPair) -> None:
    cert = generate_serving_cert(ca, "10.0.0.1", key=new_rsa_private_key()).cert
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.1")]
    assert sans.get_values_for_type(x509.DNSName) == []
    with pytest.raises(ValueError, match="'not-an-ip' is not an IP address"):
        generate_serving_cert(ca, "localhost", alternate_ips=["not-an-ip"])


@contextmanager
def _tls_server(cert_pem: bytes, key_pem: bytes) -> Iterator[int]:
    """A TLS server on 127.0.0.1 that completes one handshake per connection and says hi."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = Path(folder) / "tls.crt", Path(folder) / "tls.key"
        cert_file.write_bytes(cert_pem)
        key_file.write_bytes(key_pem)
        context.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.sendall(b"hi")
            except (ssl.SSLError, OSError):
                pass  # a client that rejected our certificate hangs up mid-handshake

    thread = threading.Thread(target=serve, name="tls-test-server")
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        thread.join(5)


def _hello(port: int, ca_pem: bytes, server_hostname: str) -> bytes:
    client = ssl.create_default_context(cadata=ca_pem.decode())
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        client.wrap_socket(raw, server_hostname=server_hostname) as conn,
    ):
        return conn.recv(2)


def test_tls_handshake_checks_dns_and_ip_sans(ca: CertKeyPair, serving: CertKeyPair) -> None:
    with _tls_server(serving.cert_pem, serving.key_pem) as port:
        assert _hello(port, ca.cert_pem, "localhost") == b"hi"
        assert _hello(port, ca.cert_pem, "api.kgen.test") == b"hi"
        assert _hello(port, ca.cert_pem, "127.0.0.1") == b"hi"
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            _hello(port, ca.cert_pem, "other.kgen.test")
        stranger = generate_self_signed_ca("stranger")
        with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
            _hello(port, stranger.cert_pem, "localhost")


def test_self_signed_cert_key_pair() -> None:
    chain_pem, key_pem = generate_self_signed_cert_key("localhost", ["127.0.0.1"], ["kgen.test"])
    leaf, ca = parse_certs_pem(chain_pem)
    leaf.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)
    assert (leaf.serial_number, ca.serial_number) == (1 + 1, 1)
    common_name = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert isinstance(common_name, str) and common_name.startswith("localhost@")
    assert ca.subject.rfc4514_string().startswith("CN=localhost-ca@")
    assert key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    key = parse_private_key_pem(key_pem)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert ca.not_valid_after_utc - ca.not_valid_before_utc == datetime.timedelta(days=365)
    with _tls_server(chain_pem, key_pem) as port:
        assert _hello(port, encode_cert_pem(ca), "kgen.test")
        assert _hello(port, encode_cert_pem(parse_certs_pem(chain_pem)[1]), "127.0.0.1")


def test_elliptic_key_pem() -> None:
    pem = make_ec_private_key_pem()
    assert pem.startswith(b"-----BEGIN EC PRIVATE KEY-----")
    key = parse_private_key_pem(pem)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


@pytest.mark.parametrize("rsa_key", [False, True])
def test_make_csr(rsa_key: bool) -> None:
    key = new_rsa_private_key() if rsa_key else parse_private_key_pem(make_ec_private_key_pem())
    subject = subject_name("system:node:worker-1", ["system:nodes"])
    pem = make_csr(key, subject, ["worker-1.kgen.test"], ["10.1.2.3"])
    assert pem.startswith(b"-----BEGIN CERTIFICATE REQUEST-----")
    request = parse_csr_pem(pem)
    assert request.is_signature_valid
    assert request.subject == subject
    assert request.public_key() == key.public_key()
    sans = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["worker-1.kgen.test"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.1.2.3")]


def test_csr_without_sans_has_no_san_extension() -> None:
    request = parse_csr_pem(
        make_csr(parse_private_key_pem(make_ec_private_key_pem()), subject_name("me"))
    )
    with pytest.raises(x509.ExtensionNotFound):
        request.extensions.get_extension_for_class(x509.SubjectAlternativeName)
