"""The generated async fake clientset (``<package>.aio.fake``), on the checked-in package of
kgen's example CRDs and on the package generated from the real 1.35 swagger: the twin of
``test_fake_clientset.py`` / ``test_fake_watch.py`` (recorded actions, reactors, seeded objects,
the tracker's errors, watches, informers), through the whole aiohttp client path. Every test runs
in asyncio debug mode and fails on pending tasks and ResourceWarnings (``tests.aio_helpers.run``),
and ends with the threads it started gone."""

from __future__ import annotations

import asyncio
import importlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_fake_clientset import _check_docstring  # tests/generator is on sys.path (no package)

from kgen.cache import ResourceEventHandlerFuncs
from kgen.client import PatchType
from kgen.meta import ObjectMeta, encode
from kgen.rest import StatusError, is_already_exists, is_bad_request, is_not_found
from kgen.testing import Action, APIError
from tests.aio_helpers import run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


@pytest.fixture(autouse=True)
def _no_thread_left() -> Iterator[None]:
    """Every connection thread a test's fake started has ended when the test is over."""
    before = threading.active_count()
    yield
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]


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


def _keys(items: Any) -> set[tuple[str, str, str]]:
    return {(i.metadata.namespace, i.metadata.name, i.metadata.resource_version) for i in items}


