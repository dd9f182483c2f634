"""The generated fake clientset (scenarios 5.2): recorded actions, reactors, seeded objects."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from kgen.meta import ObjectMeta, meta_namespace
from kgen.rest import StatusError, is_already_exists, is_bad_request, is_not_found
from kgen.testing import Action, APIError


def _cluster(name: str, namespace: str = "", **labels: str) -> Any:
    from kgen_databases.models import databases_v1 as m

    meta = ObjectMeta(name=name)
    if namespace:
        meta.namespace = namespace
    if labels:
        meta.labels = labels
    return m.PostgresCluster(
        metadata=meta,
        spec=m.PostgresClusterSpec(version="16", storage=m.PostgresClusterSpecStorage(size=1)),
    )


def _names(items: Any) -> list[str]:
    return [item.metadata.name for item in items]


@pytest.fixture
def fake(example_package: Path) -> Any:
    from kgen_databases.fake import new_simple_clientset

    return new_simple_clientset()


def test_create_then_list_records_actions_in_order(fake: Any) -> None:
    """S13: two creates then a list; both returned sorted, actions create, create, list."""
    clusters = fake.databases_v1.postgres_clusters("default")
    clusters.create(_cluster("b"))
    clusters.create(_cluster("a"))
    assert _names(clusters.list().items) == ["a", "b"]
    assert [(a.verb, a.resource, a.namespace) for a in fake.actions] == [
        ("create", "postgresclusters", "default"),
        ("create", "postgresclusters", "default"),
        ("list", "postgresclusters", "default"),
    ]
    fake.clear_actions()
    assert fake.actions == []


def test_seeded_objects_and_label_selection(example_package: Path) -> None:
    """S17: seeded objects are listed; a label selector picks the matching one."""
    from kgen_databases.fake import FakeClientset

    fake = FakeClientset(_cluster("x", "ns", app="a"), _cluster("y", "ns", app="b"))
    clusters = fake.databases_v1.postgres_clusters("ns")
    assert _names(clusters.list(label_selector="app=a").items) == ["x"]
    assert _names(fake.databases_v1.postgres_clusters("").list().items) == ["x", "y"]


def test_reactors_decide_before_the_tracker(fake: Any) -> None:
    """S16: a prepended reactor's error is returned, the store is unchanged, the action is
    recorded; a reactor for a subresource sees only that subresource; "*" sees everything."""

    def refuse(action: Action) -> None:
        raise APIError(403, "Forbidden", f"no {action.verb} for you")

    seen: list[str] = []

    def watch_status(action: Action) -> None:
        seen.append(f"{action.verb} {action.subresource}")

    def everything(action: Action) -> None:
        seen.append(f"* {action.verb}")

    fake.prepend_reactor("create", "postgresclusters", refuse)
    fake.add_reactor("*", "postgresclusters/status", watch_status)
    fake.add_reactor("*", "*", everything)
    clusters = fake.databases_v1.postgres_clusters("default")
    with pytest.raises(StatusError) as raised:
        clusters.create(_cluster("a"))
    assert raised.value.code == 403
    assert [a.verb for a in fake.actions] == ["create"]
    assert clusters.list().items == ()

    fake.fake.tracker.add({**_as_json(_cluster("a")), "metadata": {"name": "a"}})
    got = clusters.get("a")
    clusters.update_status(got)
    assert seen == ["* list", "* get", "update status", "* update"]  # refuse answered the create


def _as_json(obj: Any) -> dict[str, Any]:
    import json

    from kgen.meta import encode

    loaded: dict[str, Any] = json.loads(encode(obj))
    return loaded


def test_tracker_errors(fake: Any) -> None:
    """S20: AlreadyExists on a second create, NotFound on updating a missing object,
    BadRequest when the object's namespace differs from the request's."""
    clusters = fake.databases_v1.postgres_clusters("a")
    clusters.create(_cluster("x"))
    with pytest.raises(StatusError) as twice:
        clusters.create(_cluster("x"))
    assert is_already_exists(twice.value)
    with pytest.raises(StatusError) as missing:
        clusters.update(_cluster("nope", "a"))
    assert is_not_found(missing.value)
    with pytest.raises(StatusError) as elsewhere:
        clusters.create(_cluster("y", "b"))
    assert is_bad_request(elsewhere.value)
    # kgen's fake answers as kube-apiserver does, not with client-go's tracker's wording
    assert elsewhere.value.status.message == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


def test_cluster_scoped_resources(fake: Any) -> None:
    from kgen_databases.models import databases_v1 as m

    profiles = fake.databases_v1.storage_profiles()
    profile = m.StorageProfile(
        metadata=ObjectMeta(name="p"), spec=m.StorageProfileSpec(provisioner="x")
    )
    profiles.create(profile)
    assert profiles.get("p").spec == profile.spec
    profiles.delete("p")
    assert [(a.verb, a.namespace) for a in fake.actions] == [
        ("create", ""),
        ("get", ""),
        ("delete", ""),
    ]


def test_all_namespaces_and_one_namespace(fake: Any) -> None:
    """S6: a namespaced client made with "" lists across namespaces; otherwise it addresses its
    own namespace."""
    fake.databases_v1.postgres_clusters("ns1").create(_cluster("a"))
    fake.databases_v1.postgres_clusters("ns2").create(_cluster("b"))
    assert _names(fake.databases_v1.postgres_clusters("").list().items) == ["a", "b"]
    assert _names(fake.databases_v1.postgres_clusters("ns2").list().items) == ["b"]
    assert [a.namespace for a in fake.actions if a.verb == "list"] == ["", "ns2"]


def test_factory_namespace_and_tweak_reach_the_list_and_watch(fake: Any) -> None:
    """S25: the factory's namespace and list-options tweak shape the informer's requests."""
    from dataclasses import replace

    from kgen_databases.informers import SharedInformerFactory

    from kgen.rest import ListOptions

    def tweak(options: ListOptions) -> ListOptions:
        return replace(options, label_selector="a=b")

    fake.databases_v1.postgres_clusters("ns1").create(_cluster("x"))
    factory = SharedInformerFactory(fake, 0.0, namespace="ns1", tweak_list_options=tweak)
    try:
        factory.databases_v1.postgres_clusters().informer()
        factory.databases_v1.storage_profiles().informer()
        factory.start()
        assert all(factory.wait_for_cache_sync(timeout=10).values())
    finally:
        factory.shutdown()
    requests = {(a.verb, a.resource, a.namespace) for a in fake.actions if a.verb != "create"}
    assert ("list", "postgresclusters", "ns1") in requests
    assert ("list", "storageprofiles", "") in requests, "cluster-scoped ignore the namespace"
    lists = [a for a in fake.actions if a.verb == "list"]
    assert all(a.query.get("labelSelector") == ["a=b"] for a in lists)


def test_field_selectors_apply_in_kgens_fake(example_package: Path) -> None:
    """S17, kgen's difference: the fake is an in-memory API server, so a field selector is
    applied (client-go's fake ignores it); label selection is as in client-go."""
    from kgen_databases.fake import FakeClientset

    fake = FakeClientset(_cluster("x", "ns", app="a"), _cluster("y", "ns", app="a"))
    clusters = fake.databases_v1.postgres_clusters("ns")
    assert _names(clusters.list(label_selector="app=a").items) == ["x", "y"]
    assert _names(clusters.list(field_selector="metadata.name=y").items) == ["y"]
    assert fake.actions[-1].query["fieldSelector"] == ["metadata.name=y"]


def test_seeded_objects_get_resource_versions_as_in_client_go(example_package: Path) -> None:
    """S18 (list part): two seeded objects leave the list at resource version "3", as
    client-go's tracker does; kgen also writes each object's own resourceVersion (the server's),
    which client-go's tracker leaves untouched."""
    from kgen_databases.fake import FakeClientset

    fake = FakeClientset(_cluster("a", "ns"), _cluster("b", "ns"))
    listed: Any = fake.databases_v1.postgres_clusters("ns").list()
    assert listed.metadata.resource_version == "3"
    assert [c.metadata.resource_version for c in listed.items] == ["2", "3"]


def test_delete_collection_is_recorded_and_deletes(fake: Any) -> None:
    """S19, kgen's difference: delete_collection is recorded (verb "deletecollection", the
    server's name) and, unlike client-go's fake, really deletes what its selector matches."""
    clusters = fake.databases_v1.postgres_clusters("ns")
    clusters.create(_cluster("a", app="x"))
    clusters.create(_cluster("b", app="y"))
    clusters.delete_collection(label_selector="app=x")
    assert fake.actions[-1].verb == "deletecollection"
    assert fake.actions[-1].query["labelSelector"] == ["app=x"]
    assert _names(clusters.list().items) == ["b"]


def test_patch_of_a_missing_node_is_not_found(packages: tuple[Path, Any]) -> None:
    """S15: a strategic-merge patch of a node nobody created fails with NotFound naming it, on
    the fake clientset generated from the real 1.35 documents; the patch is recorded."""
    from kgen.client import PatchType

    fake = importlib.import_module("k135.fake").new_simple_clientset()
    with pytest.raises(StatusError) as raised:
        fake.core_v1.nodes().patch("node-1", {"metadata": {"labels": {"a": "b"}}},
                                   PatchType.STRATEGIC_MERGE)  # fmt: skip
    assert is_not_found(raised.value)
    assert raised.value.status.message == 'nodes "node-1" not found'
    assert [(a.verb, a.resource, a.name, a.content_type) for a in fake.actions] == [
        ("patch", "nodes", "node-1", "application/strategic-merge-patch+json")
    ]


def test_a_seeded_object_without_a_namespace_lands_in_default(example_package: Path) -> None:
    """kgen's difference: a namespaced object seeded without a namespace is stored in
    "default" (as kubectl would create it); client-go's tracker keeps it under ""."""
    from kgen_databases.fake import FakeClientset

    fake = FakeClientset(_cluster("x"))
    assert _names(fake.databases_v1.postgres_clusters("default").list().items) == ["x"]
    assert meta_namespace(fake.databases_v1.postgres_clusters("default").get("x")) == "default"


_DOC_CALL = re.compile(r"cs\.((?:\w+\.)*\w+)\(")
_DOC_REACTOR = re.compile(r'prepend_reactor\("(\w+)", "([\w/]+)"')


def _check_docstring(module: Any, factory: str = "new_simple_clientset") -> list[str]:
    """Every ``cs.<attr>...`` the fake's docstring names exists on the clientset ``factory``
    makes, and the reactor's resource is one the package serves; returns the chains found."""
    doc = module.__doc__ or ""
    chains = _DOC_CALL.findall(doc)
    fake = getattr(module, factory)()
    for chain in chains:
        target = fake
        for part in chain.split("."):
            assert hasattr(target, part), f"the docstring names cs.{chain}; {part!r} is missing"
            target = getattr(target, part)
            if part != chain.split(".")[-1] and callable(target):
                break
    served = {r for gv in module.api_model().group_versions.values() for r in gv.resources}
    for _verb, resource in _DOC_REACTOR.findall(doc):
        assert resource in served
    return chains


def test_the_fake_docstring_names_real_attributes(
    example_package: Path, packages: tuple[Path, dict[str, Any]]
) -> None:
    """Rendered from the package's own group/versions: kgen's example CRDs have no core_v1."""
    example = importlib.import_module("kgen_databases.fake")
    assert _check_docstring(example) == ["fake.prepend_reactor", "databases_v1.postgres_clusters"]
    assert "core_v1" not in (example.__doc__ or "")
    k135 = importlib.import_module("k135.fake")
    assert _check_docstring(k135) == ["fake.prepend_reactor", "core_v1.pods"]
    crds = importlib.import_module("crds.fake")
    assert len(_check_docstring(crds)) == 2
