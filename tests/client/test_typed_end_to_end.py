"""A typed ResourceClient subclass, shaped like generated code, against kgen.testing's server."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest

from kgen.client import GroupVersionResource, PatchType, ResourceClient
from kgen.meta import UNSET, ListMeta, Model, ObjectMeta, UnsetType
from kgen.rest import RESTClient, StatusError, is_already_exists, is_not_found

from .apiserver import running_api


class ConfigMap(Model):
    api_version: str | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | UnsetType = UNSET
    metadata: ObjectMeta | UnsetType = UNSET
    data: dict[str, str] | None | UnsetType = UNSET


class ConfigMapList(Model):
    items: tuple[ConfigMap, ...]
    metadata: ListMeta | UnsetType = UNSET


class Namespace(Model):
    api_version: str | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | UnsetType = UNSET
    metadata: ObjectMeta | UnsetType = UNSET


class NamespaceList(Model):
    items: tuple[Namespace, ...]


class ConfigMapClient(ResourceClient[ConfigMap, ConfigMapList]):
    """What the generator emits for a namespaced resource: names and types only."""

    def __init__(self, rest: RESTClient, namespace: str) -> None:
        super().__init__(
            rest, GroupVersionResource("", "v1", "configmaps"), ConfigMap, ConfigMapList, namespace
        )


class NamespaceClient(ResourceClient[Namespace, NamespaceList]):
    def __init__(self, rest: RESTClient) -> None:
        super().__init__(
            rest, GroupVersionResource("", "v1", "namespaces"), Namespace, NamespaceList, None
        )


def cm(name: str, **data: str) -> ConfigMap:
    return ConfigMap(api_version="v1", kind="ConfigMap", metadata=ObjectMeta(name=name), data=data)


def meta(obj: Any) -> ObjectMeta:
    assert isinstance(obj.metadata, ObjectMeta)
    return obj.metadata


def test_typed_verbs_round_trip_through_a_server(specs_dir: Path) -> None:
    with running_api(specs_dir) as (_, rest):
        namespaces = NamespaceClient(rest)
        created_ns = namespaces.create(Namespace(metadata=ObjectMeta(name="shop")))
        assert meta(created_ns).name == "shop"

        shop = ConfigMapClient(rest, "shop")
        created = shop.create(cm("web", color="blue"))
        assert isinstance(created, ConfigMap)
        assert meta(created).namespace == "shop" and meta(created).uid
        with pytest.raises(StatusError) as caught:
            shop.create(cm("web"))
        assert is_already_exists(caught.value)

        created.data = {"color": "green"}
        updated = shop.update(created)
        assert updated.data == {"color": "green"}
        assert meta(updated).resource_version != meta(created).resource_version

        patched = shop.patch("web", {"data": {"size": "L"}}, PatchType.MERGE)
        assert patched.data == {"color": "green", "size": "L"}
        applied = shop.apply(
            ConfigMap(
                api_version="v1",
                kind="ConfigMap",
                metadata=ObjectMeta(name="web"),
                data={"owner": "me"},
            ),
            field_manager="me",
        )
        assert isinstance(applied.data, dict) and applied.data["owner"] == "me"

        listed = shop.list()
        assert isinstance(listed, ConfigMapList)
        assert [meta(item).name for item in listed.items] == ["web"]
        assert isinstance(listed.metadata, ListMeta) and listed.metadata.resource_version

        everywhere = ConfigMapClient(rest, "").list()  # namespaced client, all namespaces
        assert "web" in [meta(item).name for item in everywhere.items]

        shop.delete("web")
        with pytest.raises(StatusError) as caught:
            shop.get("web")
        assert is_not_found(caught.value)


def test_typed_watch_decodes_models(specs_dir: Path) -> None:
    with running_api(specs_dir) as (_, rest):
        NamespaceClient(rest).create(Namespace(metadata=ObjectMeta(name="shop")))
        shop = ConfigMapClient(rest, "shop")
        start = shop.list().metadata
        assert isinstance(start, ListMeta) and isinstance(start.resource_version, str)
        events: list[tuple[str, ConfigMap]] = []
        with shop.watch(resource_version=start.resource_version, timeout_seconds=10) as watch:

            def consume() -> None:
                for event in watch:
                    events.append((event.type, event.object))
                    if len(events) == 2:
                        return

            reader = threading.Thread(target=consume)
            reader.start()
            shop.create(cm("a"))
            shop.delete("a")
            reader.join(timeout=10)
            watch.stop()
            reader.join()
        assert [(kind, meta(obj).name) for kind, obj in events] == [
            ("ADDED", "a"),
            ("DELETED", "a"),
        ]
        assert all(isinstance(obj, ConfigMap) for _, obj in events)