def _json(obj: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(encode(obj))
    return loaded


def _fake(*objects: Any) -> Any:
    from kgen_databases.aio.fake import new_simple_async_clientset

    return new_simple_async_clientset(*objects)


@pytest.mark.usefixtures("example_package")
def test_crud_through_the_async_fake_records_every_action() -> None:
    """create, get, list, update, patch, delete and their actions, in order."""

    async def main() -> None:
        async with _fake() as cs:
            clusters = cs.databases_v1.postgres_clusters("default")
            await clusters.create(_cluster("b"))
            created = await clusters.create(_cluster("a", app="x"))
            assert created.metadata.uid and created.metadata.namespace == "default"
            assert _names((await clusters.list()).items) == ["a", "b"]
            got = await clusters.get("a")
            got.spec.version = "17"
            updated = await clusters.update(got)
            assert updated.spec.version == "17"
            assert updated.metadata.resource_version != got.metadata.resource_version
            patched = await clusters.patch(
                "a", {"metadata": {"labels": {"app": "y"}}}, PatchType.MERGE
            )
            assert patched.metadata.labels == {"app": "y"} and patched.spec.version == "17"
            await clusters.delete("b")
            assert _names((await clusters.list()).items) == ["a"]
            assert [(a.verb, a.resource, a.namespace, a.name) for a in cs.actions] == [
                ("create", "postgresclusters", "default", ""),
                ("create", "postgresclusters", "default", ""),
                ("list", "postgresclusters", "default", ""),
                ("get", "postgresclusters", "default", "a"),
                ("update", "postgresclusters", "default", "a"),
                ("patch", "postgresclusters", "default", "a"),
                ("delete", "postgresclusters", "default", "b"),
                ("list", "postgresclusters", "default", ""),
            ]
            assert cs.actions[5].content_type == "application/merge-patch+json"
            assert cs.actions[5].object() == {"metadata": {"labels": {"app": "y"}}}
            cs.clear_actions()
            assert cs.actions == []

    run(main)


@pytest.mark.usefixtures("example_package")
def test_seeded_objects_and_selection() -> None:
    """Seeded objects (models or JSON) are listed, across namespaces with "" too; label and
    field selectors apply; a namespaced object seeded without a namespace lands in default."""
    from kgen_databases.aio.fake import AsyncFakeClientset

    seeded = AsyncFakeClientset(
        _cluster("x", "ns", app="a"), _json(_cluster("y", "ns", app="b")), _cluster("z")
    )

    async def main() -> None:
        async with seeded as cs:
            clusters = cs.databases_v1.postgres_clusters("ns")
            assert _names((await clusters.list(label_selector="app=a")).items) == ["x"]
            assert _names((await clusters.list(field_selector="metadata.name=y")).items) == ["y"]
            everywhere = await cs.databases_v1.postgres_clusters("").list()
            assert _names(everywhere.items) == ["z", "x", "y"]  # by namespace, then name
            assert (await cs.databases_v1.postgres_clusters("default").get("z")).metadata.name
            # as client-go's tracker: three seeded objects leave the list at version "4"
            assert everywhere.metadata.resource_version == "4"
            assert [c.metadata.resource_version for c in everywhere.items] == ["4", "2", "3"]

    run(main)


@pytest.mark.usefixtures("example_package")
def test_factory_namespace_and_tweak_reach_the_list_and_watch() -> None:
    """The async factory's namespace and list-options tweak shape the informers' requests;
    cluster-scoped resources ignore the namespace."""
    from dataclasses import replace

    from kgen_databases.aio.informers import AsyncSharedInformerFactory

    from kgen.rest import ListOptions

    def tweak(options: ListOptions) -> ListOptions:
        return replace(options, label_selector="a=b")

    async def main() -> None:
        async with _fake(_cluster("x", "ns1", a="b"), _cluster("y", "ns1")) as cs:
            factory = AsyncSharedInformerFactory(cs, 0.0, namespace="ns1", tweak_list_options=tweak)
            async with factory:
                clusters = factory.databases_v1.postgres_clusters()
                clusters.informer()  # asking creates it; start() starts those created
                factory.databases_v1.storage_profiles().informer()
                factory.start()
                assert all((await factory.wait_for_cache_sync(timeout=10)).values())
                assert _names(clusters.lister().list()) == ["x"]
            requests = {(a.verb, a.resource, a.namespace) for a in cs.actions}
            assert {
                ("list", "postgresclusters", "ns1"),
                ("list", "storageprofiles", ""),
            } <= requests
            assert ("watch", "postgresclusters", "ns1") in requests
            lists = [a for a in cs.actions if a.verb in ("list", "watch")]
            assert all(a.query.get("labelSelector") == ["a=b"] for a in lists)

    run(main)


@pytest.mark.usefixtures("example_package")
def test_reactors_decide_before_the_tracker() -> None:
    """A prepended reactor's APIError reaches the client as the typed StatusError, the store is
    unchanged, the action is recorded; a subresource reactor sees only that subresource; "*"
    sees everything; a reactor's object answers instead of the tracker."""

    def refuse(action: Action) -> None:
        raise APIError(403, "Forbidden", f"no {action.verb} for you")

    seen: list[str] = []

    def watch_status(action: Action) -> None:
        seen.append(f"{action.verb} {action.subresource}")

    def everything(action: Action) -> None:
        seen.append(f"* {action.verb}")

    def invented(action: Action) -> dict[str, Any]:
        return {**_json(_cluster("invented", "default")), "metadata": {"name": action.name}}

    async def main() -> None:
        async with _fake() as cs:
            cs.prepend_reactor("create", "postgresclusters", refuse)
            cs.add_reactor("*", "postgresclusters/status", watch_status)
            cs.add_reactor("*", "*", everything)
            clusters = cs.databases_v1.postgres_clusters("default")
            with pytest.raises(StatusError) as raised:
                await clusters.create(_cluster("a"))
            assert raised.value.code == 403
            assert raised.value.status.message == "no create for you"
            assert [a.verb for a in cs.actions] == ["create"]
            assert (await clusters.list()).items == ()

            cs.fake.tracker.add({**_json(_cluster("a")), "metadata": {"name": "a"}})
            got = await clusters.get("a")
            await clusters.update_status(got)
            assert seen == ["* list", "* get", "update status", "* update"]

            cs.prepend_reactor("get", "postgresclusters", invented)
            assert (await clusters.get("ghost")).metadata.name == "ghost"
            with pytest.raises(StatusError) as missing:  # the tracker was not asked
                await clusters.delete("ghost")
            assert is_not_found(missing.value)

    run(main)


@pytest.mark.usefixtures("example_package")
def test_tracker_errors_are_typed_status_errors() -> None:
    """AlreadyExists on a second create, NotFound on updating a missing object, BadRequest when
    the object's namespace differs from the request's: the server's own wording."""

    async def main() -> None:
        async with _fake() as cs:
            clusters = cs.databases_v1.postgres_clusters("a")
            await clusters.create(_cluster("x"))
            with pytest.raises(StatusError) as twice:
                await clusters.create(_cluster("x"))
            assert is_already_exists(twice.value)
            with pytest.raises(StatusError) as missing:
                await clusters.update(_cluster("nope", "a"))
            assert is_not_found(missing.value)
            with pytest.raises(StatusError) as elsewhere:
                await clusters.create(_cluster("y", "b"))
            assert is_bad_request(elsewhere.value)
            assert elsewhere.value.status.message == (
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )

    run(main)


@pytest.mark.usefixtures("example_package")
def test_cluster_scoped_resources_and_delete_collection() -> None:
    from kgen_databases.models import databases_v1 as m

    async def main() -> None:
        async with _fake() as cs:
            profiles = cs.databases_v1.storage_profiles()
            profile = m.StorageProfile(
                metadata=ObjectMeta(name="p"), spec=m.StorageProfileSpec(provisioner="x")
            )
            await profiles.create(profile)
            assert (await profiles.get("p")).spec == profile.spec
            await profiles.delete("p")
            clusters = cs.databases_v1.postgres_clusters("ns")
            await clusters.create(_cluster("a", app="x"))
            await clusters.create(_cluster("b", app="y"))
            await clusters.delete_collection(label_selector="app=x")
            assert _names((await clusters.list()).items) == ["b"]
            assert [(a.verb, a.namespace) for a in cs.actions] == [
                ("create", ""),
                ("get", ""),
                ("delete", ""),
                ("create", "ns"),
                ("create", "ns"),
                ("deletecollection", "ns"),
                ("list", "ns"),
            ]
            assert cs.actions[5].query["labelSelector"] == ["app=x"]

    run(main)


@pytest.mark.usefixtures("example_package")
def test_a_watch_follows_the_tracker_and_stopping_it_ends_its_thread() -> None:
    async def main() -> None:
        async with _fake(_cluster("first", "default")) as cs:
            clusters = cs.databases_v1.postgres_clusters("default")
            seen: list[tuple[str, str]] = []
            async with clusters.watch(resource_version="0", timeout_seconds=10) as watch:
                async for event in watch:
                    seen.append((event.type, event.object.metadata.name))
                    if len(seen) == 1:
                        await clusters.create(_cluster("second"))
                        await clusters.delete("first")
                    if len(seen) == 3:
                        break
            assert seen == [("ADDED", "first"), ("ADDED", "second"), ("DELETED", "first")]
            assert cs.actions[0].verb == "watch"

    run(main)


@pytest.mark.usefixtures("example_package")
def test_a_reactor_answers_a_watch_with_its_events() -> None:
    """A watch reactor's list of events is streamed as the watch (then the stream ends)."""
    events = [
        {"type": "ADDED", "object": _json(_cluster("r1", "default"))},
        {"type": "MODIFIED", "object": _json(_cluster("r1", "default", v="2"))},
        {"type": "DELETED", "object": _json(_cluster("r1", "default", v="2"))},
    ]

    async def main() -> None:
        async with _fake(_cluster("stored", "default")) as cs:
            cs.prepend_reactor("watch", "postgresclusters", lambda action: events)
            clusters = cs.databases_v1.postgres_clusters("default")
            async with clusters.watch() as watch:
                seen = [
                    (e.type, e.object.metadata.name, e.object.metadata.labels or {})
                    async for e in watch
                ]
            assert seen == [
                ("ADDED", "r1", {}),
                ("MODIFIED", "r1", {"v": "2"}),
                ("DELETED", "r1", {"v": "2"}),
            ]
            assert [a.verb for a in cs.actions] == ["watch"]

    run(main)


@pytest.mark.usefixtures("example_package")
def test_an_async_informer_syncs_from_the_fake_and_follows_it() -> None:
    """The factory's informer lists and watches the fake: after the sync its lister holds what
    the fake's tracker holds; later changes reach the handler and the cache."""
    from kgen_databases.aio.informers import AsyncSharedInformerFactory

    async def main() -> None:
        async with _fake(_cluster("seeded", "default"), _cluster("other", "ns")) as cs:
            names: list[str] = []

            def on_add(obj: Any) -> None:
                names.append(obj.metadata.name)

            async with AsyncSharedInformerFactory(cs, 0.0) as factory:
                informer = factory.databases_v1.postgres_clusters()
                informer.add_event_handler(ResourceEventHandlerFuncs(add_func=on_add))
                factory.start()
                assert all((await factory.wait_for_cache_sync(timeout=10)).values())
                stored = (await cs.databases_v1.postgres_clusters("").list()).items
                assert (
                    _keys(informer.lister().list())
                    == _keys(stored)
                    == {
                        ("default", "seeded", "2"),
                        ("ns", "other", "3"),
                    }
                )
                await cs.databases_v1.postgres_clusters("default").create(_cluster("later"))
                async with asyncio.timeout(10):
                    while "later" not in names:
                        await asyncio.sleep(0.01)
                listed = informer.lister().namespace("default").list()
                assert sorted(_names(listed)) == ["later", "seeded"]
            assert sorted(names) == ["later", "other", "seeded"]
            assert {(a.verb, a.namespace) for a in cs.actions} >= {("list", ""), ("watch", "")}

    run(main)


@pytest.mark.usefixtures("example_package")
def test_cancelling_a_watching_task_and_closing_leaves_nothing_behind() -> None:
    """A task blocked on a watch is cancelled, the clientset closed: the connection threads
    (the watch's and the pooled one's) end, no socket is left (ResourceWarning is an error)."""
    before = threading.active_count()

    async def main() -> None:
        cs = _fake(_cluster("a", "default"))
        clusters = cs.databases_v1.postgres_clusters("default")
        await clusters.get("a")
        first: asyncio.Event = asyncio.Event()

        async def follow() -> None:
            async with clusters.watch() as watch:
                async for _ in watch:
                    first.set()

        task = asyncio.create_task(follow())
        async with asyncio.timeout(10):
            await first.wait()
        # one connection thread: the get's pooled connection, which the watch then took
        assert threading.active_count() == before + 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await cs.close()
        assert threading.active_count() == before
        await cs.close()  # idempotent

    run(main)


@pytest.mark.usefixtures("example_package")
def test_retries_and_faults_run_through_the_async_client() -> None:
    """The fake's handler has the API server's fault plan: a 429 with Retry-After is retried
    by the async client (two recorded gets), a 500 on a create is not retried."""

    async def main() -> None:
        async with _fake(_cluster("a", "default")) as cs:
            cs.fake.handler.faults.fail(429, retry_after=0, verb="get", times=1)
            cs.fake.handler.faults.fail(500, verb="create", times=1)
            clusters = cs.databases_v1.postgres_clusters("default")
            assert (await clusters.get("a")).metadata.name == "a"
            with pytest.raises(StatusError) as failed:
                await clusters.create(_cluster("b"))
            assert failed.value.code == 500
            assert [a.verb for a in cs.actions] == ["get", "get", "create"]

    run(main)


def test_patch_of_a_missing_node_on_the_real_135_package(packages: tuple[Path, Any]) -> None:
    """A strategic-merge patch of a node nobody created: NotFound naming it, recorded; then
    core/v1 pods created, listed, and their typed fields decoded."""
    aio_fake = importlib.import_module("k135.aio.fake")
    core = importlib.import_module("k135.models.core_v1")

    async def main() -> None:
        async with aio_fake.new_simple_async_clientset() as cs:
            with pytest.raises(StatusError) as raised:
                await cs.core_v1.nodes().patch(
                    "node-1", {"metadata": {"labels": {"a": "b"}}}, PatchType.STRATEGIC_MERGE
                )
            assert is_not_found(raised.value)
            assert raised.value.status.message == 'nodes "node-1" not found'
            pod = core.Pod(
                metadata=ObjectMeta(name="web"),
                spec=core.PodSpec(containers=[core.Container(name="app", image="nginx")]),
            )
            await cs.core_v1.pods("default").create(pod)
            listed = await cs.core_v1.pods("default").list()
            assert [p.spec.containers[0].image for p in listed.items] == ["nginx"]
            assert [(a.verb, a.resource, a.name, a.content_type) for a in cs.actions] == [
                ("patch", "nodes", "node-1", "application/strategic-merge-patch+json"),
                ("create", "pods", "", "application/json"),
                ("list", "pods", "", ""),
            ]

    run(main)


def test_the_async_fake_mirrors_the_sync_one(
    example_package: Path, packages: tuple[Path, dict[str, Any]]
) -> None:
    """One template: the async module names the Async twins, shares api_model, and its
    docstring's example names real attributes of an AsyncFakeClientset."""
    for package in ("kgen_databases", "k135", "crds"):
        sync = importlib.import_module(f"{package}.fake")
        aio = importlib.import_module(f"{package}.aio.fake")
        assert aio.__all__ == ["AsyncFakeClientset", "new_simple_async_clientset"]
        assert aio.api_model is sync.api_model
        assert issubclass(
            aio.AsyncFakeClientset, importlib.import_module(f"{package}.aio").AsyncClientset
        )
        doc = aio.__doc__ or ""
        assert "async with new_simple_async_clientset(" in doc and "await cs." in doc
        assert _check_docstring(sync, "new_simple_clientset") == _check_docstring(
            aio, "new_simple_async_clientset"
        )


def test_any_async_clientset_reaches_a_fake_through_connector_factory(
    example_package: Path, tmp_path: Path
) -> None:
    """The seam is the runtime's, not the fake clientset's: AsyncClientset.from_kubeconfig
    with FakeConnector.factory(fake) talks to that fake (here one holding the package's
    resources)."""
    from kgen_databases.aio import AsyncClientset
    from kgen_databases.fake import api_model

    from kgen.testing import Fake
    from kgen.testing.aio import FakeConnector

    fake = Fake(api_model())
    fake.tracker.add(_json(_cluster("a", "default")))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "f", "cluster": {"server": Fake.url}}],
                "users": [{"name": "u", "user": {"token": "t0ken"}}],
                "contexts": [{"name": "f", "context": {"cluster": "f", "user": "u"}}],
                "current-context": "f",
            }
        )
    )

    async def main() -> None:
        connect = FakeConnector.factory(fake)
        async with AsyncClientset.from_kubeconfig(str(kubeconfig), connector_factory=connect) as cs:
            listed = await cs.databases_v1.postgres_clusters("default").list()
            assert _names(listed.items) == ["a"]

    run(main)
    assert [(a.verb, a.namespace) for a in fake.actions] == [("list", "default")]


