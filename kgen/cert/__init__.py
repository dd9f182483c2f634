"""kgen.cert: keys, certificates and signing requests, as client-go's ``util/cert`` and
``util/keyutil`` make them, on ``cryptography``.

Public surface: keys (:func:`new_ec_private_key`, :func:`new_rsa_private_key`,
:func:`make_ec_private_key_pem`), certificates (:func:`generate_self_signed_ca`,
:func:`generate_serving_cert`, :func:`generate_self_signed_cert_key`, :class:`CertKeyPair`,
:func:`subject_name`), signing requests (:func:`make_csr`, :func:`parse_csr_pem`), PEM
(:func:`parse_certs_pem`, :func:`parse_private_key_pem`, :func:`encode_cert_pem`,
:func:`encode_private_key_pem`, :func:`pem_blocks`, :class:`PEMError`), files
(:func:`certs_from_file`, :func:`private_key_from_file`, :func:`write_cert`,
:func:`write_key`), and the CertificateSigningRequest flow of client-go's
``util/certificate/csr`` (:func:`request_certificate`, :func:`wait_for_certificate` and their
errors).
"""

from kgen.cert._certs import (
    CA_VALIDITY,
    CLOCK_SKEW,
    SERVING_VALIDITY,
    CertKeyPair,
    IPLike,
    generate_self_signed_ca,
    generate_self_signed_cert_key,
    generate_serving_cert,
    subject_name,
)
from kgen.cert._csr import make_csr, parse_csr_pem
from kgen.cert._files import certs_from_file, private_key_from_file, write_cert, write_key
from kgen.cert._keys import (
    RSA_KEY_SIZE,
    make_ec_private_key_pem,
    new_ec_private_key,
    new_rsa_private_key,
)
from kgen.cert._pem import (
    PEMBlock,
    PEMError,
    PrivateKey,
    encode_cert_pem,
    encode_private_key_pem,
    parse_certs_pem,
    parse_private_key_pem,
    pem_blocks,
)
from kgen.cert._request import (
    CSR_RESOURCE,
    CertificateDeniedError,
    CertificateFailedError,
    CertificateRequestError,
    CertificateTimeoutError,
    request_certificate,
    wait_for_certificate,
)

__all__ = [
    "CA_VALIDITY",
    "CLOCK_SKEW",
    "CSR_RESOURCE",
    "RSA_KEY_SIZE",
    "SERVING_VALIDITY",
    "CertKeyPair",
    "CertificateDeniedError",
    "CertificateFailedError",
    "CertificateRequestError",
    "CertificateTimeoutError",
    "IPLike",
    "PEMBlock",
    "PEMError",
    "PrivateKey",
    "certs_from_file",
    "encode_cert_pem",
    "encode_private_key_pem",
    "generate_self_signed_ca",
    "generate_self_signed_cert_key",
    "generate_serving_cert",
    "make_csr",
    "make_ec_private_key_pem",
    "new_ec_private_key",
    "new_rsa_private_key",
    "parse_certs_pem",
    "parse_csr_pem",
    "parse_private_key_pem",
    "pem_blocks",
    "private_key_from_file",
    "request_certificate",
    "subject_name",
    "wait_for_certificate",
    "write_cert",
    "write_key",
]
