"""Request bodies in Kubernetes' protobuf encoding (``application/vnd.kubernetes.protobuf``).

kubectl's typed clients (``create deployment|service|job|cronjob|...``, ``run``, ``expose``,
``auth can-i``, ``certificate approve``, ...) send the magic ``k8s\\x00`` then a
``runtime.Unknown`` envelope (type meta, raw message). The layout of every built-in message
comes from ``data/proto_messages.json.gz``, derived from the Kubernetes 1.35 ``.proto`` files by
``tools/proto_table.py``; a kind that is not in it (custom resources, CRDs) is answered 415.

Decoding gives the JSON form a Go client's object would have, with one difference Go's
structs hide: a Go client writes every non-pointer field, so the wire cannot tell an unset
string from an empty one. Empty strings are left out (as the ``omitempty`` JSON tags of
nearly all of them do), while zero numbers and ``false`` are kept (pointer fields such as
``replicas: 0`` or ``enableServiceLinks: false`` mean something), except in object and list
metadata, whose numbers the server sets; see docs/coverage/testing.md.

Well-known messages have their JSON forms: ``Time``/``MicroTime`` (RFC 3339), ``Duration``
(Go's duration text), ``IntOrString``, ``Quantity``, ``RawExtension``/``FieldsV1`` (the JSON
they carry), ``bytes`` (base64) and the Go slice types (``ExtraValue``, ``Verbs``).

Pure functions over a table loaded once (thread-safe); bad input raises
:class:`~kgen.testing._errors.APIError` 400.
"""

from __future__ import annotations

import base64
import datetime
import functools
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from kgen.testing._errors import APIError

__all__ = [
    "CONTENT_TYPE",
    "MAGIC",
    "Table",
    "decode_body",
    "decode_message",
    "go_duration",
    "table",
]

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

JSON = dict[str, Any]
Wire = int | bytes

META = "k8s.io.apimachinery.pkg.apis.meta.v1."
TIME = META + "Time"
MICRO_TIME = META + "MicroTime"
DURATION = META + "Duration"
FIELDS_V1 = META + "FieldsV1"
INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
QUANTITIES = (
    "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue",
)
RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"
_SERVER_MANAGED = (META + "ObjectMeta", META + "ListMeta")
"""Messages whose numbers the server sets (``generation``, ``remainingItemCount``): a zero from
a client is its Go zero value, not a request, and is left out."""
ZERO_TIME = -62135596800
"""Go's zero ``time.Time`` (year 1) in Unix seconds: what an unset ``metav1.Time`` encodes."""


@dataclass(frozen=True)
class Table:
    """The derived layout: ``messages[name][number] = (json name, label, type)`` with label
    ``o``/``r``/``m``, or ``i`` for a struct embedded inline (its fields are the enclosing
    object's JSON fields); ``slices`` the messages whose JSON is a bare array; ``kinds`` maps
    ``"apiVersion/Kind"`` to a message name. Read-only once built."""

    messages: dict[str, dict[int, tuple[str, str, str]]]
    by_name: dict[str, dict[str, tuple[int, str, str]]]
    slices: frozenset[str]
    kinds: dict[str, str]

    def message_of(self, api_version: str, kind: str) -> str | None:
        """The message of a kind (``None`` for a kind the table does not know)."""
        return self.kinds.get(f"{api_version}/{kind}")


@functools.cache
def table() -> Table:
    """The table shipped in ``kgen/testing/data`` (read on first use, then shared)."""
    data = resources.files("kgen.testing").joinpath("data/proto_messages.json.gz").read_bytes()
    raw = json.loads(gzip.decompress(data))
    messages = {
        name: {number: (field, label, kind) for number, field, label, kind in fields}
        for name, fields in raw["messages"].items()
    }
    by_name = {
        name: {field: (number, label, kind) for number, (field, label, kind) in fields.items()}
        for name, fields in messages.items()
    }
    return Table(messages, by_name, frozenset(raw["slices"]), dict(raw["kinds"]))


def _fail(message: str) -> APIError:
    return APIError.bad_request(f"cannot decode the protobuf body: {message}")


def fields(data: bytes) -> Iterator[tuple[int, Wire]]:
    """``(field number, value)`` for varint and length-delimited fields (fixed ones skipped)."""
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
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
            if i > len(data):
                raise _fail("truncated field")
        else:
            raise _fail(f"unsupported wire type {wire}")


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _bytes(value: Wire, where: str) -> bytes:
    if not isinstance(value, bytes):
        raise _fail(f"{where}: expected a length-delimited field, found a number")
    return value


def _text(value: Wire, where: str) -> str:
    try:
        return _bytes(value, where).decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(f"{where}: not UTF-8 text") from None


