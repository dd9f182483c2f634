"""The options of the verbs, as the tracker takes them and the HTTP layer parses them.

Plain data: build one per call; nothing here is shared or mutated by the tracker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kgen.rest.options import ListOptions  # the client's options, as the server reads them
from kgen.testing._auth import User
from kgen.testing._errors import APIError

__all__ = [
    "PATCH_APPLY",
    "PATCH_JSON",
    "PATCH_MERGE",
    "PATCH_STRATEGIC",
    "ListOptions",
    "WriteOptions",
    "Written",
    "invalid_option",
]

PATCH_JSON = "application/json-patch+json"
PATCH_MERGE = "application/merge-patch+json"
PATCH_STRATEGIC = "application/strategic-merge-patch+json"
PATCH_APPLY = "application/apply-patch+yaml"


@dataclass
class WriteOptions:
    """The query options of create, update, patch and delete."""

    dry_run: bool = False
    field_manager: str = ""
    force: bool = False
    field_validation: str = "Warn"
    body_options: dict[str, Any] = field(default_factory=dict)
    """A delete's ``DeleteOptions`` (preconditions, propagationPolicy, ...)."""
    user: User | None = None
    """Who writes (``None`` when the tracker is driven directly, not over HTTP)."""


@dataclass
class Written:
    """The result of a write: the object (or Status), HTTP code and any warnings."""

    object: dict[str, Any]
    code: int = 200
    warnings: list[str] = field(default_factory=list)


def invalid_option(option: str, reason: str, message: str) -> APIError:
    """422 Invalid about one list/watch option, worded as kube-apiserver words it."""
    return APIError.invalid("ListOptions", "meta.k8s.io", "", [(option, reason, message)])
