"""JSON bytes as kube-apiserver writes them (Go's ``encoding/json`` encoder).

kube-apiserver's JSON serializer writes an object compactly, fields in the Go struct's order,
``<``, ``>`` and ``&`` escaped as ``\\u003c``, ``\\u003e`` and ``\\u0026``, U+2028 and U+2029
escaped, other text as UTF-8, and a newline after the object. :func:`encode` does the same for
a JSON dict whose keys are already in that order (the dict's insertion order is kept). Pure and
thread-safe.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["encode"]

_encoder = msgspec.json.Encoder()
_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def encode(obj: Any) -> bytes:
    """``obj`` as Go's ``json.Encoder.Encode`` writes it, trailing newline included. The
    characters escaped only occur inside strings, so replacing their bytes is exact."""
    data = _encoder.encode(obj)
    for raw, escaped in _ESCAPES:
        if raw in data:
            data = data.replace(raw, escaped)
    return data + b"\n"
