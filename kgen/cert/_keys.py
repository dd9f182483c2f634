"""Private keys as client-go's ``keyutil`` makes them: ECDSA on P-256, and RSA 2048 where
client-go uses RSA (the self-signed serving pair)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kgen.cert._pem import encode_private_key_pem

__all__ = ["RSA_KEY_SIZE", "make_ec_private_key_pem", "new_ec_private_key", "new_rsa_private_key"]

RSA_KEY_SIZE = 2048


def new_ec_private_key() -> ec.EllipticCurvePrivateKey:
    """A new ECDSA key on the NIST P-256 curve."""
    return ec.generate_private_key(ec.SECP256R1())


def new_rsa_private_key(bits: int = RSA_KEY_SIZE) -> rsa.RSAPrivateKey:
    """A new RSA key (2048 bits unless told), public exponent 65537."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_ec_private_key_pem() -> bytes:
    """A new P-256 key as an ``EC PRIVATE KEY`` PEM block."""
    return encode_private_key_pem(new_ec_private_key())
