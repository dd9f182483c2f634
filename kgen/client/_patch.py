"""The patch formats a server accepts, named by their ``Content-Type``."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["PatchType"]


class PatchType(StrEnum):
    """How the server interprets a PATCH body; the value is the request's ``Content-Type``.

    ``APPLY`` is server-side apply: the body is the whole intended object (JSON is valid YAML)
    and the request must name a field manager.
    """

    JSON = "application/json-patch+json"
    MERGE = "application/merge-patch+json"
    STRATEGIC_MERGE = "application/strategic-merge-patch+json"
    APPLY = "application/apply-patch+yaml"
