"""Getting a certificate through the API: ``certificates.k8s.io/v1`` CertificateSigningRequest.

:func:`request_certificate` creates the request (or reuses one of the same name that this key
signed); :func:`wait_for_certificate` watches it until a signer has issued the certificate
after an approver approved it, and fails clearly when it is denied, fails, is deleted, is
replaced by another request of the same name, or when the time is up. Both block the calling
thread on HTTP and are safe to call from any number of threads.
"""

from __future__ import annotations

import base64
import datetime
import math
import time
from collections.abc import Sequence
from typing import Any

from cryptography import x509

from kgen.cert._csr import parse_csr_pem
from kgen.cert._pem import PEMError, PrivateKey, parse_certs_pem
from kgen.client import GroupVersionResource
from kgen.dynamic import DynamicClient, DynamicResourceClient
from kgen.rest import ListOptions, RESTClient, StatusError, is_already_exists, is_gone

__all__ = [
    "CSR_RESOURCE",
    "CertificateDeniedError",
    "CertificateFailedError",
    "CertificateRequestError",
    "CertificateTimeoutError",
    "request_certificate",
    "wait_for_certificate",
]

CSR_RESOURCE = GroupVersionResource("certificates.k8s.io", "v1", "certificatesigningrequests")


class CertificateRequestError(RuntimeError):
    """The request ``name`` cannot give a certificate (see the message)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class _Decided(CertificateRequestError):
    verdict = ""

    def __init__(self, name: str, reason: str, message: str) -> None:
        super().__init__(
            name,
            f"certificate signing request {name!r} {self.verdict} "
            f"(reason: {reason or 'none'}, message: {message or 'none'})",
        )
        self.reason = reason
        self.message = message


class CertificateDeniedError(_Decided):
    """An approver denied the request; ``reason`` and ``message`` are the condition's."""

    verdict = "was denied"


class CertificateFailedError(_Decided):
    """The signer could not issue a certificate; ``reason`` and ``message`` are its."""

    verdict = "failed"


class CertificateTimeoutError(CertificateRequestError, TimeoutError):
    """No certificate was issued in time; the request stays on the server."""


def _csr_client(rest: RESTClient) -> DynamicResourceClient:
    return DynamicClient(rest).resource(CSR_RESOURCE)


def request_certificate(
    rest: RESTClient,
    csr_pem: bytes,
    name: str,
    signer_name: str,
    usages: Sequence[str],
    *,
    expiration: datetime.timedelta | None = None,
    private_key: PrivateKey | None = None,
) -> tuple[str, str]:
    """Create a CertificateSigningRequest for ``csr_pem`` (see :func:`~kgen.cert.make_csr`);
    returns its ``(name, uid)`` for :func:`wait_for_certificate`.

    ``name`` empty lets the server name it (``csr-`` prefix). ``usages`` are key usages
    (``"digital signature"``, ``"client auth"``, ...); ``expiration`` becomes
    ``spec.expirationSeconds`` (whole seconds). When a request of that ``name`` already exists
    it is reused if compatible: same subject, same signer, made by ``private_key``'s key pair
    (and any certificate it already carries is for that key); otherwise, or without
    ``private_key``, :class:`CertificateRequestError`. Other server errors propagate as
    :class:`kgen.rest.StatusError`.
    """
    mine = parse_csr_pem(csr_pem)
    spec: dict[str, Any] = {
        "request": base64.b64encode(csr_pem).decode(),
        "signerName": signer_name,
        "usages": list(usages),
    }
    if expiration is not None:
        spec["expirationSeconds"] = int(expiration.total_seconds())
    metadata = {"name": name} if name else {"generateName": "csr-"}
    body = {
        "apiVersion": CSR_RESOURCE.api_version,
        "kind": "CertificateSigningRequest",
        "metadata": metadata,
        "spec": spec,
    }
    client = _csr_client(rest)
    try:
        created = client.create(body)
    except StatusError as err:
        if not (is_already_exists(err) and name):
            raise
        created = client.get(name)
        _ensure_compatible(created, mine, signer_name, private_key)
    meta = created["metadata"]
    return str(meta["name"]), str(meta["uid"])


