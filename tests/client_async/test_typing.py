"""mypy --strict sees the subresource declarations of generated code as methods: plain on the
sync client, coroutines on the async one, with the spec's body and result types; and the
generated async informer factory's accessors, informers and (sync) listers with their model
types, and the async fake clientset as the clientset it extends (the checked-in example
package, generated from kgen's own CRDs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

USE = """\
from kgen.rest import Config
from kgen_databases.aio import AsyncClientset
from kgen_databases.aio.fake import new_simple_async_clientset
from kgen_databases.aio.informers import AsyncSharedInformerFactory
from kgen_databases.clientset import Clientset
from kgen_databases.models.autoscaling_v1 import Scale


def sync(cs: Clientset) -> None:
    clusters = cs.databases_v1.postgres_clusters("ns")
    reveal_type(clusters.get_scale("db"))
    reveal_type(clusters.list())


async def asynchronous() -> None:
    async with AsyncClientset(Config(host="https://127.0.0.1:9")) as cs:
        clusters = cs.databases_v1.postgres_clusters("ns")
        reveal_type(clusters.get_scale)
        reveal_type(await clusters.update_scale("db", Scale(), dry_run=True))
        reveal_type(await clusters.list())
        async with clusters.watch() as events:
            async for event in events:
                reveal_type(event.object)
        await clusters.update_scale("db", 3)
        clusters.get("db")


async def informers(cs: AsyncClientset) -> None:
    async with AsyncSharedInformerFactory(cs, 30.0, namespace="ns") as factory:
        clusters = factory.databases_v1.postgres_clusters()
        reveal_type(clusters.informer())
        reveal_type(clusters.lister().namespace("ns").get("db"))
        reveal_type(factory.databases_v1.storage_profiles().lister().list())
        factory.start()
        reveal_type(await factory.wait_for_cache_sync())
        factory.shutdown()


async def fake() -> None:
    async with new_simple_async_clientset() as cs:
        reveal_type(cs)
        reveal_type(await cs.databases_v1.postgres_clusters("ns").get("db"))
        reveal_type(cs.actions)
"""


def test_mypy_types_sync_and_async_subresource_methods(tmp_path: Path) -> None:
    (tmp_path / "use_aio.py").write_text(USE)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", ".mypy", "use_aio.py"],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(REPO / "generated")},
        capture_output=True,
        text=True,
    )
    lines = [line.split(": ", 1)[1] for line in result.stdout.splitlines() if ": " in line]
    scale = "kgen_databases.models.autoscaling_v1.Scale"
    assert lines == [
        f'note: Revealed type is "{scale}"',
        'note: Revealed type is "kgen_databases.models.databases_v1.PostgresClusterList"',
        f'note: Revealed type is "kgen.client._subresources.AsyncGetSubresource[{scale}]"',
        f'note: Revealed type is "{scale}"',
        'note: Revealed type is "kgen_databases.models.databases_v1.PostgresClusterList"',
        'note: Revealed type is "kgen_databases.models.databases_v1.PostgresCluster"',
        'error: Argument 2 to "__call__" of "AsyncWriteSubresource" has incompatible type "int";'
        ' expected "Scale"  [arg-type]',
        'error: Value of type "Coroutine[Any, Any, PostgresCluster]" must be used'
        "  [unused-coroutine]",
        "note: Are you missing an await?",
        'note: Revealed type is "kgen.cache.aio._informer.AsyncSharedIndexInformer'
        '[kgen_databases.models.databases_v1.PostgresCluster]"',
        'note: Revealed type is "kgen_databases.models.databases_v1.PostgresCluster"',
        'note: Revealed type is "list[kgen_databases.models.databases_v1.StorageProfile]"',
        'note: Revealed type is "dict[object, bool]"',
        'error: Value of type "Coroutine[Any, Any, None]" must be used  [unused-coroutine]',
        "note: Are you missing an await?",
        'note: Revealed type is "kgen_databases.aio.fake.AsyncFakeClientset"',
        'note: Revealed type is "kgen_databases.models.databases_v1.PostgresCluster"',
        'note: Revealed type is "list[kgen.testing._fake.Action]"',
    ], result.stdout
    assert "Found 3 errors in 1 file" in result.stdout
