"""Copying to and from a pod as ``kubectl cp`` does (tar over exec): kgen's ``copy_to_pod`` and
``copy_from_pod`` against a container whose ``tar`` is :mod:`tests.streams.fakefs`, judged by
kubectl 1.30 and 1.33 copying the same trees the other way."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.client import ResourceClient
from kgen.dynamic.aio import AsyncDynamicClient
from kgen.rest import Config, StatusError
from kgen.rest.aio import AsyncRESTClient
from kgen.streams import CopyError
from kgen.testing import APIServer, ContainerProcess
from tests.aio_helpers import run
from tests.streams.conftest import PODS, MakePod
from tests.streams.fakefs import FakeFS, hostile_tar
from tests.streams.test_judges import WEBSOCKET_KUBECTLS
from tests.testing.test_kubectl import Kubectl, _binary

Pods = ResourceClient[dict[str, Any], dict[str, Any]]


@pytest.fixture
def fs(server: APIServer, tmp_path: Path) -> FakeFS:
    root = tmp_path / "container"
    (root / "data").mkdir(parents=True)
    fs = FakeFS(root)
    server.containers.on_exec(fs)
    return fs


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A local tree: names with spaces, a nested and an empty directory, an executable, and a
    symlink to a file inside the tree."""
    top = tmp_path / "my tree"
    (top / "sub dir").mkdir(parents=True)
    (top / "empty dir").mkdir()
    (top / "sub dir" / "file one.txt").write_text("one\n")
    (top / "run me.sh").write_text("#!/bin/sh\necho hi\n")
    (top / "run me.sh").chmod(0o755)
    (top / "link to one").symlink_to("sub dir/file one.txt")
    return top


def snapshot(top: Path) -> dict[str, tuple[object, ...]]:
    """Everything under ``top``: relative path -> (kind, contents or link target, mode)."""
    seen: dict[str, tuple[object, ...]] = {}
    for path in sorted(top.rglob("*")):
        key = str(path.relative_to(top))
        if path.is_symlink():
            seen[key] = ("link", os.readlink(path))
        elif path.is_dir():
            seen[key] = ("dir",)
        else:
            seen[key] = ("file", path.read_bytes(), path.stat().st_mode & 0o777)
    return seen


def test_a_file_both_ways(pods: Pods, make_pod: MakePod, fs: FakeFS, tmp_path: Path) -> None:
    name = make_pod()
    local = tmp_path / "a file.txt"
    local.write_text("hello\n")
    local.chmod(0o640)
    pods.copy_to_pod(name, local, "/data/the copy.txt")
    assert fs.path("/data/the copy.txt").read_text() == "hello\n"
    pods.copy_to_pod(name, local, "/data")  # an existing directory: copied into it
    assert fs.path("/data/a file.txt").stat().st_mode & 0o777 == 0o640
    back = tmp_path / "back here.txt"
    assert pods.copy_from_pod(name, "/data/the copy.txt", back) == []
    assert back.read_text() == "hello\n" and back.stat().st_mode & 0o777 == 0o640


def test_a_tree_with_spaces_and_a_symlink_both_ways(
    pods: Pods, make_pod: MakePod, fs: FakeFS, tree: Path, tmp_path: Path
) -> None:
    name = make_pod()
    pods.copy_to_pod(name, tree, "/data/copied tree")
    assert snapshot(fs.path("/data/copied tree")) == snapshot(tree)
    assert os.readlink(fs.path("/data/copied tree/link to one")) == "sub dir/file one.txt"
    back = tmp_path / "back"
    assert pods.copy_from_pod(name, "/data/copied tree", back) == []
    assert snapshot(back) == snapshot(tree)
    (back / "link to one").unlink()
    (back / "link to one").write_text("a file where the symlink was\n")
    pods.copy_from_pod(name, "/data/copied tree", back)  # again, over the first copy
    assert snapshot(back) == snapshot(tree)
    assert (back / "link to one").read_text() == "one\n"


