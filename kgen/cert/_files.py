"""Certificates and keys on disk, as client-go's ``cert.CertsFromFile``, ``cert.WriteCert``,
``keyutil.PrivateKeyFromFile`` and ``keyutil.WriteKey`` keep them.

Readers raise :class:`~kgen.cert.PEMError` prefixed with the file's path (an unreadable file is
the ``OSError`` itself). Writers create missing parent folders (mode 0755) and leave the file
with mode 0644 for certificates, 0600 for keys, whatever it had before.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509

from kgen.cert._pem import PEMError, PrivateKey, parse_certs_pem, parse_private_key_pem

__all__ = ["certs_from_file", "private_key_from_file", "write_cert", "write_key"]

StrPath = str | os.PathLike[str]


def certs_from_file(path: StrPath) -> list[x509.Certificate]:
    """Every certificate in the PEM file ``path`` (see :func:`~kgen.cert.parse_certs_pem`)."""
    try:
        return parse_certs_pem(Path(path).read_bytes())
    except PEMError as err:
        raise PEMError(f"{os.fspath(path)}: {err}") from None


def private_key_from_file(path: StrPath) -> PrivateKey:
    """The private key in the PEM file ``path`` (see :func:`~kgen.cert.parse_private_key_pem`)."""
    try:
        return parse_private_key_pem(Path(path).read_bytes())
    except PEMError as err:
        raise PEMError(f"{os.fspath(path)}: {err}") from None


def _write(path: StrPath, data: bytes, mode: int) -> None:
    target = Path(path)
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as out:
        os.fchmod(out.fileno(), mode)
        out.write(data)


def write_cert(path: StrPath, data: bytes) -> None:
    """Write certificate PEM ``data`` to ``path`` (mode 0644)."""
    _write(path, data, 0o644)


def write_key(path: StrPath, data: bytes) -> None:
    """Write private key PEM ``data`` to ``path`` (mode 0600; chmod before any byte is written)."""
    _write(path, data, 0o600)
