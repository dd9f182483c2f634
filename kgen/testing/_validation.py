"""Checks a request body must pass before it is stored: identity, names, labels, known fields.

Each check raises :class:`~kgen.testing._errors.APIError` with the code, reason and wording
kube-apiserver uses (400 for a body that does not belong to the request, 422 Invalid with
causes for field values). Pure functions; safe from any thread.
"""

from __future__ import annotations

import re
from typing import Any

from kgen.labels import SelectorError, validate_label_key, validate_label_value
from kgen.testing._errors import APIError
from kgen.testing._registry import ResourceInfo

__all__ = ["check_identity", "check_metadata", "field_values"]

JSON = dict[str, Any]

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_LABEL_1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


def check_identity(info: ResourceInfo, body: Any) -> JSON:
    """The body must be a JSON object of this resource's kind and apiVersion (400 otherwise)."""
    if not isinstance(body, dict):
        raise APIError.bad_request(
            f"the body of the request must be a JSON or YAML object, not {type(body).__name__}"
        )
    api_version = body.get("apiVersion")
    kind = body.get("kind")
    if api_version is not None and api_version != info.api_version:
        raise APIError.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({info.api_version})"
        )
    if kind is not None and kind != info.kind:
        raise APIError.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({info.kind})"
        )
    metadata = body.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise APIError.bad_request("metadata must be a JSON object")
    body["metadata"] = metadata
    body["apiVersion"] = info.api_version
    body["kind"] = info.kind
    return body


def _name_rule(info: ResourceInfo) -> tuple[re.Pattern[str], int, str]:
    if info.group == "" and info.plural == "namespaces":
        return _LABEL, 63, _LABEL_MSG
    if info.group == "" and info.plural == "services":
        return _LABEL_1035, 63, _LABEL_1035_MSG
    return _SUBDOMAIN, 253, _SUBDOMAIN_MSG


def check_metadata(info: ResourceInfo, obj: JSON) -> None:
    """422 Invalid when the name, labels or annotations break the API's rules."""
    metadata = obj["metadata"]
    name = metadata.get("name") or ""
    causes: list[tuple[str, str, str]] = []
    pattern, limit, message = _name_rule(info)
    if not name:
        causes.append(
            (
                "metadata.name",
                "FieldValueRequired",
                "Required value: name or generateName is required",
            )
        )
    elif len(name) > limit:
        causes.append(
            (
                "metadata.name",
                "FieldValueInvalid",
                f'Invalid value: "{name}": must be no more than {limit} characters',
            )
        )
    elif not pattern.match(name):
        causes.append(("metadata.name", "FieldValueInvalid", f'Invalid value: "{name}": {message}'))
    labels = metadata.get("labels") or {}
    if not isinstance(labels, dict):
        causes.append(
            ("metadata.labels", "FieldValueTypeInvalid", "Invalid value: must be an object")
        )
        labels = {}
    for key, value in labels.items():
        for check, what in ((validate_label_key, key), (validate_label_value, value)):
            try:
                check(str(what) if what is not None else "")
            except SelectorError as err:
                causes.append(
                    ("metadata.labels", "FieldValueInvalid", f'Invalid value: "{what}": {err}')
                )
    annotations = metadata.get("annotations") or {}
    if not isinstance(annotations, dict) or not all(
        isinstance(v, str) for v in annotations.values()
    ):
        causes.append(
            (
                "metadata.annotations",
                "FieldValueTypeInvalid",
                "Invalid value: must map strings to strings",
            )
        )
    if causes:
        raise APIError.invalid(info.kind, info.group, name, causes)


def field_values(info: ResourceInfo, obj: JSON) -> dict[str, str]:
    """The values of every field selector ``info`` supports, as the strings selectors compare.

    Missing fields read as ``""`` and booleans as ``true``/``false``, as the real server does.
    """
    metadata = obj.get("metadata") or {}
    values = {
        "metadata.name": str(metadata.get("name") or ""),
        "metadata.namespace": str(metadata.get("namespace") or ""),
    }
    for path in info.field_selectors:
        current: Any = obj
        for part in path.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if isinstance(current, bool):
            values[path] = "true" if current else "false"
        elif current is None:
            values[path] = ""
        else:
            values[path] = str(current)
    return values
