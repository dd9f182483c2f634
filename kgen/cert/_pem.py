"""PEM: reading blocks, and parsing certificates and private keys out of them.

A PEM document is any number of ``-----BEGIN <TYPE>-----`` ... ``-----END <TYPE>-----``
blocks, each with optional ``Key: value`` headers and a base64 body; text between blocks is
ignored. Every error is a :class:`PEMError` naming the block (its position, counting from 1,
and its type) and what is wrong with it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = [
    "PEMBlock",
    "PEMError",
    "PrivateKey",
    "encode_cert_pem",
    "encode_private_key_pem",
    "parse_certs_pem",
    "parse_private_key_pem",
    "pem_blocks",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
"""The private keys kgen.cert makes and reads: RSA and ECDSA."""

CERTIFICATE = "CERTIFICATE"
_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "EC PRIVATE KEY": (ec.EllipticCurvePrivateKey,),
    "RSA PRIVATE KEY": (rsa.RSAPrivateKey,),
    "PRIVATE KEY": (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey),
}
_BEGIN = re.compile(rb"^-----BEGIN ([^\r\n]*?)-----[ \t\r]*$", re.MULTILINE)


class PEMError(ValueError):
    """PEM data that does not hold what was asked for; the message says which block and why."""


@dataclass(frozen=True)
class PEMBlock:
    """One block: ``type`` (``CERTIFICATE``), its ``headers`` and its decoded ``der`` bytes;
    ``index`` is its position in the document, from 1."""

    type: str
    headers: dict[str, str]
    der: bytes
    index: int

    def describe(self) -> str:
        return f"PEM block {self.index} ({self.type})"


def pem_blocks(data: bytes | str) -> list[PEMBlock]:
    """Every block of ``data`` in order; a block without its END line or whose body is not
    base64 is a :class:`PEMError`."""
    raw = data.encode() if isinstance(data, str) else data
    blocks: list[PEMBlock] = []
    position = 0
    while (begin := _BEGIN.search(raw, position)) is not None:
        kind = begin.group(1).decode("ascii", "replace")
        where = f"PEM block {len(blocks) + 1} ({kind})"
        end_line = b"-----END " + begin.group(1) + b"-----"
        end = raw.find(end_line, begin.end())
        if end < 0:
            raise PEMError(f"{where}: no '-----END {kind}-----' line")
        lines = [line.strip() for line in raw[begin.end() : end].splitlines()]
        headers: dict[str, str] = {}
        while lines and (not lines[0] or b":" in lines[0]):
            line = lines.pop(0)
            if line:
                key, _, value = line.decode("ascii", "replace").partition(":")
                headers[key.strip()] = value.strip()
        try:
            der = base64.b64decode(b"".join(lines), validate=True)
        except binascii.Error as err:
            raise PEMError(f"{where}: the body is not valid base64 ({err})") from None
        if not der:
            raise PEMError(f"{where}: the body is empty")
        blocks.append(PEMBlock(kind, headers, der, len(blocks) + 1))
        position = end + len(end_line)
    return blocks


def _found(blocks: list[PEMBlock]) -> str:
    return ", ".join(b.type for b in blocks) if blocks else "no PEM block at all"


def parse_certs_pem(data: bytes | str) -> list[x509.Certificate]:
    """Every ``CERTIFICATE`` block of ``data``, in order; other blocks are skipped.

    Errors: no certificate block at all, or a certificate block that is not a valid X.509
    certificate (the block is named).
    """
    blocks = pem_blocks(data)
    certs: list[x509.Certificate] = []
    for block in blocks:
        if block.type != CERTIFICATE:
            continue
        try:
            certs.append(x509.load_der_x509_certificate(block.der))
        except ValueError as err:
            raise PEMError(f"{block.describe()}: not a valid X.509 certificate ({err})") from None
    if not certs:
        raise PEMError(f"no CERTIFICATE block in the PEM data (found: {_found(blocks)})")
    return certs


def parse_private_key_pem(data: bytes | str) -> PrivateKey:
    """The first RSA or ECDSA private key of ``data``: an ``EC PRIVATE KEY`` (SEC 1),
    ``RSA PRIVATE KEY`` (PKCS #1) or ``PRIVATE KEY`` (PKCS #8) block.

    Other blocks (``EC PARAMETERS``, certificates) are skipped; when no block gives a key the
    error lists every block and why it gave none.
    """
    blocks = pem_blocks(data)
    reasons: list[str] = []
    for block in blocks:
        expected = _KEY_TYPES.get(block.type)
        if expected is None:
            reasons.append(f"{block.describe()} is not a private key")
            continue
        if "DEK-Info" in block.headers or "ENCRYPTED" in block.headers.get("Proc-Type", ""):
            reasons.append(f"{block.describe()} is encrypted")
            continue
        try:
            key = serialization.load_der_private_key(block.der, password=None)
        except (ValueError, TypeError) as err:
            reasons.append(f"{block.describe()} does not parse ({err})")
            continue
        if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) and isinstance(
            key, expected
        ):
            return key
        reasons.append(f"{block.describe()} holds a {type(key).__name__}, not RSA or ECDSA")
    detail = "; ".join(reasons) if reasons else "no PEM block at all"
    raise PEMError(f"no RSA or ECDSA private key in the PEM data: {detail}")


def encode_cert_pem(cert: x509.Certificate) -> bytes:
    """``cert`` as one ``CERTIFICATE`` block."""
    return cert.public_bytes(serialization.Encoding.PEM)


def encode_private_key_pem(key: PrivateKey) -> bytes:
    """``key`` unencrypted: ``EC PRIVATE KEY`` (SEC 1) or ``RSA PRIVATE KEY`` (PKCS #1)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
