"""Request bodies in Kubernetes' protobuf encoding, for the kinds kubectl's typed clients send.

kubectl's imperative commands (``create namespace``, ``create configmap``, ``create secret``,
``create serviceaccount``, ``auth can-i``, ``auth whoami``, ``certificate approve|deny``,
``create service``) send
``application/vnd.kubernetes.protobuf`` bodies: the magic ``k8s\\x00`` then a
``runtime.Unknown`` envelope (type meta, raw message). Protobuf field numbers are not part of
the OpenAPI documents, so the server knows the messages of just these kinds, written down
here; any other kind is answered 415 as before. Responses stay JSON (those clients accept it).

Pure functions; bad input raises :class:`~kgen.testing._errors.APIError` 400.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator
from typing import Any

from kgen.testing._errors import APIError

__all__ = ["CONTENT_TYPE", "decode_body"]

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"

JSON = dict[str, Any]
Field = tuple[str, str]
"""``(json name, kind)``; kinds: string, int, bool, bytes (base64), strings (repeated),
map (string to string), bytemap (string to base64), time, intstr (an IntOrString), the name
of a message, or a message name in brackets (repeated)."""

_MESSAGES: dict[str, dict[int, Field]] = {
    "ObjectMeta": {
        1: ("name", "string"),
        2: ("generateName", "string"),
        3: ("namespace", "string"),
        5: ("uid", "string"),
        6: ("resourceVersion", "string"),
        7: ("generation", "int"),
        8: ("creationTimestamp", "time"),
        11: ("labels", "map"),
        12: ("annotations", "map"),
        14: ("finalizers", "strings"),
    },
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "strings")},
    "ConfigMap": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", "map"),
        3: ("binaryData", "bytemap"),
        4: ("immutable", "bool"),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", "bytemap"),
        3: ("type", "string"),
        4: ("stringData", "map"),
        5: ("immutable", "bool"),
    },
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 4: ("automountServiceAccountToken", "bool")},
    "Service": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ServiceSpec")},
    "ServiceSpec": {
        1: ("ports", "[ServicePort]"),
        2: ("selector", "map"),
        3: ("clusterIP", "string"),
        4: ("type", "string"),
        5: ("externalIPs", "strings"),
        7: ("sessionAffinity", "string"),
        8: ("loadBalancerIP", "string"),
        9: ("loadBalancerSourceRanges", "strings"),
        10: ("externalName", "string"),
        11: ("externalTrafficPolicy", "string"),
        12: ("healthCheckNodePort", "int"),
        13: ("publishNotReadyAddresses", "bool"),
        14: ("sessionAffinityConfig", "SessionAffinityConfig"),
        17: ("ipFamilyPolicy", "string"),
        18: ("clusterIPs", "strings"),
        19: ("ipFamilies", "strings"),
        20: ("allocateLoadBalancerNodePorts", "bool"),
        21: ("loadBalancerClass", "string"),
        22: ("internalTrafficPolicy", "string"),
        23: ("trafficDistribution", "string"),
    },
    "ServicePort": {
        1: ("name", "string"),
        2: ("protocol", "string"),
        3: ("port", "int"),
        4: ("targetPort", "intstr"),
        5: ("nodePort", "int"),
        6: ("appProtocol", "string"),
    },
    "SessionAffinityConfig": {1: ("clientIP", "ClientIPConfig")},
    "ClientIPConfig": {1: ("timeoutSeconds", "int")},
    "SelfSubjectAccessReview": {
        1: ("metadata", "ObjectMeta"),
        2: ("spec", "SelfSubjectAccessReviewSpec"),
    },
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes"),
        2: ("nonResourceAttributes", "NonResourceAttributes"),
    },
    "ResourceAttributes": {
        1: ("namespace", "string"),
        2: ("verb", "string"),
        3: ("group", "string"),
        4: ("version", "string"),
        5: ("resource", "string"),
        6: ("subresource", "string"),
        7: ("name", "string"),
    },
    "NonResourceAttributes": {1: ("path", "string"), 2: ("verb", "string")},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta")},
    "CertificateSigningRequest": {
        1: ("metadata", "ObjectMeta"),
        2: ("spec", "CertificateSigningRequestSpec"),
        3: ("status", "CertificateSigningRequestStatus"),
    },
    "CertificateSigningRequestSpec": {
        1: ("request", "bytes"),
        2: ("username", "string"),
        3: ("uid", "string"),
        4: ("groups", "strings"),
        5: ("usages", "strings"),
        7: ("signerName", "string"),
        8: ("expirationSeconds", "int"),
    },
    "CertificateSigningRequestStatus": {
        1: ("conditions", "[CertificateSigningRequestCondition]"),
        2: ("certificate", "bytes"),
    },
    "CertificateSigningRequestCondition": {
        1: ("type", "string"),
        2: ("reason", "string"),
        3: ("message", "string"),
        4: ("lastUpdateTime", "time"),
        5: ("lastTransitionTime", "time"),
        6: ("status", "string"),
    },
}

_KINDS = {
    ("v1", "Namespace"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("v1", "Service"),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
    ("authentication.k8s.io/v1", "SelfSubjectReview"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
}


def _fail(message: str) -> APIError:
    return APIError.bad_request(f"cannot decode the protobuf body: {message}")


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """``(field number, value)`` for varint and length-delimited fields (others skipped)."""
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            if i >= len(data) or shift > 63:
                raise _fail("truncated varint")
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, varint()
        elif wire == 2:
            length = varint()
            if i + length > len(data):
                raise _fail("truncated field")
            yield number, data[i : i + length]
            i += length
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise _fail(f"unsupported wire type {wire}")


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise _fail("expected a length-delimited field")
    return value.decode("utf-8", errors="replace")


def _pair(value: int | bytes) -> tuple[str, bytes]:
    key, raw = "", b""
    for number, item in _fields(value if isinstance(value, bytes) else b""):
        if number == 1:
            key = _text(item)
        elif number == 2 and isinstance(item, bytes):
            raw = item
    return key, raw


_ZERO_TIME = -62135596800
"""Go's zero ``time.Time`` (year 1) in Unix seconds: what an unset ``metav1.Time`` encodes."""


