"""The generated async typed clients (``<package>.aio``) against kgen.testing's server: every
verb, subresources, watch, the streams, cancellation, in asyncio debug mode with nothing left
open (``run``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kgen.client import PatchType
from kgen.meta import LabelSelector, ObjectMeta
from kgen.rest import Config, StatusError, is_already_exists, is_conflict, is_not_found
from kgen.streams import AsyncLogStream, ExecResult
from kgen.testing import APIServer
from tests.rest_async.conftest import request_threads, run, wait_for
from tests.streams.conftest import echo
from tests.streams.shell import shell

from .conftest import module

pytestmark = [
    pytest.mark.filterwarnings("error::ResourceWarning"),
    pytest.mark.usefixtures("generated"),
]

_count = iter(range(1_000_000))


def _unique(prefix: str) -> str:
    return f"{prefix}-{next(_count)}"


def _cm(name: str, **data: str) -> Any:
    core = module("models.core_v1")
    return core.ConfigMap(metadata=ObjectMeta(name=name, labels={"app": "web"}), data=data)


def _pod(name: str) -> Any:
    core = module("models.core_v1")
    container = core.Container(name="main", image="busybox")
    return core.Pod(metadata=ObjectMeta(name=name), spec=core.PodSpec(containers=(container,)))


def test_every_verb_of_a_config_map_round_trips(config: Config) -> None:
    core = module("models.core_v1")
    ac = module("applyconfigurations.core_v1")
    clientset = module("aio").AsyncClientset
    namespace = _unique("shop")

    async def main() -> None:
        async with clientset(config) as cs:
            created_ns = await cs.core_v1.namespaces().create(
                core.Namespace(metadata=ObjectMeta(name=namespace))
            )
            assert isinstance(created_ns, core.Namespace)
            cms = cs.core_v1.config_maps(namespace)
            created = await cms.create(_cm("web", k="v"))
            assert isinstance(created, core.ConfigMap) and created.metadata.uid
            with pytest.raises(StatusError) as caught:
                await cms.create(_cm("web"))
            assert is_already_exists(caught.value)

            got = await cms.get("web")
            assert got.data == {"k": "v"}
            listed = await cms.list(label_selector="app=web")
            assert isinstance(listed, core.ConfigMapList)
            assert [c.metadata.name for c in listed.items] == ["web"]

            got.data = {"k": "w"}
            assert (await cms.update(got)).data == {"k": "w"}
            with pytest.raises(StatusError) as caught:
                await cms.update(got)  # its resourceVersion is stale now
            assert is_conflict(caught.value)

            await cms.patch("web", {"data": {"m": "1"}}, PatchType.MERGE)
            await cms.patch("web", {"data": {"s": "1"}}, PatchType.STRATEGIC_MERGE)
            patched = await cms.patch(
                "web", [{"op": "add", "path": "/data/j", "value": "1"}], PatchType.JSON
            )
            assert patched.data == {"k": "w", "m": "1", "s": "1", "j": "1"}

            mine = ac.apply_config_map("applied", namespace).__replace__(data={"x": "1"})
            applied = await cms.apply(mine, field_manager="aio")
            assert isinstance(applied, core.ConfigMap) and applied.data == {"x": "1"}
            assert [f.manager for f in applied.metadata.managed_fields] == ["aio"]
            with pytest.raises(ValueError, match="field_manager is required"):
                await cms.apply(mine, field_manager="")

            await cms.create(_cm("dry"), dry_run=True)
            with pytest.raises(StatusError) as caught:
                await cms.get("dry")
            assert is_not_found(caught.value)

            await cms.delete("applied")
            with pytest.raises(StatusError) as caught:
                await cms.get("applied")
            assert is_not_found(caught.value)
            await cms.create(_cm("second"))
            await cms.delete_collection(label_selector="app=web")
            assert (await cms.list()).items == ()

    run(main)


def test_scale_and_status_subresources_of_a_deployment(config: Config) -> None:
    core = module("models.core_v1")
    apps = module("models.apps_v1")
    apps_ac = module("applyconfigurations.apps_v1")
    clientset = module("aio").AsyncClientset
    labels = {"app": "web"}
    template = core.PodTemplateSpec(
        metadata=ObjectMeta(labels=labels),
        spec=core.PodSpec(containers=(core.Container(name="c", image="nginx"),)),
    )
    name = _unique("web")
    deployment = apps.Deployment(
        metadata=ObjectMeta(name=name),
        spec=apps.DeploymentSpec(
            replicas=1, selector=LabelSelector(match_labels=labels), template=template
        ),
    )

    async def main() -> None:
        async with clientset(config) as cs:
            deployments = cs.apps_v1.deployments("default")
            await deployments.create(deployment)
            scale = await deployments.get_scale(name)
            assert isinstance(scale, module("models.autoscaling_v1").Scale)
            assert scale.spec.replicas == 1
            scale.spec.replicas = 3
            assert (await deployments.update_scale(name, scale)).spec.replicas == 3
            current = await deployments.get(name)
            assert current.spec.replicas == 3
            current.status = apps.DeploymentStatus(replicas=3, ready_replicas=2)
            assert (await deployments.update_status(current)).status.ready_replicas == 2
            status = apps_ac.apply_deployment(name, "default").__replace__(
                status=apps_ac.DeploymentStatusApplyConfiguration(ready_replicas=3)
            )
            applied = await deployments.apply_status(status, field_manager="aio", force=True)
            assert applied.status.ready_replicas == 3

    run(main)


def test_a_typed_watch_is_an_async_iterator_of_typed_events(config: Config) -> None:
    core = module("models.core_v1")
    clientset = module("aio").AsyncClientset
    name = _unique("watched")

    async def main() -> list[tuple[str, str]]:
        async with clientset(config) as cs:
            cms = cs.core_v1.config_maps("default")
            start = (await cms.list()).metadata.resource_version
            seen: list[tuple[str, str]] = []
            async with cms.watch(resource_version=start, timeout_seconds=10) as events:
                await cms.create(_cm(name))
                await cms.delete(name)
                async for event in events:
                    assert isinstance(event.object, core.ConfigMap)
                    if event.object.metadata.name == name:
                        seen.append((event.type, event.object.metadata.name))
                    if len(seen) == 2:
                        break
            assert events.stopped, "leaving async with stops the watch"
            awaited = await cms.watch(resource_version=start, timeout_seconds=10)
            first = await anext(awaited)
            awaited.stop()
            assert first.type == "ADDED"
            return seen

    assert run(main) == [("ADDED", name), ("DELETED", name)]


def test_pod_streams_exec_logs_and_port_forward(server: APIServer, config: Config) -> None:
    server.containers.on_exec(shell)
    clientset = module("aio").AsyncClientset
    name = _unique("pod")

    async def main() -> tuple[ExecResult, str, list[str], bytes]:
        async with clientset(config) as cs:
            pods = cs.core_v1.pods("default")
            await pods.create(_pod(name))
            server.containers.on_port(echo, pod=name, port=7)
            log = server.containers.log("default", name, "main")
            log.write("one\ntwo\n")
            log.end()
            result = await pods.exec(
                name, ["sh", "-c", "echo out; cat; echo err >&2; exit 3"], stdin=b"typed\n"
            )
            whole = await pods.logs(name, tail_lines=1)
            stream = await pods.stream_logs(name)
            assert isinstance(stream, AsyncLogStream)
            async with stream:
                lines = [line async for line in stream]
            forward = await pods.port_forward(name, [":7"])
            async with await forward.connect(7) as connection:
                await connection.write(b"hello\n")
                echoed = await connection.readline()
            async with forward:  # a local listener, as kubectl port-forward
                reader, writer = await asyncio.open_connection("127.0.0.1", forward.local_port(7))
                writer.write(b"listened\n")
                assert await reader.readline() == b"LISTENED\n"
                writer.close()
                await writer.wait_closed()
            with pytest.raises(ValueError, match="non-empty sequence"):
                await pods.exec(name, "ls")
            with pytest.raises(StatusError) as caught:
                await pods.logs("missing")
            assert is_not_found(caught.value)
            return result, whole, lines, echoed

    result, whole, lines, echoed = run(main)
    assert result == ExecResult(b"out\ntyped\n", b"err\n", 3)
    assert whole == "two\n"
    assert lines == ["one", "two"]
    assert echoed == b"HELLO\n"


def test_a_subresource_creator_posts_its_body(config: Config) -> None:
    policy = module("models.policy_v1")
    clientset = module("aio").AsyncClientset
    name = _unique("evicted")

    async def main() -> None:
        async with clientset(config) as cs:
            pods = cs.core_v1.pods("default")
            await pods.create(_pod(name))
            eviction = policy.Eviction(metadata=ObjectMeta(name=name, namespace="default"))
            await pods.create_eviction(name, eviction)
            with pytest.raises(StatusError) as caught:
                await pods.get(name)
            assert is_not_found(caught.value)

    run(main)


def test_cancelling_a_watching_or_following_task_closes_its_connection(
    server: APIServer, config: Config
) -> None:
    clientset = module("aio").AsyncClientset
    name = _unique("followed")

    async def threads(count: int) -> bool:
        return await asyncio.to_thread(wait_for, lambda: request_threads() == count)

    async def main() -> None:
        async with clientset(config) as cs:
            await cs.core_v1.pods("default").create(_pod(name))
        server.containers.log("default", name, "main").write("first\n")
        async with clientset(config) as cs:
            pods = cs.core_v1.pods("default")
            assert await threads(0), "earlier connections are gone"

            async def watching() -> None:
                async with pods.watch() as events:
                    async for _ in events:
                        pass

            async def following() -> None:
                async with await pods.stream_logs(name, follow=True) as stream:
                    async for _ in stream:
                        pass

            for body in (watching, following):
                task = asyncio.create_task(body())
                assert await threads(1), f"{body.__name__} never reached the server"
                await asyncio.sleep(0.1)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert await threads(0), f"{body.__name__}: the server still serves it"

    run(main)


def test_from_kubeconfig_reads_the_context(server: APIServer, tmp_path: Path) -> None:
    clientset = module("aio").AsyncClientset
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    name = _unique("kc")

    async def main() -> str:
        async with clientset.from_kubeconfig(str(kubeconfig)) as cs:
            await cs.core_v1.config_maps("default").create(_cm(name))
            got = await cs.core_v1.config_maps("default").get(name)
            await cs.core_v1.config_maps("default").delete(name)
            return str(got.metadata.name)

    assert run(main) == name


def test_open_exec_is_an_interactive_async_session(server: APIServer, config: Config) -> None:
    server.containers.on_exec(shell)
    clientset = module("aio").AsyncClientset
    name = _unique("interactive")

    async def main() -> tuple[list[bytes], int]:
        async with clientset(config) as cs:
            pods = cs.core_v1.pods("default")
            await pods.create(_pod(name))
            seen = []
            async with await pods.open_exec(name, ["cat"], stdin=True) as session:
                await session.write(b"alpha\n")
                output = await session.read(timeout=10)
                assert output is not None
                seen.append(output.data)
                await session.close_stdin()
                seen.extend([output.data async for output in session])
                code = await session.wait()
            return seen, code

    assert run(main) == ([b"alpha\n"], 0)
