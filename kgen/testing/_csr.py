"""CertificateSigningRequest rules of kube-apiserver's certificates registry.

On create, ``spec.username`` and ``groups`` are the requesting user's whatever the body said
(``uid`` and ``extra`` are dropped: the test server's users have neither), and ``spec.request`` must be a PEM ``CERTIFICATE REQUEST`` (base64 on the wire)
with a valid signature, ``usages`` known key usages without duplicates, and
``expirationSeconds`` at least 600. The spec never changes afterwards. Writes through
``status`` and ``approval`` are split:

* ``approval`` changes the conditions only (who approves or denies); spec and
  ``status.certificate`` stay as stored.
* ``status`` (the signer) changes everything in status except the ``Approved`` and ``Denied``
  conditions, which are kept exactly as stored: a signer cannot approve its own request.

Both stamp ``lastUpdateTime``/``lastTransitionTime`` on conditions that lack them and check:
condition ``type`` and ``status`` (``True``/``False``/``Unknown``) present, one condition per
type, ``Approved`` and ``Denied`` mutually exclusive, neither removed once set, and
``status.certificate`` PEM certificates (base64 on the wire) that never change once issued.
Pure functions over caller-owned dicts; errors are 422 Invalid naming the field.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from kgen.cert import PEMError, parse_certs_pem, parse_csr_pem
from kgen.testing._auth import User
from kgen.testing._errors import APIError
from kgen.testing._store import JSON, copy_json

__all__ = ["APPROVAL", "CSR_KEY", "csr_create", "csr_subresource_update"]

CSR_KEY = ("certificates.k8s.io", "certificatesigningrequests")
APPROVAL = (CSR_KEY, "approval")
_DECISIONS = ("Approved", "Denied")
_STATUSES = ("True", "False", "Unknown")

_KEY_USAGES = frozenset(
    (
        "signing",
        "digital signature",
        "content commitment",
        "key encipherment",
        "key agreement",
        "data encipherment",
        "cert sign",
        "crl sign",
        "encipher only",
        "decipher only",
        "any",
        "server auth",
        "client auth",
        "code signing",
        "email protection",
        "s/mime",
        "ipsec end system",
        "ipsec tunnel",
        "ipsec user",
        "timestamping",
        "ocsp signing",
        "microsoft sgc",
        "netscape sgc",
    )
)
_MIN_EXPIRATION_SECONDS = 600

Cause = tuple[str, str, str]


def csr_create(obj: JSON, user: User | None) -> None:
    """Stamp the requesting ``user`` into ``obj``'s spec (``None``: leave it) and check the
    request, usages and expiration (422 Invalid naming each bad field)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return  # the schema check reports the missing spec
    if user is not None:
        spec["username"] = user.name
        spec.pop("uid", None)
        spec.pop("extra", None)
        if user.groups:
            spec["groups"] = list(user.groups)
        else:
            spec.pop("groups", None)
    causes: list[Cause] = []
    request = spec.get("request")
    if request:
        try:
            parsed = parse_csr_pem(base64.b64decode(str(request), validate=True))
            if not parsed.is_signature_valid:
                raise PEMError("the request's signature does not verify")
        except (binascii.Error, PEMError) as err:
            causes.append(("spec.request", "FieldValueInvalid", f"Invalid value: <request>: {err}"))
    usages = spec.get("usages")
    if not usages:
        causes.append(("spec.usages", "FieldValueRequired", "Required value"))
    seen: set[object] = set()
    for i, usage in enumerate(usages or ()):
        if usage not in _KEY_USAGES:
            causes.append(
                (f"spec.usages[{i}]", "FieldValueNotSupported", f"Unsupported value: {usage!r}")
            )
        elif usage in seen:
            causes.append(
                (f"spec.usages[{i}]", "FieldValueDuplicate", f"Duplicate value: {usage!r}")
            )
        seen.add(usage)
    expiration = spec.get("expirationSeconds")
    if isinstance(expiration, int) and expiration < _MIN_EXPIRATION_SECONDS:
        causes.append(
            (
                "spec.expirationSeconds",
                "FieldValueInvalid",
                f"Invalid value: {expiration}: may not specify a duration less than 600 seconds "
                "(10 minutes)",
            )
        )
    if causes:
        name = str((obj.get("metadata") or {}).get("name", ""))
        raise APIError.invalid("CertificateSigningRequest", CSR_KEY[0], name, causes)


