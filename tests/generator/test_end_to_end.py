"""Generated clientsets, listers and informers against kgen.testing's API server, over real HTTP
on loopback, started from the same documents the code was generated from."""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.client import GroupVersionResource, PatchType
from kgen.meta import LabelSelector, ObjectMeta, decode
from kgen.rest import Config, StatusError, is_not_found
from kgen.testing import APIServer

EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "openapi-specs" / "databases.kgen.dev.yaml"


def _eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def _config(server: APIServer) -> Config:
    return Config(host=server.url, bearer_token=server.token, qps=-1, timeout=10)


@pytest.fixture
def example_server(example_package: Path) -> Iterator[APIServer]:
    with APIServer(specs=[EXAMPLE_SPEC]) as server:
        yield server


def test_example_clientset_verbs_and_scale(example_server: APIServer) -> None:
    from kgen_databases.clientset import Clientset
    from kgen_databases.models import autoscaling_v1
    from kgen_databases.models import databases_v1 as m

    cs: Any = Clientset(_config(example_server))  # results are checked at run time here
    clusters = cs.databases_v1.postgres_clusters("default")
    spec = m.PostgresClusterSpec(
        version="16", replicas=2, storage=m.PostgresClusterSpecStorage(size="10Gi")
    )
    created = clusters.create(m.PostgresCluster(metadata=ObjectMeta(name="db1"), spec=spec))
    assert isinstance(created, m.PostgresCluster) and created.metadata
    assert created.metadata.uid and created.api_version == "databases.kgen.dev/v1"

    assert clusters.get("db1").spec == spec
    listed = cs.databases_v1.postgres_clusters("").list()
    assert [c.metadata.name for c in listed.items if c.metadata] == ["db1"]

    got = clusters.get("db1")
    assert got.spec
    got.spec.paused = True
    assert clusters.update(got).spec.paused is True

    got = clusters.get("db1")
    got.status = m.PostgresClusterStatus(phase="Running", ready_instances=2)
    assert clusters.update_status(got).status.phase == "Running"

    patched = clusters.patch("db1", {"spec": {"replicas": 3}}, PatchType.MERGE)
    assert patched.spec.replicas == 3
    applied = clusters.apply(
        m.PostgresCluster(metadata=ObjectMeta(name="db1"), spec=spec.__replace__(replicas=4)),
        field_manager="e2e",
        force=True,
    )
    assert applied.spec.replicas == 4

    scale = clusters.get_scale("db1")
    assert isinstance(scale, autoscaling_v1.Scale) and scale.spec and scale.spec.replicas == 4
    scale.spec.replicas = 5
    assert clusters.update_scale("db1", scale).spec.replicas == 5
    assert clusters.get("db1").spec.replicas == 5

    profiles = cs.databases_v1.storage_profiles()
    profiles.create(
        m.StorageProfile(
            metadata=ObjectMeta(name="fast"), spec=m.StorageProfileSpec(provisioner="csi.x")
        )
    )
    assert profiles.get("fast").spec.provisioner == "csi.x"

    clusters.delete("db1")
    with pytest.raises(StatusError) as raised:
        clusters.get("db1")
    assert is_not_found(raised.value)


def test_example_watch_sees_changes(example_server: APIServer) -> None:
    from kgen_databases.clientset import Clientset
    from kgen_databases.models import databases_v1 as m

    cs: Any = Clientset(_config(example_server))
    profiles = cs.databases_v1.storage_profiles()
    start = profiles.list().metadata.resource_version
    with cs, profiles.watch(resource_version=start, timeout_seconds=10) as watch:
        profiles.create(
            m.StorageProfile(
                metadata=ObjectMeta(name="p"), spec=m.StorageProfileSpec(provisioner="a")
            )
        )
        profiles.delete("p")
        events = []
        for event in watch:
            events.append((event.type, event.object.metadata.name))
            if len(events) == 2:
                break
    assert events == [("ADDED", "p"), ("DELETED", "p")]


