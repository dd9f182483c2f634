"""The short names and categories of the built-in Kubernetes resources.

OpenAPI documents do not carry them (only discovery does), so a server started from OpenAPI
documents alone would serve discovery without ``po``, ``deploy`` or the ``all`` category, and
``kubectl get po`` or ``kubectl get all`` would fail. kgen ships them in
``data/builtin_names.json``, generated from real 1.33 and 1.31 discovery documents by
``tools/builtin_names.py`` (re-run it to refresh the table). Read once, then shared read-only;
thread-safe.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

__all__ = ["builtin_names"]

_Names = tuple[tuple[str, ...], tuple[str, ...]]


@functools.cache
def _table() -> dict[tuple[str, str], _Names]:
    text = resources.files("kgen.testing").joinpath("data/builtin_names.json").read_text()
    table: dict[tuple[str, str], _Names] = {}
    for key, entry in json.loads(text)["resources"].items():
        group, _, plural = key.rpartition("/")
        table[(group, plural)] = (
            tuple(entry.get("shortNames", ())),
            tuple(entry.get("categories", ())),
        )
    return table


def builtin_names(
    group: str, plural: str, short_names: tuple[str, ...], categories: tuple[str, ...]
) -> _Names:
    """``(short_names, categories)`` of a built-in resource: the ones given, each filled from
    the shipped table when empty (resources the table does not know keep what they have)."""
    known = _table().get((group, plural))
    if known is None:
        return short_names, categories
    return short_names or known[0], categories or known[1]
