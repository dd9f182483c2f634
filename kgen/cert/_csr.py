"""Certificate signing requests (PKCS #10), as client-go's ``MakeCSR`` builds them."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from kgen.cert._certs import IPLike, parse_ips
from kgen.cert._pem import PEMError, PrivateKey, pem_blocks

__all__ = ["make_csr", "parse_csr_pem"]

CERTIFICATE_REQUEST = "CERTIFICATE REQUEST"


def make_csr(
    key: PrivateKey,
    subject: x509.Name,
    dns_names: Sequence[str] = (),
    ips: Sequence[IPLike] = (),
) -> bytes:
    """A ``CERTIFICATE REQUEST`` PEM block for ``subject`` (see
    :func:`~kgen.cert.subject_name`), signed by ``key`` with SHA-256; ``dns_names`` and
    ``ips`` become subject alternative names (none: no SAN extension)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    alternative: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alternative += [x509.IPAddress(ip) for ip in parse_ips(ips)]
    if alternative:
        builder = builder.add_extension(x509.SubjectAlternativeName(alternative), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def parse_csr_pem(data: bytes | str) -> x509.CertificateSigningRequest:
    """The first ``CERTIFICATE REQUEST`` block of ``data``; errors name the block."""
    blocks = pem_blocks(data)
    for block in blocks:
        if block.type != CERTIFICATE_REQUEST:
            continue
        try:
            return x509.load_der_x509_csr(block.der)
        except ValueError as err:
            raise PEMError(f"{block.describe()}: not a valid PKCS #10 request ({err})") from None
    found = ", ".join(b.type for b in blocks) if blocks else "no PEM block at all"
    raise PEMError(f"no CERTIFICATE REQUEST block in the PEM data (found: {found})")
