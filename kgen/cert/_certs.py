"""Certificates: a self-signed CA, serving certificates it signs, and client-go's one-call
self-signed serving pair.

Validity periods follow client-go: a CA made by :func:`generate_self_signed_ca` is valid for
ten years from now; serving certificates (and the CA of
:func:`generate_self_signed_cert_key`) for one year starting an hour ago, so that a peer whose
clock lags a little still accepts them. Serial numbers are random in ``[1, 2**63 - 1)``, except
in :func:`generate_self_signed_cert_key` (1 for its CA, 2 for its certificate, as client-go).
Values returned are new and immutable (``CertKeyPair`` is frozen; keys are cryptography's).
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kgen.cert._keys import new_ec_private_key, new_rsa_private_key
from kgen.cert._pem import PrivateKey, encode_cert_pem, encode_private_key_pem

__all__ = [
    "CA_VALIDITY",
    "CLOCK_SKEW",
    "SERVING_VALIDITY",
    "CertKeyPair",
    "IPLike",
    "generate_self_signed_ca",
    "generate_self_signed_cert_key",
    "generate_serving_cert",
    "parse_ips",
    "subject_name",
]

CA_VALIDITY = datetime.timedelta(days=3650)
SERVING_VALIDITY = datetime.timedelta(days=365)
CLOCK_SKEW = datetime.timedelta(hours=1)
"""How far back a serving certificate's validity starts."""

IPLike = str | ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class CertKeyPair:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> bytes:
        return encode_cert_pem(self.cert)

    @property
    def key_pem(self) -> bytes:
        """``EC PRIVATE KEY`` or ``RSA PRIVATE KEY``, unencrypted."""
        return encode_private_key_pem(self.key)


def subject_name(common_name: str, organization: Sequence[str] = ()) -> x509.Name:
    """``CN=<common_name>`` with one ``O=`` per organization (a Kubernetes user's groups)."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    attributes += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organization]
    return x509.Name(attributes)


def parse_ips(ips: Sequence[IPLike]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """``ips`` as addresses; a string that is not one is a ``ValueError`` naming it."""
    parsed = []
    for ip in ips:
        try:
            parsed.append(ip if not isinstance(ip, str) else ipaddress.ip_address(ip))
        except ValueError:
            raise ValueError(f"{ip!r} is not an IP address") from None
    return parsed


def _random_serial() -> int:
    return secrets.randbelow(2**63 - 2) + 1


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _sign(
    builder: x509.CertificateBuilder, key: PrivateKey, signer: CertKeyPair | None
) -> CertKeyPair:
    """Add the key identifiers and sign with ``signer`` (``None``: self-signed by ``key``)."""
    public = key.public_key()
    builder = builder.public_key(public).add_extension(
        x509.SubjectKeyIdentifier.from_public_key(public), critical=False
    )
    if signer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()),
            critical=False,
        )
    signing_key = key if signer is None else signer.key
    return CertKeyPair(builder.sign(signing_key, hashes.SHA256()), key)


def _ca(
    common_name: str,
    organization: Sequence[str],
    key: PrivateKey,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    serial: int,
) -> CertKeyPair:
    subject = subject_name(common_name, organization)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
    )
    return _sign(builder, key, None)


def generate_self_signed_ca(
    common_name: str,
    organization: Sequence[str] = (),
    *,
    key: PrivateKey | None = None,
    not_before: datetime.datetime | None = None,
) -> CertKeyPair:
    """A CA certificate signed by its own ``key`` (default: a new P-256 key).

    Subject ``CN=<common_name>`` (``O=`` per organization), the common name also as a DNS
    name; may sign certificates (key usage certSign, digitalSignature, keyEncipherment);
    valid from ``not_before`` (default now) until ten years from now.
    """
    now = _now()
    start = not_before.astimezone(datetime.UTC) if not_before else now
    return _ca(
        common_name,
        organization,
        key or new_ec_private_key(),
        start,
        now + CA_VALIDITY,
        _random_serial(),
    )


def _serving(
    ca: CertKeyPair,
    host: str,
    ips: Sequence[IPLike],
    dns_names: Sequence[str],
    key: PrivateKey,
    common_name: str,
    serial: int,
    not_before: datetime.datetime,
) -> CertKeyPair:
    addresses = parse_ips(ips)
    names = list(dns_names)
    try:
        addresses.insert(0, ipaddress.ip_address(host))
    except ValueError:
        names.insert(0, host)
    alternative: list[x509.GeneralName] = [x509.IPAddress(a) for a in addresses]
    alternative += [x509.DNSName(name) for name in names]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name(common_name))
        .issuer_name(ca.cert.subject)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_before + SERVING_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
    )
    return _sign(builder, key, ca)


def generate_serving_cert(
    ca: CertKeyPair,
    host: str,
    *,
    alternate_ips: Sequence[IPLike] = (),
    alternate_dns: Sequence[str] = (),
    key: PrivateKey | None = None,
) -> CertKeyPair:
    """A TLS server certificate for ``host`` signed by ``ca`` (key default: new P-256).

    ``host`` is a subject alternative name (an IP address SAN if it parses as one, else a DNS
    name) and the common name; ``alternate_ips`` and ``alternate_dns`` are added as SANs.
    Usage serverAuth; valid for one year starting an hour ago.
    """
    return _serving(
        ca,
        host,
        alternate_ips,
        alternate_dns,
        key or new_ec_private_key(),
        host,
        _random_serial(),
        _now() - CLOCK_SKEW,
    )


def generate_self_signed_cert_key(
    host: str, alternate_ips: Sequence[IPLike] = (), alternate_dns: Sequence[str] = ()
) -> tuple[bytes, bytes]:
    """client-go's self-signed serving pair: ``(certificate PEM, key PEM)``.

    A new RSA 2048 CA (``CN=<host>-ca@<unix time>``) signs an RSA 2048 serving certificate
    (``CN=<host>@<unix time>``, SANs as :func:`generate_serving_cert`); both are valid for a
    year starting an hour ago. The certificate PEM is the serving certificate followed by the
    CA, so a client that trusts the CA block can verify the chain; the key is ``RSA PRIVATE
    KEY``.
    """
    now = _now()
    start, stamp = now - CLOCK_SKEW, int(now.timestamp())
    ca = _ca(f"{host}-ca@{stamp}", (), new_rsa_private_key(), start, start + SERVING_VALIDITY, 1)
    leaf = _serving(
        ca,
        host,
        alternate_ips,
        alternate_dns,
        new_rsa_private_key(),
        f"{host}@{stamp}",
        2,
        start,
    )
    return leaf.cert_pem + ca.cert_pem, leaf.key_pem