def test_exec_logs_and_port_forward_through_the_async_fake(packages: tuple[Path, Any]) -> None:
    """The fake's handler serves the pod streams too: logs over aiohttp, exec and a
    port-forward over websockets on a socket the fake's connector hands out (its thread ends
    with the session); every request is recorded."""
    from kgen.streams import ExecResult
    from tests.streams.conftest import echo
    from tests.streams.shell import shell

    aio_fake = importlib.import_module("k135.aio.fake")
    core = importlib.import_module("k135.models.core_v1")
    pod = core.Pod(
        metadata=ObjectMeta(name="web", namespace="default"),
        spec=core.PodSpec(containers=[core.Container(name="main", image="busybox")]),
    )
    cs = aio_fake.new_simple_async_clientset(pod)
    cs.fake.handler.containers.on_exec(shell)
    cs.fake.handler.containers.on_port(echo, pod="web", port=7)
    log = cs.fake.handler.containers.log("default", "web", "main")
    log.write("one\ntwo\n")
    log.end()

    async def main() -> tuple[ExecResult, str, bytes]:
        async with cs:
            pods = cs.core_v1.pods("default")
            result = await pods.exec("web", ["sh", "-c", "echo out; cat; exit 3"], stdin=b"in\n")
            whole = await pods.logs("web", tail_lines=1)
            async with (
                await pods.port_forward("web") as forwarder,
                await forwarder.connect(7) as connection,
            ):
                await connection.write(b"hello\n")
                echoed = await connection.readline()
            return result, whole, echoed

    assert run(main) == (ExecResult(b"out\nin\n", b"", 3), "two\n", b"HELLO\n")
    assert [(a.verb, a.resource, a.subresource) for a in cs.actions] == [
        ("get", "pods", "exec"),
        ("get", "pods", "log"),
        ("get", "pods", ""),  # port_forward reads the pod first, as kubectl does
        ("get", "pods", "portforward"),
    ]