def test_example_informers_sync_and_follow(example_server: APIServer) -> None:
    from kgen_databases.clientset import Clientset
    from kgen_databases.informers import SharedInformerFactory
    from kgen_databases.models import databases_v1 as m

    cs = Clientset(_config(example_server))
    clusters = cs.databases_v1.postgres_clusters("ns1")
    spec = m.PostgresClusterSpec(
        version="16", replicas=1, storage=m.PostgresClusterSpecStorage(size=1)
    )
    clusters.create(m.PostgresCluster(metadata=ObjectMeta(name="a"), spec=spec))

    factory = SharedInformerFactory(cs, 0.0, custom_resync={m.PostgresCluster: 30.0})
    try:
        informers = factory.databases_v1.postgres_clusters()
        assert informers.informer() is factory.databases_v1.postgres_clusters().informer()
        gvr = GroupVersionResource("databases.kgen.dev", "v1", "postgresclusters")
        assert factory.for_resource(gvr).informer() is informers.informer()
        with pytest.raises(LookupError, match="no informer found for"):
            factory.for_resource(GroupVersionResource("databases.kgen.dev", "v9", "x"))
        lister = informers.lister()
        factory.start()
        assert factory.wait_for_cache_sync(timeout=10) == {m.PostgresCluster: True}
        assert lister.namespace("ns1").get("a").spec == spec
        with pytest.raises(StatusError, match=re.escape('postgrescluster.databases.kgen.dev "b"')):
            lister.namespace("ns1").get("b")

        clusters.create(m.PostgresCluster(metadata=ObjectMeta(name="b"), spec=spec))
        _eventually(lambda: len(lister.namespace("ns1").list()) == 2)
        clusters.delete("a")
        _eventually(lambda: [c.metadata.name for c in lister.list() if c.metadata] == ["b"])
    finally:
        factory.shutdown()
    assert not [t for t in threading.enumerate() if "informer" in t.name.lower()]


def _k135(name: str) -> Any:
    return importlib.import_module(f"k135.{name}")


def test_kubernetes_135_clientset_against_the_server(
    packages: tuple[Path, Any], specs_dir: Path
) -> None:
    core = _k135("models.core_v1")
    apps = _k135("models.apps_v1")
    cs = _k135("clientset").Clientset
    with APIServer(specs=[specs_dir / "kubernetes/v1.35/swagger.json"]) as server:
        client = cs(_config(server))
        client.core_v1.namespaces().create(core.Namespace(metadata=ObjectMeta(name="web")))
        cms = client.core_v1.config_maps("web")
        cms.create(
            core.ConfigMap(metadata=ObjectMeta(name="c", labels={"a": "b"}), data={"k": "v"})
        )
        assert cms.get("c").data == {"k": "v"}
        assert [c.metadata.name for c in cms.list(label_selector="a=b").items] == ["c"]
        patched = cms.patch("c", {"data": {"k": "w"}}, PatchType.STRATEGIC_MERGE)
        assert patched.data == {"k": "w"}

        deployments = client.apps_v1.deployments("web")
        labels = {"app": "web"}
        template = core.PodTemplateSpec(
            metadata=ObjectMeta(labels=labels),
            spec=core.PodSpec(containers=(core.Container(name="c", image="nginx"),)),
        )
        deployment = apps.Deployment(
            metadata=ObjectMeta(name="web"),
            spec=apps.DeploymentSpec(
                replicas=1, selector=LabelSelector(match_labels=labels), template=template
            ),
        )
        deployments.create(deployment)
        scale = deployments.get_scale("web")
        assert scale.spec.replicas == 1
        scale.spec.replicas = 3
        deployments.update_scale("web", scale)
        current = deployments.get("web")
        assert current.spec.replicas == 3
        current.status = apps.DeploymentStatus(replicas=3, ready_replicas=2)
        assert deployments.update_status(current).status.ready_replicas == 2
        current = deployments.get("web")
        current.spec.paused = True
        assert deployments.update(current).spec.paused is True

        applied = cms.apply(
            core.ConfigMap(metadata=ObjectMeta(name="applied"), data={"x": "1"}),
            field_manager="e2e",
        )
        assert applied.data == {"x": "1"} and applied.metadata.managed_fields
        start = cms.list().metadata.resource_version
        with cms.watch(resource_version=start, timeout_seconds=10) as watch:
            cms.delete("applied")
            event = next(iter(watch))
        assert (event.type, event.object.metadata.name) == ("DELETED", "applied")

        factory = _k135("informers").SharedInformerFactory(client, 0.0, namespace="web")
        try:
            lister = factory.core_v1.config_maps().lister()
            factory.start()
            factory.wait_for_cache_sync(timeout=10)
            assert lister.namespace("web").get("c").data == {"k": "w"}
            cms.delete("c")
            _eventually(lambda: lister.list() == [])
        finally:
            factory.shutdown()


def _crds(name: str) -> Any:
    return importlib.import_module(f"crds.{name}")


