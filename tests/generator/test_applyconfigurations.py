"""Generated apply configurations against kgen.testing's API server, from the real 1.35 swagger:
partial objects applied with a field manager, and extract_<kind> reading back exactly what a
manager owns (keyed lists, sets, atomic lists, granular maps)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.generator.emit import EMITTERS, render_package
from kgen.meta import UNSET, ObjectMeta, encode
from kgen.meta import LabelSelectorApplyConfiguration as Selector
from kgen.meta import ObjectMetaApplyConfiguration as Meta
from kgen.rest import Config
from kgen.spec import load
from kgen.testing import APIServer

SWAGGER = "kubernetes/v1.35/swagger.json"


@pytest.fixture(scope="module")
def ac135(specs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("ac")
    api = load([specs_dir / SWAGGER])
    rendered = render_package(api, "ac135", EMITTERS, input_hash="t", formatted=False)
    for files in rendered.values():
        for rel, text in files.items():
            target = root / "ac135" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    sys.path.insert(0, str(root))
    yield "ac135"
    sys.path.remove(str(root))
    for name in list(sys.modules):
        if name.split(".")[0] == "ac135":
            del sys.modules[name]


def _m(name: str) -> Any:
    return importlib.import_module(f"ac135.{name}")


def _container(ac: Any, name: str, image: str, **more: Any) -> Any:
    return ac.ContainerApplyConfiguration(name=name, image=image, **more)


def test_apply_partial_extract_and_round_trip(ac135: str, specs_dir: Path) -> None:
    apps, core = _m("applyconfigurations.apps_v1"), _m("applyconfigurations.core_v1")
    models = _m("models.apps_v1")
    with APIServer(specs=[specs_dir / SWAGGER]) as server:
        cs = _m("clientset").Clientset(
            Config(host=server.url, bearer_token=server.token, qps=-1, timeout=10)
        )
        cs.core_v1.namespaces().create(
            _m("models.core_v1").Namespace(metadata=ObjectMeta(name="ns"))
        )
        deployments = cs.apps_v1.deployments("ns")
        mine = apps.apply_deployment("web", "ns")
        mine = mine.__replace__(
            metadata=Meta(name="web", namespace="ns", labels={"team": "a"}, finalizers=("x/y",)),
            spec=apps.DeploymentSpecApplyConfiguration(
                replicas=3,
                selector=Selector(match_labels={"app": "web"}),
                template=core.PodTemplateSpecApplyConfiguration(
                    metadata=Meta(labels={"app": "web"}),
                    spec=core.PodSpecApplyConfiguration(
                        containers=(
                            _container(
                                core,
                                "web",
                                "nginx",
                                args=("-g", "daemon off;"),
                                ports=(core.ContainerPortApplyConfiguration(container_port=80),),
                            ),
                        )
                    ),
                ),
            ),
        )
        got = deployments.apply(mine, field_manager="me", force=True)
        assert isinstance(got, models.Deployment)
        assert got.spec.replicas == 3 and got.metadata.uid

        other = apps.apply_deployment("web", "ns").__replace__(
            metadata=Meta(name="web", namespace="ns", labels={"owner": "b"}),
            spec=apps.DeploymentSpecApplyConfiguration(
                template=core.PodTemplateSpecApplyConfiguration(
                    spec=core.PodSpecApplyConfiguration(
                        containers=(
                            _container(core, "side", "busybox"),
                            _container(
                                core,
                                "web",
                                "nginx",
                                ports=(
                                    core.ContainerPortApplyConfiguration(
                                        container_port=9090, protocol="UDP"
                                    ),
                                ),
                            ),
                        )
                    )
                )
            ),
        )
        deployments.apply(other, field_manager="other")
        live = deployments.get("web")
        assert [c.name for c in live.spec.template.spec.containers] == ["side", "web"]

        extracted = apps.extract_deployment(live, "me")
        assert encode(extracted) == encode(mine)
        theirs = apps.extract_deployment(live, "other")
        assert theirs.metadata.labels == {"owner": "b"}
        containers = {c.name: c for c in theirs.spec.template.spec.containers}
        assert list(containers) == ["side", "web"]
        web = containers["web"]  # the keyed item, with only the other manager's fields
        assert web.image == "nginx" and web.args is UNSET and web.name == "web"
        assert [(p.container_port, p.protocol) for p in web.ports] == [(9090, "UDP")]
        assert theirs.metadata.finalizers is UNSET and theirs.spec.selector is UNSET
        assert apps.extract_deployment(live, "nobody") == apps.apply_deployment("web", "ns")

        # the round trip: get -> extract -> change -> apply keeps what the manager owns
        changed = extracted.__replace__(
            spec=extracted.spec.__replace__(replicas=5),
        )
        after = deployments.apply(changed, field_manager="me")
        assert after.spec.replicas == 5 and after.metadata.labels == {"team": "a", "owner": "b"}
        again = apps.extract_deployment(after, "me")
        assert encode(again) == encode(changed)

        status = apps.apply_deployment("web", "ns").__replace__(
            status=apps.DeploymentStatusApplyConfiguration(
                replicas=3,
                conditions=(
                    apps.DeploymentConditionApplyConfiguration(type_="Available", status="True"),
                ),
            )
        )
        written = deployments.apply_status(status, field_manager="ctl", force=True)
        assert isinstance(written, models.Deployment) and written.status.replicas == 3
        assert apps.extract_deployment(written, "ctl", "status").status == status.status
        assert apps.extract_deployment(written, "ctl").status is UNSET


EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "openapi-specs" / "databases.kgen.dev.yaml"


def test_crd_apply_and_extract(example_package: Path) -> None:
    """The checked-in package of kgen's example CRDs: keyed users, a granular map, status."""
    from kgen_databases.applyconfigurations import databases_v1 as ac
    from kgen_databases.clientset import Clientset
    from kgen_databases.models import databases_v1 as models

    with APIServer(specs=[EXAMPLE_SPEC]) as server:
        cs = Clientset(Config(host=server.url, bearer_token=server.token, qps=-1, timeout=10))
        clusters = cs.databases_v1.postgres_clusters("default")
        user = ac.PostgresClusterSpecUsersApplyConfiguration
        mine = ac.apply_postgres_cluster("db", "default").__replace__(
            spec=ac.PostgresClusterSpecApplyConfiguration(
                version="16",
                storage=ac.PostgresClusterSpecStorageApplyConfiguration(size="1Gi"),
                parameters={"max_connections": "100"},
                users=(user(name="app", databases=("a", "b")),),
            )
        )
        got = clusters.apply(mine, field_manager="me")
        assert isinstance(got, models.PostgresCluster) and got.spec.version == "16"
        theirs = ac.apply_postgres_cluster("db", "default").__replace__(
            spec=ac.PostgresClusterSpecApplyConfiguration(
                parameters={"shared_buffers": "1GB"},
                users=(user(name="admin", superuser=True),),
            )
        )
        live = clusters.apply(theirs, field_manager="other")
        assert live.spec.parameters == {"max_connections": "100", "shared_buffers": "1GB"}
        assert encode(ac.extract_postgres_cluster(live, "me")) == encode(mine)
        assert encode(ac.extract_postgres_cluster(live, "other")) == encode(theirs)

        status = ac.apply_postgres_cluster("db", "default").__replace__(
            status=ac.PostgresClusterStatusApplyConfiguration(phase="Running")
        )
        written = clusters.apply_status(status, field_manager="op")
        assert written.status.phase == "Running"
        assert ac.extract_postgres_cluster(written, "op", "status").status == status.status
