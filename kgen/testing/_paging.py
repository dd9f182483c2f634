"""Continue tokens of paged lists: the snapshot revision and the last key served.

Tokens are opaque to clients (URL-safe base64 of a small JSON document). Pure functions.
"""

from __future__ import annotations

import base64
import binascii
import json

from kgen.testing._errors import APIError

__all__ = ["EXPIRED", "decode_continue", "encode_continue"]

EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list."
)
"""The message of the 410 a too old continue token gets."""


def encode_continue(revision: int, last_key: str) -> str:
    raw = json.dumps({"v": "kgen.testing/1", "rv": revision, "start": last_key}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """``(revision, last key)`` of a token; 400 BadRequest when it is not one of ours."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise APIError.bad_request(f"continue key is not valid: {token!r}") from None