def test_a_hostile_archive_writes_nothing_outside(
    server: APIServer,
    pods: Pods,
    make_pod: MakePod,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.containers.on_exec(hostile_tar)
    dest = tmp_path / "deep" / "dest"
    with caplog.at_level(logging.WARNING, "kgen.streams"):
        skipped = pods.copy_from_pod(make_pod(), "/data", dest)
    assert skipped == ["data/../../escaped.txt", "data/etc", "data/up", "data/esc"]
    assert len(caplog.records) == 4 and "outside" in caplog.records[0].getMessage()
    assert (
        not (tmp_path / "escaped.txt").exists() and not (tmp_path / "deep" / "escaped.txt").exists()
    )
    assert snapshot(dest) == {
        "etc": ("dir",),
        "etc/owned": ("file", b"owned\n", 0o644),  # a plain directory, not /etc
        "here": ("link", "ok.txt"),
        "loop": ("link", "."),
        "ok.txt": ("file", b"fine\n", 0o644),
    }


def elsewhere(process: ContainerProcess) -> int:
    """A ``tar cf -`` that answers with entries under ``etc`` whatever path is asked."""
    process.command = ("tar", "cf", "-", "/etc")
    return hostile_tar(process)


def test_an_entry_not_under_the_copied_path_fails_the_copy(
    server: APIServer, pods: Pods, make_pod: MakePod, tmp_path: Path
) -> None:
    server.containers.on_exec(elsewhere)
    with pytest.raises(CopyError, match="tar contents corrupted: entry 'etc' is not under 'data'"):
        pods.copy_from_pod(make_pod(), "/data", tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_errors(pods: Pods, make_pod: MakePod, fs: FakeFS, tmp_path: Path) -> None:
    name = make_pod()
    with pytest.raises(StatusError) as missing_pod:
        pods.copy_from_pod("no-such-pod", "/data", tmp_path / "x")
    assert missing_pod.value.status.code == 404
    with pytest.raises(CopyError, match="tar exited with code 2: tar: /nope: Cannot stat"):
        pods.copy_from_pod(name, "/nope", tmp_path / "x")
    with pytest.raises(CopyError, match="/no/such/dir: Cannot open"):
        pods.copy_to_pod(name, __file__, "/no/such/dir/f")
    with pytest.raises(FileNotFoundError, match="does not exist on the local filesystem"):
        pods.copy_to_pod(name, tmp_path / "absent", "/data")


@pytest.fixture(params=WEBSOCKET_KUBECTLS)
def kubectl(request: pytest.FixtureRequest, server: APIServer, tmp_path: Path) -> Iterator[Kubectl]:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    yield Kubectl(_binary(str(request.param)), kubeconfig, "default", tmp_path / "cache")


@pytest.mark.kubectl
def test_kubectl_copies_to_the_pod_what_kgen_copies_back(
    kubectl: Kubectl, pods: Pods, make_pod: MakePod, fs: FakeFS, tree: Path, tmp_path: Path
) -> None:
    name = make_pod()
    kubectl.run("cp", str(tree), f"{name}:/data/by kubectl")
    assert snapshot(fs.path("/data/by kubectl")) == snapshot(tree)
    back = tmp_path / "by kgen"
    assert pods.copy_from_pod(name, "/data/by kubectl", back) == []
    assert snapshot(back) == snapshot(tree)


@pytest.mark.kubectl
def test_kgen_copies_to_the_pod_what_kubectl_copies_back(
    kubectl: Kubectl, pods: Pods, make_pod: MakePod, fs: FakeFS, tree: Path, tmp_path: Path
) -> None:
    """kubectl skips symlinks when copying from a pod (with a warning); all else matches."""
    name = make_pod()
    pods.copy_to_pod(name, tree, "/data/by kgen")
    back = tmp_path / "by kubectl"
    done = kubectl.run("cp", f"{name}:/data/by kgen", str(back))
    assert "warning: skipping symlink" in done.stderr
    expected = {k: v for k, v in snapshot(tree).items() if v[0] != "link"}
    assert {k: v[:2] for k, v in snapshot(back).items()} == {k: v[:2] for k, v in expected.items()}


@pytest.mark.kubectl
def test_kubectl_refuses_the_hostile_archive_too(
    server: APIServer, kubectl: Kubectl, make_pod: MakePod, tmp_path: Path
) -> None:
    server.containers.on_exec(hostile_tar)
    dest = tmp_path / "deep" / "dest"
    done = kubectl.run("cp", f"{make_pod()}:/data", str(dest))
    assert "is outside target destination, skipping" in done.stderr
    assert not (tmp_path / "deep" / "escaped.txt").exists()
    assert sorted(snapshot(dest)) == ["etc", "etc/owned", "ok.txt"]
    server.containers.clear()
    server.containers.on_exec(elsewhere)
    refused = kubectl.run("cp", f"{make_pod()}:/data", str(tmp_path / "other"), check=False)
    assert refused.returncode == 1 and "tar contents corrupted" in refused.stderr
    assert not (tmp_path / "other").exists()


def test_a_large_file_streams_both_ways(
    pods: Pods, make_pod: MakePod, fs: FakeFS, tmp_path: Path
) -> None:
    """24 MiB each way, in 64 KiB stdin messages and stdout chunks extracted as they come."""
    name = make_pod()
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1 << 20) * 24)
    pods.copy_to_pod(name, big, "/data")
    assert fs.path("/data/big.bin").read_bytes() == big.read_bytes()
    pods.copy_from_pod(name, "/data/big.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()


def test_the_container_is_chosen(
    server: APIServer, pods: Pods, make_pod: MakePod, tmp_path: Path
) -> None:
    sidecar = FakeFS(tmp_path / "sidecar")
    (tmp_path / "sidecar" / "data").mkdir(parents=True)
    server.containers.on_exec(sidecar, container="sidecar")
    name = make_pod("web", "sidecar")
    with pytest.raises(StatusError, match="choose one of: \\[web sidecar\\]"):
        pods.copy_to_pod(name, __file__, "/data")
    pods.copy_to_pod(name, __file__, "/data", container="sidecar")
    assert sidecar.path(f"/data/{Path(__file__).name}").read_bytes() == Path(__file__).read_bytes()
    pods.copy_from_pod(name, "/data", tmp_path / "back", container="sidecar")
    assert sorted(snapshot(tmp_path / "back")) == [Path(__file__).name]


def _async_pods(server: APIServer) -> tuple[Config, Callable[[AsyncRESTClient], Any]]:
    config = Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem)
    return config, lambda rest: AsyncDynamicClient(rest).resource(PODS).namespace("default")


