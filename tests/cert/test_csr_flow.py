"""The CertificateSigningRequest flow against kgen.testing's API server: kgen.cert requests a
certificate and waits; the test plays approver (the ``approval`` subresource) and signer
(``status.certificate`` through ``status``), or denies, or never answers."""

from __future__ import annotations

import base64
import datetime
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from client.apiserver import running_api
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kgen.cert import (
    CSR_RESOURCE,
    CertificateDeniedError,
    CertificateFailedError,
    CertificateRequestError,
    CertificateTimeoutError,
    CertKeyPair,
    PrivateKey,
    encode_cert_pem,
    generate_self_signed_ca,
    make_csr,
    new_ec_private_key,
    parse_certs_pem,
    parse_csr_pem,
    request_certificate,
    subject_name,
    wait_for_certificate,
)
from kgen.dynamic import DynamicClient, DynamicResourceClient
from kgen.rest import RESTClient, StatusError, is_invalid

SIGNER = "kubernetes.io/kube-apiserver-client"
USAGES = ("digital signature", "client auth")
_names = itertools.count()


@pytest.fixture(scope="module")
def ca() -> CertKeyPair:
    return generate_self_signed_ca("kgen-signer")


@pytest.fixture
def rest(specs_dir: Path) -> Iterator[RESTClient]:
    with running_api(specs_dir) as (_server, client):
        yield client


def _csrs(rest: RESTClient) -> DynamicResourceClient:
    return DynamicClient(rest).resource(CSR_RESOURCE)


def _request(rest: RESTClient, key: PrivateKey, name: str = "") -> tuple[str, str]:
    pem = make_csr(key, subject_name("alice", ["developers"]))
    return request_certificate(
        rest,
        pem,
        name or f"alice-{next(_names)}",
        SIGNER,
        USAGES,
        expiration=datetime.timedelta(hours=1, seconds=0.5),
        private_key=key,
    )


def _condition(kind: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": kind, "status": "True", "reason": reason, "message": message}


def _decide(rest: RESTClient, name: str, condition: dict[str, Any]) -> dict[str, Any]:
    """What ``kubectl certificate approve/deny`` does: PUT the approval subresource."""
    csr = _csrs(rest).get(name)
    csr.setdefault("status", {}).setdefault("conditions", []).append(condition)
    return _csrs(rest).update_subresource(name, "approval", csr, dict)


def _sign(rest: RESTClient, ca: CertKeyPair, name: str) -> bytes:
    """What a signer does: issue a certificate for the request's key into status.certificate."""
    csr = _csrs(rest).get(name)
    request = parse_csr_pem(base64.b64decode(csr["spec"]["request"]))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(request.subject)
        .issuer_name(ca.cert.subject)
        .public_key(request.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(seconds=csr["spec"]["expirationSeconds"]))
        .sign(ca.key, hashes.SHA256())
    )
    pem = encode_cert_pem(cert)
    csr["status"]["certificate"] = base64.b64encode(pem).decode()
    _csrs(rest).update_subresource(name, "status", csr, dict)
    return pem


def _later(action: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(0.3), action()), name="csr-approver")
    thread.start()
    return thread


def test_request_is_created_as_client_go_does(rest: RESTClient) -> None:
    key = new_ec_private_key()
    name, uid = _request(rest, key)
    stored = _csrs(rest).get(name)
    assert stored["metadata"]["uid"] == uid
    assert stored["spec"]["signerName"] == SIGNER
    assert stored["spec"]["usages"] == list(USAGES)
    assert stored["spec"]["expirationSeconds"] == 3600
    request = parse_csr_pem(base64.b64decode(stored["spec"]["request"]))
    assert request.public_key() == key.public_key()
    generated, _ = request_certificate(rest, make_csr(key, subject_name("bob")), "", SIGNER, USAGES)
    assert generated.startswith("csr-")


def test_approved_and_issued(rest: RESTClient, ca: CertKeyPair) -> None:
    key = new_ec_private_key()
    name, uid = _request(rest, key)

    def approve_then_sign() -> None:
        _decide(rest, name, _condition("Approved", "KgenTest", "approved by the test"))
        time.sleep(0.2)
        issued.append(_sign(rest, ca, name))

    issued: list[bytes] = []
    approver = _later(approve_then_sign)
    certificate = wait_for_certificate(rest, name, uid, timeout=10)
    approver.join()
    assert certificate == issued[0]
    cert = parse_certs_pem(certificate)[0]
    cert.verify_directly_issued_by(ca.cert)
    assert cert.public_key() == key.public_key()
    assert cert.subject == subject_name("alice", ["developers"])
    # already issued: the list answers at once
    assert wait_for_certificate(rest, name, uid, timeout=1) == certificate


def test_denied(rest: RESTClient) -> None:
    name, uid = _request(rest, new_ec_private_key())
    denier = _later(lambda: _decide(rest, name, _condition("Denied", "NotToday", "go away")))
    with pytest.raises(CertificateDeniedError, match=r"was denied.*NotToday.*go away") as caught:
        wait_for_certificate(rest, name, uid, timeout=10)
    denier.join()
    assert (caught.value.name, caught.value.reason) == (name, "NotToday")


def test_failed(rest: RESTClient) -> None:
    name, uid = _request(rest, new_ec_private_key())
    csr = _csrs(rest).get(name)
    csr["status"] = {"conditions": [_condition("Failed", "SignerBroke", "no key")]}
    _csrs(rest).update_subresource(name, "status", csr, dict)
    with pytest.raises(CertificateFailedError, match=r"failed.*SignerBroke"):
        wait_for_certificate(rest, name, uid, timeout=5)


