"""``--include-group`` / ``--exclude-group``: choosing the group/versions to generate.

A pattern is ``<group>`` (every version) or ``<group>/<version>``, with shell wildcards
(``*.k8s.io``, ``apps/v1*``); ``core`` names the legacy core group (``""``). Pure functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from fnmatch import fnmatchcase

from kgen.generator.views import GenerateError
from kgen.spec.model import APIModel

__all__ = ["select_group_versions"]


def _matches(pattern: str, group: str, version: str) -> bool:
    group_pattern, _, version_pattern = pattern.partition("/")
    group_name = group or "core"
    return fnmatchcase(group_name, group_pattern) and fnmatchcase(version, version_pattern or "*")


def select_group_versions(
    api: APIModel, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> APIModel:
    """A shallow copy of ``api`` keeping the group/versions matched by some ``include`` pattern
    (all when there is none) and by no ``exclude`` pattern. An include pattern that matches
    nothing is an error naming it (it is most likely a typo)."""
    for pattern in include:
        if not any(_matches(pattern, g, v) for g, v in api.group_versions):
            known = ", ".join(sorted({g or "core" for g, _ in api.group_versions}))
            raise GenerateError(
                f"--include-group {pattern!r} matches no group/version of the input "
                f"(groups: {known})"
            )
    kept = {
        key: gv
        for key, gv in api.group_versions.items()
        if (not include or any(_matches(p, *key) for p in include))
        and not any(_matches(p, *key) for p in exclude)
    }
    return dataclasses.replace(api, group_versions=kept)
