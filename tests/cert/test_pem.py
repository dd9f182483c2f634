"""kgen.cert's PEM parsing: every way PEM data can be wrong gives a PEMError that names the
block and what is wrong with it; keys in every form client-go reads are read."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from kgen.cert import (
    PEMError,
    certs_from_file,
    generate_self_signed_ca,
    new_ec_private_key,
    new_rsa_private_key,
    parse_certs_pem,
    parse_csr_pem,
    parse_private_key_pem,
    pem_blocks,
    private_key_from_file,
    write_cert,
    write_key,
)

CA = generate_self_signed_ca("pem-test")


def _block(kind: str, body: bytes, headers: str = "") -> bytes:
    encoded = base64.encodebytes(body).decode()
    return f"-----BEGIN {kind}-----\n{headers}{encoded}-----END {kind}-----\n".encode()


def test_blocks_keep_order_headers_and_ignore_text_between() -> None:
    data = b"leading text\n" + CA.cert_pem + b"comment\n" + _block("X", b"\x01", "A: b\n\n")
    first, second = pem_blocks(data)
    assert (first.type, first.index, second.type, second.index) == ("CERTIFICATE", 1, "X", 2)
    assert second.headers == {"A": "b"} and second.der == b"\x01"


def test_several_certificates_and_other_blocks_skipped() -> None:
    other = generate_self_signed_ca("other")
    data = CA.key_pem + CA.cert_pem + other.cert_pem
    assert [c.subject for c in parse_certs_pem(data)] == [CA.cert.subject, other.cert.subject]
    assert parse_certs_pem(CA.cert_pem.decode())[0] == CA.cert


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"no CERTIFICATE block in the PEM data \(found: no PEM block at all\)"),
        (b"just some text", "found: no PEM block at all"),
        (CA.key_pem, r"no CERTIFICATE block in the PEM data \(found: EC PRIVATE KEY\)"),
        (
            CA.cert_pem + _block("CERTIFICATE", b"not der"),
            r"PEM block 2 \(CERTIFICATE\): not a valid X.509 certificate",
        ),
        (
            CA.cert_pem.replace(b"-----END CERTIFICATE-----", b""),
            r"PEM block 1 \(CERTIFICATE\): no '-----END CERTIFICATE-----' line",
        ),
        (
            b"-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n",
            r"PEM block 1 \(CERTIFICATE\): the body is not valid base64",
        ),
        (
            b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            r"PEM block 1 \(CERTIFICATE\): the body is empty",
        ),
    ],
)
def test_bad_certificate_pem(data: bytes, message: str) -> None:
    with pytest.raises(PEMError, match=message):
        parse_certs_pem(data)


def test_every_key_form_client_go_reads() -> None:
    for key in (new_ec_private_key(), new_rsa_private_key()):
        for form in (
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.PrivateFormat.PKCS8,
        ):
            pem = key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption())
            assert parse_private_key_pem(pem).private_numbers() == key.private_numbers()


def test_ec_parameters_before_the_key_are_tolerated() -> None:
    params = _block("EC PARAMETERS", bytes.fromhex("06082a8648ce3d030107"))  # prime256v1
    key = parse_private_key_pem(params + CA.key_pem)
    assert isinstance(key, ec.EllipticCurvePrivateKey)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no RSA or ECDSA private key in the PEM data: no PEM block at all"),
        (CA.cert_pem, r"PEM block 1 \(CERTIFICATE\) is not a private key"),
        (
            CA.cert_pem + _block("EC PRIVATE KEY", b"garbage"),
            r"PEM block 1 \(CERTIFICATE\) is not a private key; "
            r"PEM block 2 \(EC PRIVATE KEY\) does not parse",
        ),
        (
            _block("RSA PRIVATE KEY", b"x", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n"),
            r"PEM block 1 \(RSA PRIVATE KEY\) is encrypted",
        ),
        (
            ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            r"PEM block 1 \(PRIVATE KEY\) holds a .*Ed25519PrivateKey, not RSA or ECDSA",
        ),
        (
            # an RSA key under an EC header is not taken for what the header says
            _block(
                "EC PRIVATE KEY",
                new_rsa_private_key().private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.TraditionalOpenSSL,
                    serialization.NoEncryption(),
                ),
            ),
            r"PEM block 1 \(EC PRIVATE KEY\) holds a .*RSAPrivateKey",
        ),
    ],
)
def test_bad_key_pem(data: bytes, message: str) -> None:
    with pytest.raises(PEMError, match=message):
        parse_private_key_pem(data)


def test_bad_csr_pem() -> None:
    with pytest.raises(PEMError, match=r"no CERTIFICATE REQUEST block .*found: CERTIFICATE"):
        parse_csr_pem(CA.cert_pem)
    with pytest.raises(PEMError, match=r"PEM block 1 \(CERTIFICATE REQUEST\): not a valid"):
        parse_csr_pem(_block("CERTIFICATE REQUEST", b"nope"))


def test_files_round_trip_with_client_go_modes(tmp_path: Path) -> None:
    cert_path, key_path = tmp_path / "pki" / "ca.crt", tmp_path / "pki" / "private" / "ca.key"
    write_cert(cert_path, CA.cert_pem)
    write_key(key_path, CA.key_pem)
    assert stat.S_IMODE(cert_path.stat().st_mode) == 0o644
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.parent.stat().st_mode) & 0o700 == 0o700
    assert certs_from_file(cert_path) == [CA.cert]
    assert private_key_from_file(key_path).private_numbers() == CA.key.private_numbers()
    key_path.chmod(0o644)
    write_key(key_path, CA.key_pem)  # an existing key file is tightened too
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_file_errors_name_the_file_and_the_block(tmp_path: Path) -> None:
    bad = tmp_path / "tls.crt"
    write_cert(bad, CA.cert_pem + _block("CERTIFICATE", b"broken"))
    with pytest.raises(PEMError, match=r"tls\.crt: PEM block 2 \(CERTIFICATE\): not a valid"):
        certs_from_file(bad)
    with pytest.raises(PEMError, match=r"tls\.crt: no RSA or ECDSA private key"):
        private_key_from_file(bad)
    with pytest.raises(FileNotFoundError):
        certs_from_file(tmp_path / "missing.crt")
