"""Response bodies in Kubernetes' protobuf encoding: objects, lists, ``Status`` and watch
events of built-in kinds, for clients whose ``Accept`` prefers
``application/vnd.kubernetes.protobuf`` (kubectl's typed clients, client-go informers).

The inverse of :mod:`kgen.testing._protobody`, over the same derived table: an object is the
magic ``k8s\\x00`` then a ``runtime.Unknown`` envelope (type meta, raw message); a watch stream
(``;stream=watch``) is a sequence of frames, each a 4-byte big-endian length then a
``meta.v1.WatchEvent`` message (no envelope) whose ``object`` holds the enveloped object, as
kube-apiserver's streaming serializer writes them. Every field present in the JSON is written
(empty strings and zeros too); JSON keys the message does not have (``apiVersion``/``kind`` of
list items, fields of newer versions) are left out, as a Go struct would drop them.

Pure functions; thread-safe. An object whose JSON does not fit its message (a number where
the message has text) raises a 500 :class:`~kgen.testing._errors.APIError` naming the field.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import struct
from collections.abc import Callable
from typing import Any

from kgen.testing._errors import APIError
from kgen.testing._protobody import (
    DURATION,
    FIELDS_V1,
    INT_OR_STRING,
    MAGIC,
    MICRO_TIME,
    QUANTITIES,
    RAW_EXTENSION,
    TIME,
    table,
)
from kgen.testing._protobuf import varint

__all__ = ["encodable", "encode_object", "encode_watch_event", "parse_go_duration"]

JSON = dict[str, Any]
WATCH_EVENT = "k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent"
_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 10**6, "s": 10**9}
_UNITS |= {"m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def _number(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def _delimited(field: int, data: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(data)) + data


def _fail(where: str, message: str) -> APIError:
    return APIError(500, "InternalError", f"cannot encode {where} as protobuf: {message}")


def parse_go_duration(text: str, where: str = "duration") -> int:
    """Nanoseconds of a Go duration text (``1h0m0s``, ``1.5s``, ``-300ms``, ``0``)."""
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if body == "0":
        return 0
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not body or position != len(body):
        raise _fail(where, f"{text!r} is not a Go duration")
    return sign * round(total)


def _timestamp(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise _fail(where, f"expected an RFC 3339 time, found {value!r}")
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(where, f"{value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    seconds = int(moment.timestamp() // 1)
    out = _number(1, seconds)
    if moment.microsecond:
        out += _number(2, moment.microsecond * 1000)
    return out


def _scalar(field: int, kind: str, value: Any, where: str) -> bytes:
    if kind == "string":
        if not isinstance(value, str):
            raise _fail(where, f"expected text, found {value!r}")
        return _delimited(field, value.encode())
    if kind in ("int32", "int64"):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise _fail(where, f"expected an integer, found {value!r}")
        return _number(field, int(value))
    if kind == "bool":
        if not isinstance(value, bool):
            raise _fail(where, f"expected true or false, found {value!r}")
        return _number(field, int(value))
    if not isinstance(value, str):
        raise _fail(where, f"expected base64 text, found {value!r}")
    try:
        return _delimited(field, base64.b64decode(value, validate=True))
    except ValueError:
        raise _fail(where, "not base64") from None


def encode_message(name: str, value: Any, where: str = "") -> bytes:
    """The wire form of ``value`` (the JSON form of message ``name``)."""
    where = where or name.rpartition(".")[2]
    if name in (TIME, MICRO_TIME):
        return _timestamp(value, where)
    if name == DURATION:
        if not isinstance(value, str):
            raise _fail(where, f"expected a duration, found {value!r}")
        return _number(1, parse_go_duration(value, where))
    if name == INT_OR_STRING:
        if isinstance(value, str):
            return _number(1, 1) + _delimited(3, value.encode())
        return _number(1, 0) + _scalar(2, "int32", value, where)
    if name in QUANTITIES:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _fail(where, f"expected a quantity, found {value!r}")
        return _delimited(1, str(value).encode())
    if name in (RAW_EXTENSION, FIELDS_V1):
        raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        return _delimited(1, raw)
    if name in table().slices:
        if not isinstance(value, list):
            raise _fail(where, f"expected a list, found {value!r}")
        return b"".join(_scalar(1, "string", item, where) for item in value)
    layout = table().by_name.get(name)
    if layout is None:
        raise _fail(where, f"no layout for message {name}")
    if not isinstance(value, dict):
        raise _fail(where, f"expected an object, found {value!r}")
    parts: list[tuple[int, bytes]] = []
    for key, item in value.items():
        if key not in layout or item is None:
            continue
        number, label, kind = layout[key]
        if label == "i":
            continue
        here = f"{where}.{key}"
        if label == "m":
            if not isinstance(item, dict):
                raise _fail(here, f"expected an object, found {item!r}")
            for map_key, map_value in item.items():
                entry = _delimited(1, str(map_key).encode())
                if map_value is not None:
                    entry += _field(2, kind, map_value, f"{here}.{map_key}")
                parts.append((number, _delimited(number, entry)))
        elif label == "r":
            if not isinstance(item, list):
                raise _fail(here, f"expected a list, found {item!r}")
            encoded = b"".join(
                _field(number, kind, one, f"{here}[{i}]") for i, one in enumerate(item)
            )
            parts.append((number, encoded))
        else:
            parts.append((number, _field(number, kind, item, here)))
    for number, label, kind in layout.values():
        if label == "i":  # embedded inline: made of the keys of this same object
            parts.append((number, _delimited(number, encode_message(kind, value, where))))
    parts.sort(key=lambda part: part[0])
    return b"".join(data for _, data in parts)


def _field(number: int, kind: str, value: Any, where: str) -> bytes:
    if kind in ("string", "int32", "int64", "bool", "bytes"):
        return _scalar(number, kind, value, where)
    return _delimited(number, encode_message(kind, value, where))


def encodable(obj: JSON) -> bool:
    """Whether ``obj`` (a JSON object with ``apiVersion`` and ``kind``) has a message."""
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    return (
        isinstance(kind, str)
        and isinstance(api_version, str)
        and table().message_of(api_version, kind) is not None
    )


ItemEncoder = Callable[[str, JSON, str], bytes]
"""``(message, item, where) -> bytes``: :func:`encode_message` of one list item, or the same
bytes from elsewhere (a cache of them, :mod:`kgen.testing._encoded`)."""


def encode_object(obj: JSON, item: ItemEncoder | None = None) -> bytes:
    """``k8s\\x00`` + ``runtime.Unknown`` holding ``obj``; the caller checks
    :func:`encodable` first. ``item``, for a list, makes the items' messages (the same bytes
    as :func:`encode_message` would)."""
    api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
    message = table().message_of(api_version, kind)
    if message is None:
        raise _fail(kind, f"no protobuf message for {api_version} {kind}")
    type_meta = _delimited(1, api_version.encode()) + _delimited(2, kind.encode())
    raw = _list_message(message, obj, kind, item) if item is not None else None
    if raw is None:
        raw = encode_message(message, obj, kind)
    return MAGIC + _delimited(1, type_meta) + _delimited(2, raw)


def _list_message(message: str, obj: JSON, where: str, item: ItemEncoder) -> bytes | None:
    """:func:`encode_message` of a list whose ``items`` come from ``item``, or ``None`` when
    ``message`` is not a list whose ``items`` field comes last (the envelope is encoded
    without it and the items appended, which is the field order only then)."""
    layout = table().by_name.get(message) or {}
    items = obj.get("items")
    field = layout.get("items")
    if field is None or field[1] != "r" or not isinstance(items, list):
        return None
    number, _, kind = field
    if table().by_name.get(kind) is None or any(
        other[0] >= number for key, other in layout.items() if key != "items"
    ):
        return None
    head = encode_message(message, {k: v for k, v in obj.items() if k != "items"}, where)
    return head + b"".join(
        _delimited(number, item(kind, one, f"{where}.items[{i}]")) for i, one in enumerate(items)
    )


def encode_watch_event(event: JSON, body: bytes | None = None) -> bytes:
    """One frame of a protobuf watch stream for ``{"type", "object"}``; ``body``: the
    object's :func:`encode_object` bytes when the caller has them."""
    obj = encode_object(event["object"]) if body is None else body
    frame = _delimited(1, str(event["type"]).encode()) + _delimited(2, _delimited(1, obj))
    return struct.pack(">I", len(frame)) + frame
