"""OpenAPI v2 in the protobuf form older kubectl versions ask for (gnostic's ``openapi.v2``).

kubectl up to 1.28 fetches ``/openapi/v2`` with ``Accept:
application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` and cannot read JSON. This module
encodes the JSON document into that message set: the document's version and info, its paths
(operations with their query parameters and vendor extensions) and its definitions (the schema
keywords Kubernetes uses). Vendor extensions and ``default``/``enum`` values go into the
messages' YAML text field as JSON (JSON is YAML). Keywords outside that subset are left out.

Pure functions; the result is bytes the caller may cache.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["CONTENT_TYPE", "MIME_TYPE", "encode_document", "varint"]

MIME_TYPE = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
"""What clients put in Accept."""
CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
"""What the server answers with (a media type Go's parser accepts: no ``@``)."""

JSON = Mapping[str, Any]


def varint(value: int) -> bytes:
    """``value`` as a protobuf base-128 varint (negative numbers as 64-bit two's complement)."""
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


class _Message:
    """A protobuf message being written field by field."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def bytes_(self, field: int, data: bytes) -> None:
        self._parts += [_key(field, 2), varint(len(data)), data]

    def string(self, field: int, value: Any) -> None:
        if isinstance(value, str) and value:
            self.bytes_(field, value.encode())

    def strings(self, field: int, values: Any) -> None:
        for value in values or ():
            if isinstance(value, str):
                self.bytes_(field, value.encode())

    def flag(self, field: int, value: bool) -> None:
        """A boolean written even when false (a member of a ``oneof``)."""
        self._parts += [_key(field, 0), b"\x01" if value else b"\x00"]

    def boolean(self, field: int, value: Any) -> None:
        if value is True:
            self._parts += [_key(field, 0), b"\x01"]

    def integer(self, field: int, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and value:
            self._parts += [_key(field, 0), varint(value)]

    def double(self, field: int, value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            self._parts += [_key(field, 1), struct.pack("<d", float(value))]

    def message(self, field: int, child: _Message) -> None:
        self.bytes_(field, child.encode())

    def encode(self) -> bytes:
        return b"".join(self._parts)


def _any(value: Any) -> _Message:
    """gnostic ``Any``: the value as YAML text (field 2)."""
    message = _Message()
    message.string(2, json.dumps(value))
    return message


def _named(field: int, name: str, value: _Message, into: _Message) -> None:
    pair = _Message()
    pair.string(1, name)
    pair.message(2, value)
    into.message(field, pair)


def _extensions(obj: JSON, field: int, into: _Message) -> None:
    for key, value in obj.items():
        if key.startswith("x-"):
            _named(field, key, _any(value), into)


def _schema(schema: JSON) -> _Message:
    m = _Message()
    m.string(1, schema.get("$ref"))
    m.string(2, schema.get("format"))
    m.string(3, schema.get("title"))
    m.string(4, schema.get("description"))
    if "default" in schema:
        m.message(5, _any(schema["default"]))
    m.double(6, schema.get("multipleOf"))
    m.double(7, schema.get("maximum"))
    m.boolean(8, schema.get("exclusiveMaximum"))
    m.double(9, schema.get("minimum"))
    m.boolean(10, schema.get("exclusiveMinimum"))
    for field, key in (
        (11, "maxLength"),
        (12, "minLength"),
        (14, "maxItems"),
        (15, "minItems"),
        (17, "maxProperties"),
        (18, "minProperties"),
    ):
        m.integer(field, schema.get(key))
    m.string(13, schema.get("pattern"))
    m.boolean(16, schema.get("uniqueItems"))
    m.strings(19, schema.get("required"))
    for value in schema.get("enum") or ():
        m.message(20, _any(value))
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping | bool):
        item = _Message()
        if isinstance(extra, bool):
            item.flag(2, extra)
        else:
            item.message(1, _schema(extra))
        m.message(21, item)
    kind = schema.get("type")
    if kind:
        type_item = _Message()
        type_item.strings(1, kind if isinstance(kind, list) else [kind])
        m.message(22, type_item)
    items = schema.get("items")
    if isinstance(items, Mapping):
        items_item = _Message()
        items_item.message(1, _schema(items))
        m.message(23, items_item)
    for part in schema.get("allOf") or ():
        if isinstance(part, Mapping):
            m.message(24, _schema(part))
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        props = _Message()
        for name, child in properties.items():
            if isinstance(child, Mapping):
                _named(1, name, _schema(child), props)
        m.message(25, props)
    m.boolean(27, schema.get("readOnly"))
    _extensions(schema, 31, m)
    return m


def _parameter(param: JSON) -> _Message:
    """``ParametersItem``: a ``$ref`` or a body / query / path / header parameter."""
    item = _Message()
    if "$ref" in param:
        ref = _Message()
        ref.string(1, param["$ref"])
        ref.string(2, param.get("description"))
        item.message(2, ref)
        return item
    item.message(1, _parameter_value(param))
    return item


def _parameter_value(param: JSON) -> _Message:
    parameter = _Message()
    where = param.get("in")
    if where == "body":
        body = _Message()
        body.string(1, param.get("description"))
        body.string(2, param.get("name"))
        body.string(3, where)
        body.boolean(4, param.get("required"))
        if isinstance(param.get("schema"), Mapping):
            body.message(5, _schema(param["schema"]))
        _extensions(param, 6, body)
        parameter.message(1, body)
        return parameter
    sub = _Message()
    sub.boolean(1, param.get("required"))
    sub.string(2, where)
    sub.string(3, param.get("description"))
    sub.string(4, param.get("name"))
    offset = 1 if where in ("query", "formData") else 0
    if offset:
        sub.boolean(5, param.get("allowEmptyValue"))
    sub.string(5 + offset, param.get("type"))
    sub.string(6 + offset, param.get("format"))
    sub.boolean(19 + offset, param.get("uniqueItems"))
    slot = {"header": 1, "formData": 2, "query": 3, "path": 4}.get(str(where), 3)
    non_body = _Message()
    non_body.message(slot, sub)
    parameter.message(2, non_body)
    return parameter


def _operation(op: JSON) -> _Message:
    m = _Message()
    m.strings(1, op.get("tags"))
    m.string(2, op.get("summary"))
    m.string(3, op.get("description"))
    m.string(5, op.get("operationId"))
    m.strings(6, op.get("produces"))
    m.strings(7, op.get("consumes"))
    for param in op.get("parameters") or ():
        if isinstance(param, Mapping):
            m.message(8, _parameter(param))
    responses = op.get("responses")
    if isinstance(responses, Mapping):
        codes = _Message()
        for code, response in responses.items():
            if not isinstance(response, Mapping):
                continue
            value = _Message()
            body = _Message()
            body.string(1, response.get("description"))
            if isinstance(response.get("schema"), Mapping):
                schema_item = _Message()
                schema_item.message(1, _schema(response["schema"]))
                body.message(2, schema_item)
            value.message(1, body)
            _named(1, str(code), value, codes)
        m.message(9, codes)
    m.strings(10, op.get("schemes"))
    m.boolean(11, op.get("deprecated"))
    _extensions(op, 13, m)
    return m


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _path_item(item: JSON) -> _Message:
    m = _Message()
    m.string(1, item.get("$ref"))
    for method, field in _METHODS.items():
        if isinstance(item.get(method), Mapping):
            m.message(field, _operation(item[method]))
    for param in item.get("parameters") or ():
        if isinstance(param, Mapping):
            m.message(9, _parameter(param))
    _extensions(item, 10, m)
    return m


def _map(field: int, values: Any, encode: Callable[[JSON], _Message]) -> _Message:
    m = _Message()
    if isinstance(values, Mapping):
        for name, value in values.items():
            if isinstance(value, Mapping):
                _named(field, name, encode(value), m)
    return m


def encode_document(document: JSON) -> bytes:
    """The gnostic ``openapi.v2.Document`` encoding of a swagger 2.0 JSON document."""
    m = _Message()
    m.string(1, document.get("swagger", "2.0"))
    info = document.get("info") or {}
    info_message = _Message()
    info_message.string(1, info.get("title"))
    info_message.string(2, info.get("version"))
    m.message(2, info_message)
    m.strings(6, document.get("consumes"))
    m.strings(7, document.get("produces"))
    paths = _Message()
    for name, item in (document.get("paths") or {}).items():
        if isinstance(item, Mapping):
            _named(2, name, _path_item(item), paths)
    m.message(8, paths)
    m.message(9, _map(1, document.get("definitions"), _schema))
    m.message(10, _map(1, document.get("parameters"), _parameter_value))
    _extensions(document, 16, m)
    return m.encode()
