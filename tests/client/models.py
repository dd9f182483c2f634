"""Two small typed models standing in for generated ones."""

from __future__ import annotations

from typing import Any

import msgspec

from kgen.meta import UNSET, ListMeta, Model, ObjectMeta, UnsetType


class Widget(Model):
    api_version: str | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | UnsetType = UNSET
    metadata: ObjectMeta | UnsetType = UNSET
    spec: dict[str, Any] | UnsetType = UNSET
    status: dict[str, Any] | UnsetType = UNSET


class WidgetList(Model):
    items: tuple[Widget, ...]
    api_version: str | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | UnsetType = UNSET
    metadata: ListMeta | UnsetType = UNSET


class Scale(Model):
    metadata: ObjectMeta | UnsetType = UNSET
    spec: dict[str, Any] | UnsetType = UNSET


def widget(name: str = "web", namespace: str = "ns1", **spec: Any) -> Widget:
    return Widget(
        api_version="example.com/v1",
        kind="Widget",
        metadata=ObjectMeta(name=name, namespace=namespace),
        spec=dict(spec),
    )