def _conditions(status: Any) -> list[JSON]:
    found = status.get("conditions") if isinstance(status, dict) else None
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def csr_subresource_update(old: JSON, obj: JSON, subresource: str, now: str) -> JSON:
    """The object stored after writing ``obj`` to ``subresource`` (``status`` or ``approval``)
    of ``old``; ``now`` stamps new conditions."""
    new = copy_json(old)
    old_status = old.get("status") or {}
    raw = obj.get("status")
    body_status: JSON = raw if isinstance(raw, dict) else {}
    if subresource == "approval":
        status = copy_json(old_status)
        conditions = _conditions(body_status)
    else:
        status = copy_json(body_status)
        kept = [c for c in _conditions(old_status) if c.get("type") in _DECISIONS]
        conditions = kept + [c for c in _conditions(body_status) if c.get("type") not in _DECISIONS]
    _stamp(conditions, _conditions(old_status), now)
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    causes = _check(status, old_status)
    if causes:
        name = str((old.get("metadata") or {}).get("name", ""))
        raise APIError.invalid("CertificateSigningRequest", CSR_KEY[0], name, causes)
    new["status"] = status
    return new


def _stamp(conditions: list[JSON], old: list[JSON], now: str) -> None:
    before = {c.get("type"): c for c in old}
    for condition in conditions:
        previous = before.get(condition.get("type"))
        condition.setdefault("lastUpdateTime", now)
        if "lastTransitionTime" in condition:
            continue
        if previous is not None and previous.get("status") == condition.get("status"):
            condition["lastTransitionTime"] = previous.get("lastTransitionTime", now)
        else:
            condition["lastTransitionTime"] = now


def _check(status: JSON, old_status: JSON) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, condition in enumerate(_conditions(status)):
        field = f"status.conditions[{i}]"
        kind = condition.get("type")
        if not kind:
            causes.append((f"{field}.type", "FieldValueRequired", "Required value"))
        elif kind in seen:
            causes.append((f"{field}.type", "FieldValueDuplicate", f'Duplicate value: "{kind}"'))
        seen.add(str(kind))
        if condition.get("status") not in _STATUSES:
            causes.append(
                (
                    f"{field}.status",
                    "FieldValueNotSupported",
                    f'Unsupported value: {condition.get("status")!r}: supported values: '
                    + ", ".join(f'"{s}"' for s in _STATUSES),
                )
            )
    decided = {c.get("type") for c in _conditions(status) if c.get("status") == "True"}
    if set(_DECISIONS) <= decided:
        causes.append(
            (
                "status.conditions",
                "FieldValueInvalid",
                "Invalid value: Approved and Denied conditions are mutually exclusive",
            )
        )
    for kind in _DECISIONS:
        had = any(c.get("type") == kind for c in _conditions(old_status))
        if had and kind not in seen:
            causes.append(
                (
                    "status.conditions",
                    "FieldValueForbidden",
                    f"Forbidden: updates may not remove a condition of type {kind!r}",
                )
            )
    causes += _check_certificate(status.get("certificate"), old_status.get("certificate"))
    return causes


def _check_certificate(certificate: Any, old: Any) -> list[Cause]:
    field = "status.certificate"
    if old and certificate != old:
        return [
            (
                field,
                "FieldValueForbidden",
                "Forbidden: updates may not modify existing certificate content",
            )
        ]
    if not certificate:
        return []
    try:
        parse_certs_pem(base64.b64decode(str(certificate), validate=True))
    except (binascii.Error, PEMError) as err:
        return [(field, "FieldValueInvalid", f"Invalid value: <certificate data>: {err}")]
    return []