def test_real_crds_clientset_and_informers(packages: tuple[Path, Any], specs_dir: Path) -> None:
    """cert-manager and Gateway API CRDs: typed create/get/list/update_status/patch/delete and
    an informer following them."""
    certs = _crds("models.cert_manager_v1")
    gateway = _crds("models.gateway_v1")
    cs = _crds("clientset").Clientset
    certificate = decode(
        json.dumps(
            {
                "metadata": {"name": "web", "namespace": "apps"},
                "spec": {"secretName": "web-tls", "dnsNames": ["web.example.com"],
                         "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}},
            }
        ),
        certs.Certificate,
    )  # fmt: skip
    route = decode(
        json.dumps(
            {
                "metadata": {"name": "r", "namespace": "apps"},
                "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["web.example.com"]},
            }
        ),
        gateway.HTTPRoute,
    )
    with APIServer(specs=[specs_dir / "crds"]) as server, cs(_config(server)) as client:
        certificates = client.cert_manager_v1.certificates("apps")
        created = certificates.create(certificate)
        assert created.api_version == "cert-manager.io/v1" and created.spec.dns_names == (
            "web.example.com",
        )
        created.status = decode(b'{"conditions": [{"type": "Ready", "status": "True"}]}',
                                certs.CertificateStatus)  # fmt: skip
        assert certificates.update_status(created).status.conditions[0].type_ == "Ready"
        patched = certificates.patch("web", {"spec": {"renewBefore": "360h"}}, PatchType.MERGE)
        assert patched.spec.renew_before == "360h"

        routes = client.gateway_v1.http_routes("apps")
        factory = _crds("informers").SharedInformerFactory(client, 0.0)
        try:
            lister = factory.gateway_v1.http_routes().lister()
            factory.start()
            assert all(factory.wait_for_cache_sync(timeout=10).values())
            routes.create(route)
            _eventually(lambda: [r.metadata.name for r in lister.list()] == ["r"])
            assert lister.namespace("apps").get("r").spec.hostnames == ("web.example.com",)
            routes.delete("r")
            _eventually(lambda: lister.list() == [])
        finally:
            factory.shutdown()
        certificates.delete("web")
        assert certificates.list().items == ()


def test_kubernetes_135_pods_exec_and_attach(packages: tuple[Path, Any], specs_dir: Path) -> None:
    """The generated PodClient has exec/attach/port_forward because the documents declare
    pods/exec, pods/attach and pods/portforward; it runs a command through the server's
    handler, forwards to a port, and gets a typed refusal."""
    core = _k135("models.core_v1")
    typed = _k135("typed.core_v1")
    assert {"exec", "open_exec", "attach", "port_forward"} <= set(dir(typed.PodClient))
    assert not hasattr(typed.ServiceClient, "exec")
    assert not hasattr(typed.ServiceClient, "port_forward")

    def echo(process: Any) -> int:
        process.stdout.write(" ".join(process.command[1:]) + "\n")
        return 7

    with APIServer(specs=[specs_dir / "kubernetes/v1.35/swagger.json"]) as server:
        server.containers.on_exec(echo)
        client = _k135("clientset").Clientset(_config(server))
        pods = client.core_v1.pods("default")
        pods.create(
            core.Pod(
                metadata=ObjectMeta(name="web"),
                spec=core.PodSpec(containers=(core.Container(name="c", image="nginx"),)),
            )
        )
        result = pods.exec("web", ["echo", "typed", "exec"])
        assert (result.stdout, result.exit_code) == (b"typed exec\n", 7)
        server.containers.on_port(lambda c: c.socket.sendall(f"port {c.port}".encode()))
        with pods.port_forward("web").connect(8080) as stream:
            assert stream.makefile().read() == b"port 8080"
        with pytest.raises(StatusError, match='pods "gone" not found'):
            pods.exec("gone", ["true"])


def test_kubernetes_135_pods_logs(packages: tuple[Path, Any], specs_dir: Path) -> None:
    """The generated PodClient reads logs because the documents declare pods/log."""
    core = _k135("models.core_v1")
    typed = _k135("typed.core_v1")
    assert {"logs", "stream_logs"} <= set(dir(typed.PodClient))
    assert not hasattr(typed.ServiceClient, "logs")
    with APIServer(specs=[specs_dir / "kubernetes/v1.35/swagger.json"]) as server:
        client = _k135("clientset").Clientset(_config(server))
        pods = client.core_v1.pods("default")
        pods.create(
            core.Pod(
                metadata=ObjectMeta(name="web"),
                spec=core.PodSpec(containers=(core.Container(name="c", image="nginx"),)),
            )
        )
        server.containers.log("default", "web", "c").write("one\ntwo\n")
        assert pods.logs("web", tail_lines=1) == "two\n"
        with pods.stream_logs("web") as lines:
            assert list(lines) == ["one", "two"]