def _time(value: int | bytes) -> str:
    """The RFC 3339 form of a ``Timestamp`` (``""`` for Go's zero time: JSON leaves it out)."""
    seconds = 0
    for number, item in _fields(value if isinstance(value, bytes) else b""):
        if number == 1 and isinstance(item, int):
            seconds = item - (1 << 64) if item >= 1 << 63 else item
    if seconds <= _ZERO_TIME:
        return ""
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_or_string(value: int | bytes) -> int | str:
    """An ``IntOrString``: its ``strVal`` when its type is 1, else its ``intVal``."""
    kind, number, text = 0, 0, ""
    for field, item in _fields(value if isinstance(value, bytes) else b""):
        if field == 1 and isinstance(item, int):
            kind = item
        elif field == 2 and isinstance(item, int):
            number = item
        elif field == 3:
            text = _text(item)
    return text if kind == 1 else number


def _message(name: str, data: bytes) -> JSON:
    layout = _MESSAGES[name]
    out: JSON = {}
    for number, value in _fields(data):
        if number not in layout:
            continue
        key, kind = layout[number]
        if kind == "string":
            if value:  # Go leaves empty strings out of JSON (omitempty)
                out[key] = _text(value)
        elif kind == "int":
            if value:
                out[key] = int(value) if isinstance(value, int) else 0
        elif kind == "bool":
            out[key] = bool(value)
        elif kind == "strings":
            out.setdefault(key, []).append(_text(value))
        elif kind == "map":
            k, raw = _pair(value)
            out.setdefault(key, {})[k] = raw.decode("utf-8", errors="replace")
        elif kind == "bytemap":
            k, raw = _pair(value)
            out.setdefault(key, {})[k] = base64.b64encode(raw).decode()
        elif kind == "time":
            if moment := _time(value):
                out[key] = moment
        elif kind == "intstr":
            out[key] = _int_or_string(value)
        elif kind == "bytes":
            out[key] = base64.b64encode(value if isinstance(value, bytes) else b"").decode()
        elif kind.startswith("["):
            item = value if isinstance(value, bytes) else b""
            out.setdefault(key, []).append(_message(kind[1:-1], item))
        else:
            out[key] = _message(kind, value if isinstance(value, bytes) else b"")
    return out


def decode_body(body: bytes) -> JSON:
    """The JSON form of a protobuf request body (415 for a kind this module does not know)."""
    if not body.startswith(_MAGIC):
        raise _fail("missing the k8s protobuf magic prefix")
    api_version = kind = ""
    raw = b""
    for number, value in _fields(body[len(_MAGIC) :]):
        if number == 1 and isinstance(value, bytes):
            for meta_number, meta_value in _fields(value):
                if meta_number == 1:
                    api_version = _text(meta_value)
                elif meta_number == 2:
                    kind = _text(meta_value)
        elif number == 2 and isinstance(value, bytes):
            raw = value
    if (api_version, kind) not in _KINDS:
        raise APIError(
            415,
            "UnsupportedMediaType",
            f"the test server reads protobuf bodies of a few kinds only, not {kind} "
            f"({api_version}); send JSON instead",
        )
    decoded = _message(kind, raw)
    decoded["apiVersion"], decoded["kind"] = api_version, kind
    return decoded