def test_timeout(rest: RESTClient) -> None:
    name, uid = _request(rest, new_ec_private_key())
    _decide(rest, name, _condition("Approved", "KgenTest"))  # approved, never issued
    started = time.monotonic()
    with pytest.raises(CertificateTimeoutError, match=f"no certificate was issued for '{name}'"):
        wait_for_certificate(rest, name, uid, timeout=1)
    assert 1 <= time.monotonic() - started < 5


def test_deleted_and_replaced_requests(rest: RESTClient) -> None:
    key = new_ec_private_key()
    name, uid = _request(rest, key)
    deleter = _later(lambda: _csrs(rest).delete(name))
    with pytest.raises(CertificateRequestError, match="was deleted"):
        wait_for_certificate(rest, name, uid, timeout=10)
    deleter.join()
    _request(rest, key, name)
    with pytest.raises(CertificateRequestError, match="was replaced"):
        wait_for_certificate(rest, name, uid, timeout=5)


def test_an_existing_request_is_reused_only_when_compatible(rest: RESTClient) -> None:
    key = new_ec_private_key()
    name, uid = _request(rest, key)
    assert _request(rest, key, name) == (name, uid)
    with pytest.raises(CertificateRequestError, match="not signed by the given private key"):
        _request(rest, new_ec_private_key(), name)
    with pytest.raises(CertificateRequestError, match="subjects differ"):
        request_certificate(
            rest, make_csr(key, subject_name("mallory")), name, SIGNER, USAGES, private_key=key
        )
    with pytest.raises(CertificateRequestError, match="signer names differ"):
        request_certificate(
            rest,
            make_csr(key, subject_name("alice", ["developers"])),
            name,
            "example.com/other",
            USAGES,
            private_key=key,
        )


def test_server_keeps_approval_and_signing_apart(rest: RESTClient, ca: CertKeyPair) -> None:
    name, _uid = _request(rest, new_ec_private_key())
    # a signer cannot approve: status writes keep the stored Approved/Denied conditions
    csr = _csrs(rest).get(name)
    csr["status"] = {"conditions": [_condition("Approved", "SelfServed")]}
    assert "conditions" not in _csrs(rest).update_subresource(name, "status", csr, dict)["status"]
    # the spec is fixed once made, whatever an update of the object says
    csr = _csrs(rest).get(name)
    csr["spec"]["signerName"] = "example.com/other"
    assert _csrs(rest).update(csr)["spec"]["signerName"] == SIGNER
    # an approver changes conditions only, stamped by the server
    csr = _decide(rest, name, _condition("Approved", "KgenTest"))
    (approved,) = csr["status"]["conditions"]
    assert approved["type"] == "Approved" and approved["lastUpdateTime"]
    csr["spec"]["signerName"] = "example.com/other"
    csr["status"]["certificate"] = base64.b64encode(encode_cert_pem(ca.cert)).decode()
    kept = _csrs(rest).update_subresource(name, "approval", csr, dict)
    assert kept["spec"]["signerName"] == SIGNER and "certificate" not in kept["status"]
    with pytest.raises(StatusError, match="mutually exclusive") as both:
        _decide(rest, name, _condition("Denied", "Changed"))
    assert is_invalid(both.value)
    current = _csrs(rest).get(name)
    current["status"]["conditions"] = []
    with pytest.raises(StatusError, match="may not remove a condition of type 'Approved'"):
        _csrs(rest).update_subresource(name, "approval", current, dict)
    current = _csrs(rest).get(name)
    current["status"]["certificate"] = base64.b64encode(b"not a certificate").decode()
    with pytest.raises(StatusError, match=r"status\.certificate: Invalid value"):
        _csrs(rest).update_subresource(name, "status", current, dict)
    _sign(rest, ca, name)
    current = _csrs(rest).get(name)
    current["status"]["certificate"] = base64.b64encode(encode_cert_pem(ca.cert)).decode()
    with pytest.raises(StatusError, match="may not modify existing certificate content"):
        _csrs(rest).update_subresource(name, "status", current, dict)


def test_server_stamps_the_requester_and_checks_the_request(rest: RESTClient) -> None:
    key = new_ec_private_key()
    body = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": f"checked-{next(_names)}"},
        "spec": {
            "request": base64.b64encode(make_csr(key, subject_name("carol"))).decode(),
            "signerName": SIGNER,
            "usages": list(USAGES),
            "username": "someone-else",
            "groups": ["system:nodes"],
        },
    }
    created = _csrs(rest).create(body)
    assert created["spec"]["username"] == "kgen-admin"  # the server's token user
    assert created["spec"]["groups"] == ["system:masters"]

    def rejected(**spec: Any) -> str:
        bad = {**body, "metadata": {"name": f"bad-{next(_names)}"}}
        bad["spec"] = {**body["spec"], **spec}
        with pytest.raises(StatusError) as caught:
            _csrs(rest).create(bad)
        assert is_invalid(caught.value)
        return str(caught.value)

    not_a_request = base64.b64encode(encode_cert_pem(generate_self_signed_ca("x").cert)).decode()
    assert "spec.request: Invalid value: <request>: no CERTIFICATE REQUEST block" in rejected(
        request=not_a_request
    )
    assert "spec.usages[1]: Unsupported value: 'flying'" in rejected(
        usages=["client auth", "flying"]
    )
    assert "spec.usages[1]: Duplicate value" in rejected(usages=["client auth", "client auth"])
    assert "spec.usages: Required value" in rejected(usages=[])
    assert "less than 600 seconds" in rejected(expirationSeconds=599)
