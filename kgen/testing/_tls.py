"""The test server's TLS context, and what is wrong when OpenSSL refuses a certificate and key.

OpenSSL reports a bad pair as ``[SSL] PEM lib`` or ``KEY_VALUES_MISMATCH`` without saying which
of the two is at fault. :func:`serving_context` loads the pair into a fresh
:class:`ssl.SSLContext` and, only when OpenSSL refuses it, reads both with ``cryptography`` to
name the bad part: a certificate that is not a PEM certificate, a key that is not a PEM private
key or is encrypted, or a key that belongs to another certificate. Whatever OpenSSL accepts is
served, so no key type it supports is turned away here. :func:`self_signed_pair` makes a pair
(and the CA that signs it) for a server that has none.
"""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization

from kgen.cert import PEMError, generate_self_signed_ca, generate_serving_cert, parse_certs_pem

__all__ = ["ServingPairError", "self_signed_pair", "serving_context"]

Part = Literal["certificate", "key"]


class ServingPairError(ValueError):
    """A serving certificate and key OpenSSL will not serve; ``part`` says which one is bad
    (``"certificate"`` or ``"key"``) and ``reason`` why, in words for the person who chose the
    files."""

    def __init__(self, part: Part, reason: str) -> None:
        self.part: Part = part
        self.reason = reason
        super().__init__(f"TLS {part}: {reason}")


def self_signed_pair(host: str) -> tuple[tuple[bytes, bytes], bytes]:
    """``((cert PEM, key PEM), CA PEM)``: a new CA and a serving certificate it signs for
    ``host``, ``127.0.0.1`` and ``localhost`` (P-256 keys, :mod:`kgen.cert`). Nothing is shared
    between calls."""
    ca = generate_self_signed_ca("kgen-testing-ca")
    ips = [ip for ip in ("127.0.0.1",) if ip != host]
    dns = [name for name in ("localhost",) if name != host]
    serving = generate_serving_cert(ca, host, alternate_ips=ips, alternate_dns=dns)
    return (serving.cert_pem, serving.key_pem), ca.cert_pem


def serving_context(
    cert_pem: bytes, key_pem: bytes, client_ca_pem: bytes | None = None
) -> ssl.SSLContext:
    """A server-side context serving ``cert_pem`` (the chain, leaf first) with ``key_pem``,
    asking for (not requiring) client certificates signed by ``client_ca_pem`` when given.

    Raises :class:`ServingPairError` naming the bad part when OpenSSL refuses the pair. A new
    context each call; nothing is shared or mutated."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        try:
            context.load_cert_chain(cert, key, password=b"")  # b"": never prompt on a tty
        except ssl.SSLError as err:
            raise _diagnose(cert_pem, key_pem, err) from None
    if client_ca_pem:
        context.load_verify_locations(cadata=client_ca_pem.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def _diagnose(cert_pem: bytes, key_pem: bytes, err: ssl.SSLError) -> ServingPairError:
    try:
        leaf = parse_certs_pem(cert_pem)[0]
    except PEMError as bad:
        return ServingPairError("certificate", f"not a PEM certificate: {bad}")
    if b"-----BEGIN" not in key_pem:
        return ServingPairError("key", "not a PEM private key: no '-----BEGIN' line")
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        return ServingPairError("key", "the private key is encrypted; give an unencrypted key")
    except ValueError as bad:
        first = str(bad).split(". ")[0].rstrip(".")  # cryptography's first sentence
        return ServingPairError("key", f"not a PEM private key ({first})")
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*raw) != leaf.public_key().public_bytes(*raw):
        subject = leaf.subject.rfc4514_string() or "(empty subject)"
        return ServingPairError(
            "key", f"does not match the certificate (subject {subject}): it is another key"
        )
    return ServingPairError("certificate", f"OpenSSL refuses the pair: {err.reason or err}")