def test_the_async_copies_match_the_threaded_ones(
    server: APIServer, make_pod: MakePod, fs: FakeFS, tree: Path, tmp_path: Path
) -> None:
    """``kgen.client.aio``'s copy_to_pod/copy_from_pod: the same trees, modes and symlinks, a
    file large enough to fill the pipes many times, and the same errors, with nothing left
    open (asyncio debug mode)."""
    name = make_pod()
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1 << 20) * 8)
    config, pods_of = _async_pods(server)

    async def main() -> None:
        async with AsyncRESTClient(config) as rest:
            pods = pods_of(rest)
            await pods.copy_to_pod(name, tree, "/data/async tree")
            assert snapshot(fs.path("/data/async tree")) == snapshot(tree)
            assert await pods.copy_from_pod(name, "/data/async tree", tmp_path / "back") == []
            assert snapshot(tmp_path / "back") == snapshot(tree)
            await pods.copy_to_pod(name, big, "/data")  # into an existing directory
            assert fs.path("/data/big.bin").read_bytes() == big.read_bytes()
            await pods.copy_from_pod(name, "/data/big.bin", tmp_path / "big back.bin")
            assert (tmp_path / "big back.bin").read_bytes() == big.read_bytes()
            with pytest.raises(StatusError) as missing_pod:
                await pods.copy_from_pod("no-such-pod", "/data", tmp_path / "x")
            assert missing_pod.value.status.code == 404
            with pytest.raises(CopyError, match="tar exited with code 2: tar: /nope: Cannot"):
                await pods.copy_from_pod(name, "/nope", tmp_path / "x")
            with pytest.raises(CopyError, match="/no/such/dir: Cannot open"):
                await pods.copy_to_pod(name, __file__, "/no/such/dir/f")
            with pytest.raises(FileNotFoundError, match="does not exist on the local"):
                await pods.copy_to_pod(name, tmp_path / "absent", "/data")

    run(main)


def test_the_async_copy_keeps_kubectls_protections(
    server: APIServer, make_pod: MakePod, tmp_path: Path
) -> None:
    """A hostile archive writes nothing outside the destination and reports what it skipped;
    entries not under the copied path fail the copy, as in the threaded flavour."""
    hostile, corrupt = make_pod(), make_pod()
    server.containers.on_exec(hostile_tar, pod=hostile)
    server.containers.on_exec(elsewhere, pod=corrupt)
    config, pods_of = _async_pods(server)
    dest = tmp_path / "deep" / "dest"

    async def main() -> list[str]:
        async with AsyncRESTClient(config) as rest:
            pods = pods_of(rest)
            with pytest.raises(CopyError, match="tar contents corrupted"):
                await pods.copy_from_pod(corrupt, "/data", tmp_path / "other")
            return list(await pods.copy_from_pod(hostile, "/data", dest))

    assert run(main) == ["data/../../escaped.txt", "data/etc", "data/up", "data/esc"]
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "other").exists()
    assert snapshot(dest)["ok.txt"] == ("file", b"fine\n", 0o644)
