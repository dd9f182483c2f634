"""CertificateSigningRequest writes through ``status`` and ``approval``, as kube-apiserver's
certificates registry splits them.

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

from kgen.cert import PEMError, parse_certs_pem
from kgen.testing._errors import APIError
from kgen.testing._store import JSON, copy_json

__all__ = ["APPROVAL", "CSR_KEY", "csr_subresource_update"]

CSR_KEY = ("certificates.k8s.io", "certificatesigningrequests")
APPROVAL = (CSR_KEY, "approval")
_DECISIONS = ("Approved", "Denied")
_STATUSES = ("True", "False", "Unknown")

Cause = tuple[str, str, str]


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