def _ensure_compatible(
    existing: dict[str, Any],
    mine: x509.CertificateSigningRequest,
    signer_name: str,
    private_key: PrivateKey | None,
) -> None:
    name = str(existing["metadata"]["name"])

    def incompatible(why: str) -> CertificateRequestError:
        return CertificateRequestError(
            name, f"certificate signing request {name!r} exists and cannot be reused: {why}"
        )

    if private_key is None:
        raise incompatible("no private key was given to check that it is ours")
    spec = existing.get("spec") or {}
    try:
        theirs = parse_csr_pem(base64.b64decode(str(spec.get("request", ""))))
    except (PEMError, ValueError) as err:
        raise incompatible(f"its spec.request does not parse ({err})") from None
    if theirs.subject != mine.subject:
        raise incompatible(
            f"subjects differ ({theirs.subject.rfc4514_string()!r} there, "
            f"{mine.subject.rfc4514_string()!r} here)"
        )
    theirs_signer = str(spec.get("signerName") or "")
    if signer_name and theirs_signer and theirs_signer != signer_name:
        raise incompatible(f"signer names differ ({theirs_signer!r} there, {signer_name!r} here)")
    if theirs.public_key() != private_key.public_key() or not theirs.is_signature_valid:
        raise incompatible("it was not signed by the given private key")
    issued = (existing.get("status") or {}).get("certificate")
    if issued:
        certs = parse_certs_pem(base64.b64decode(str(issued)))
        if certs[0].public_key() != private_key.public_key():
            raise incompatible("its issued certificate is for another key")


def _issued(csr: dict[str, Any], name: str, uid: str) -> bytes | None:
    """The certificate PEM once approved and issued, ``None`` while pending."""
    if csr["metadata"].get("uid") != uid:
        raise CertificateRequestError(
            name, f"certificate signing request {name!r} was replaced (its uid changed)"
        )
    status = csr.get("status") or {}
    approved = False
    for condition in status.get("conditions") or ():
        kind = condition.get("type")
        reason, message = str(condition.get("reason", "")), str(condition.get("message", ""))
        if kind == "Denied":
            raise CertificateDeniedError(name, reason, message)
        if kind == "Failed":
            raise CertificateFailedError(name, reason, message)
        approved = approved or kind == "Approved"
    certificate = status.get("certificate")
    return base64.b64decode(str(certificate)) if approved and certificate else None


def wait_for_certificate(rest: RESTClient, name: str, uid: str, *, timeout: float) -> bytes:
    """Block until request ``name`` (with ``uid``) is approved and issued; its certificate PEM.

    Lists then watches the one request (a field selector on its name), listing again when the
    watch's resource version expires. Raises :class:`CertificateDeniedError`,
    :class:`CertificateFailedError`, :class:`CertificateRequestError` (deleted, or replaced by
    a request with another uid) or, after ``timeout`` seconds, :class:`CertificateTimeoutError`.
    """
    client = _csr_client(rest)
    selector = f"metadata.name={name}"
    deadline = time.monotonic() + timeout
    version = ""
    while (left := deadline - time.monotonic()) > 0:
        if not version:
            listed = client.list_with(ListOptions(field_selector=selector))
            for item in listed.get("items") or ():
                if (certificate := _issued(item, name, uid)) is not None:
                    return certificate
            version = str(listed["metadata"]["resourceVersion"])
        options = ListOptions(
            field_selector=selector,
            resource_version=version,
            timeout_seconds=max(1, math.ceil(left)),
            allow_watch_bookmarks=True,
        )
        try:
            with client.watch_with(options) as events:
                for event in events:
                    version = str(event.object["metadata"]["resourceVersion"])
                    if event.type == "DELETED":
                        raise CertificateRequestError(
                            name, f"certificate signing request {name!r} was deleted"
                        )
                    if event.type in ("ADDED", "MODIFIED") and (
                        certificate := _issued(event.object, name, uid)
                    ):
                        return certificate
                    if time.monotonic() >= deadline:
                        break
        except StatusError as err:
            if not is_gone(err):
                raise
            version = ""
    raise CertificateTimeoutError(
        name, f"no certificate was issued for {name!r} within {timeout:g} seconds"
    )