def _timestamp(data: bytes, micro: bool) -> str:
    """RFC 3339 text of a ``Timestamp``; ``""`` for an empty one (Go writes its zero time as
    an empty message, and JSON leaves it out). A ``Time`` keeps whole seconds, as Go reads it."""
    if not data:
        return ""
    seconds = nanos = 0
    for number, item in fields(data):
        if number == 1 and isinstance(item, int):
            seconds = _signed(item)
        elif number == 2 and isinstance(item, int):
            nanos = _signed(item)
    if seconds <= ZERO_TIME and not nanos:
        return ""
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{nanos // 1000:06d}Z" if micro else f"{text}Z"


def go_duration(nanos: int) -> str:
    """Go's ``time.Duration.String`` (``1h0m0s``, ``1.5s``, ``300ms``, ``0s``)."""
    if nanos == 0:
        return "0s"
    sign, nanos = ("-", -nanos) if nanos < 0 else ("", nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1000), ("ns", 1)):
            if nanos >= size:
                return sign + _fraction(nanos, size) + unit
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _fraction(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _fraction(value: int, size: int) -> str:
    whole, part = divmod(value, size)
    digits = str(part).rjust(len(str(size)) - 1, "0").rstrip("0") if size > 1 else ""
    return f"{whole}.{digits}" if digits else str(whole)


def _embedded_json(raw: bytes, where: str) -> Any:
    """What a ``RawExtension``/``FieldsV1`` carries: JSON, or an object in protobuf."""
    if not raw:
        return None
    if raw.startswith(MAGIC):
        return decode_body(raw)
    try:
        return json.loads(raw)
    except ValueError:
        raise _fail(f"{where}: the embedded object is neither JSON nor protobuf") from None


def _value(kind: str, value: Wire, where: str) -> Any:
    """The JSON form of one wire value of type ``kind``; ``None`` leaves it out."""
    if kind == "string":
        return _text(value, where) or None
    if kind in ("int32", "int64"):
        return _signed(value) if isinstance(value, int) else _fail_number(where)
    if kind == "bool":
        return bool(value) if isinstance(value, int) else _fail_number(where)
    if kind == "bytes":
        return base64.b64encode(_bytes(value, where)).decode()
    return decode_message(kind, _bytes(value, where), where)


def _fail_number(where: str) -> Any:
    raise _fail(f"{where}: expected a number, found a length-delimited field")


def decode_message(name: str, data: bytes, where: str = "") -> Any:
    """The JSON form of message ``name`` encoded in ``data`` (a dict for most messages; a
    string, number or list for the well-known ones)."""
    where = where or name.rpartition(".")[2]
    if name in (TIME, MICRO_TIME):
        return _timestamp(data, name == MICRO_TIME) or None
    if name == DURATION:
        nanos = next((_signed(v) for n, v in fields(data) if n == 1 and isinstance(v, int)), 0)
        return go_duration(nanos)
    if name == INT_OR_STRING:
        parts = {n: v for n, v in fields(data)}
        if parts.get(1) == 1:
            return _text(parts.get(3, b""), where)
        number = parts.get(2, 0)
        return _signed(number) if isinstance(number, int) else 0
    if name in QUANTITIES:
        return next((_text(v, where) for n, v in fields(data) if n == 1), "0")
    if name in (RAW_EXTENSION, FIELDS_V1):
        raw = b"".join(_bytes(v, where) for n, v in fields(data) if n == 1)
        return _embedded_json(raw, where)
    layout = table().messages.get(name)
    if layout is None:
        raise _fail(f"{where}: no layout for message {name}")
    if name in table().slices:
        return [_text(v, where) for n, v in fields(data) if n == 1]
    out: JSON = {}
    for number, value in fields(data):
        if number not in layout:
            continue
        key, label, kind = layout[number]
        here = f"{where}.{key}"
        if label == "i":  # a Go struct embedded inline: its fields are this object's
            inline = decode_message(kind, _bytes(value, here), where)
            if isinstance(inline, dict):
                out.update(inline)
        elif label == "m":
            entry = {n: v for n, v in fields(_bytes(value, here))}
            map_key = _text(entry.get(1, b""), here)
            item = _value(
                kind, entry.get(2, 0 if kind in ("int32", "int64", "bool") else b""), here
            )
            out.setdefault(key, {})[map_key] = "" if item is None and kind == "string" else item
        elif label == "r":
            if kind in ("int32", "int64", "bool") and isinstance(value, bytes):
                out.setdefault(key, []).extend(_packed(kind, value, here))
                continue
            item = _value(kind, value, here)
            out.setdefault(key, []).append("" if item is None and kind == "string" else item)
        else:
            item = _value(kind, value, here)
            if item is not None:
                out[key] = item
            else:
                out.pop(key, None)
    if name in _SERVER_MANAGED:
        return {key: item for key, item in out.items() if item != 0 or item is False}
    return out


def _packed(kind: str, data: bytes, where: str) -> list[Any]:
    """A packed repeated number field: its varints one after another."""
    values: list[Any] = []
    shift = value = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            values.append(bool(value) if kind == "bool" else _signed(value))
            shift = value = 0
    if shift:
        raise _fail(f"{where}: truncated packed field")
    return values


def envelope(body: bytes) -> tuple[str, str, bytes]:
    """``(apiVersion, kind, raw message)`` of a ``k8s\\x00`` + ``runtime.Unknown`` body."""
    if not body.startswith(MAGIC):
        raise _fail("missing the k8s protobuf magic prefix")
    api_version = kind = ""
    raw = b""
    for number, value in fields(body[len(MAGIC) :]):
        if number == 1:
            for meta_number, meta_value in fields(_bytes(value, "typeMeta")):
                if meta_number == 1:
                    api_version = _text(meta_value, "typeMeta.apiVersion")
                elif meta_number == 2:
                    kind = _text(meta_value, "typeMeta.kind")
        elif number == 2:
            raw = _bytes(value, "raw")
    return api_version, kind, raw


def decode_body(body: bytes) -> JSON:
    """The JSON form of a protobuf request body (415 for a kind the table does not know)."""
    api_version, kind, raw = envelope(body)
    message = table().message_of(api_version, kind)
    if message is None:
        raise APIError(
            415,
            "UnsupportedMediaType",
            f"the test server reads protobuf bodies of built-in kinds only, not {kind} "
            f"({api_version}); send JSON instead",
        )
    decoded = decode_message(message, raw, kind)
    if not isinstance(decoded, dict):
        raise _fail(f"{kind} is not an object")
    return {"apiVersion": api_version, "kind": kind, **decoded}
