"""Conversion between ``autoscaling/v1`` ``Scale`` and the other ``Scale`` kinds servers speak.

``extensions/v1beta1``, ``apps/v1beta1`` and ``apps/v1beta2`` carry the pod selector twice in
their status: ``selector`` as a map of labels and ``targetSelector`` as a selector string;
``autoscaling/v1`` keeps only the string, as ``selector``. Reading an old kind prefers
``targetSelector`` and otherwise prints the map; writing one sets ``targetSelector`` and, when
the selector is made of equalities only, the map as well. Every other field is the same in all
four. Pure functions: inputs are only read, outputs are new.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from kgen.labels import Selector, SelectorError, parse
from kgen.meta import convert, encode
from kgen.scale._types import AUTOSCALING_V1, Scale

__all__ = ["SCALE_VERSIONS", "ScaleConversionError", "from_autoscaling_v1", "to_autoscaling_v1"]

_MAP_SELECTOR_VERSIONS = ("apps/v1beta1", "apps/v1beta2", "extensions/v1beta1")
SCALE_VERSIONS = (AUTOSCALING_V1, *_MAP_SELECTOR_VERSIONS)
"""The ``apiVersion`` values whose ``Scale`` kgen converts."""


class ScaleConversionError(ValueError):
    """An object that is not a ``Scale`` of a known version, or whose fields do not fit one."""


def _check_version(api_version: object, kind: object) -> str:
    if kind != "Scale" or api_version not in SCALE_VERSIONS:
        raise ScaleConversionError(
            f"cannot convert {api_version}/{kind} to or from autoscaling/v1 Scale: "
            f"kgen converts Scale of {', '.join(SCALE_VERSIONS)}"
        )
    return str(api_version)


def to_autoscaling_v1(obj: Mapping[str, Any]) -> Scale:
    """The ``autoscaling/v1`` view of a ``Scale`` of any version in :data:`SCALE_VERSIONS`,
    as decoded JSON."""
    api_version = _check_version(obj.get("apiVersion"), obj.get("kind"))
    body = dict(obj)
    if api_version != AUTOSCALING_V1:
        status = dict(body.get("status") or {})
        labels = status.pop("selector", None)
        target = status.pop("targetSelector", None)
        if target:
            status["selector"] = target
        elif isinstance(labels, Mapping) and labels:
            try:
                status["selector"] = str(Selector.from_set(labels))
            except SelectorError as err:
                raise ScaleConversionError(f"{api_version} Scale status.selector: {err}") from err
        body["apiVersion"], body["status"] = AUTOSCALING_V1, status
    try:
        scale: Scale = convert(body, Scale)  # keeps the fields a newer server adds
        return scale
    except msgspec.ValidationError as err:
        raise ScaleConversionError(f"{api_version} Scale does not decode: {err}") from err


def from_autoscaling_v1(scale: Scale, api_version: str) -> dict[str, Any]:
    """``scale`` as a ``Scale`` of ``api_version`` (one of :data:`SCALE_VERSIONS`), as JSON."""
    _check_version(api_version, "Scale")
    body: dict[str, Any] = msgspec.json.decode(encode(scale))  # raw unknown fields too
    body["apiVersion"], body["kind"] = api_version, "Scale"
    if api_version == AUTOSCALING_V1:
        return body
    status = body.setdefault("status", {})
    selector = status.pop("selector", None)
    if selector:
        status["targetSelector"] = selector
        try:
            requirements = parse(selector).requirements
        except SelectorError as err:
            raise ScaleConversionError(f"Scale status.selector {selector!r}: {err}") from err
        if all(r.operator in ("=", "==") for r in requirements):
            status["selector"] = {r.key: r.values[0] for r in requirements}
    return body
