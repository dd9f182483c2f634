"""Names a package imports from its submodules on first use (PEP 562 ``__getattr__``), so that
importing the package does not pay for what most of its users never touch."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_attribute"]


def lazy_attribute(
    package: str, submodules: Mapping[str, str], name: str, namespace: MutableMapping[str, Any]
) -> Any:
    """``name`` from ``package``'s submodule ``submodules[name]`` (``"_load"``), imported now
    and kept in the package's ``namespace`` (its ``globals()``), so later lookups are plain
    attribute reads. ``AttributeError`` for a name the table does not hold."""
    module = submodules.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{package}.{module}"), name)
    namespace[name] = value
    return value
