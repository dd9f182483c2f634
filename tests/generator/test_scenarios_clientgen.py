"""client-gen scenarios (reference 5.1, S1-S12) on real inputs: the generated packages of the
Kubernetes 1.35 documents and of kgen's example CRDs, over real HTTP on loopback.

kgen reads API documents instead of Go comment tags, so the tag scenarios are shown through
their analogues (docs/coverage/generator.md says which is which).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.cache import Indexer
from kgen.generator.views import ResourceView, build_views
from kgen.meta import LabelSelector, ObjectMeta
from kgen.rest import Config, default_user_agent
from kgen.spec import APIModel
from kgen.testing import APIServer
from tests.client.test_exact_verbs import verbs_of
from tests.client.wire import Reply, Seen, serving

Packages = tuple[Path, dict[str, APIModel]]

DISCOVERY_VERBS = {
    "create": {"create"},
    "update": {"update"},
    "delete": {"delete"},
    "deletecollection": {"delete_collection"},
    "get": {"get"},
    "list": {"list"},
    "watch": {"watch"},
    "patch": {"patch", "apply"},
}
"""The kgen verbs a discovery verb gives (a status subresource adds the ``*_status`` ones)."""
CANONICAL = (
    "CreateMixin",
    "UpdateMixin",
    "UpdateStatusMixin",
    "DeleteMixin",
    "DeleteCollectionMixin",
    "GetMixin",
    "ListMixin",
    "WatchMixin",
    "PatchMixin",
    "ApplyStatusMixin",
)
"""client-go's verb order (create ... apply_status; apply comes with PatchMixin)."""
STREAMS = ("ExecMixin", "AttachMixin", "LogsMixin", "PortForwardMixin", "ProxyMixin")
"""The streaming subresources' mixins, after the verbs (pods/exec, pods/attach, pods/log,
pods/portforward, and pods, services and nodes proxy)."""


def _module(name: str) -> Any:
    return importlib.import_module(name)


def _config(server: APIServer) -> Config:
    return Config(host=server.url, bearer_token=server.token, qps=-1)


@pytest.fixture
def k135_server(packages: Packages) -> Iterator[APIServer]:
    """An API server for the 1.35 model the ``k135`` package was generated from."""
    with APIServer(packages[1]["k135"]) as server:
        yield server


def _discovered(specs_dir: Path) -> dict[tuple[str, str, str], set[str]]:
    """(group, version, plural) -> kgen verbs, read straight from the discovery documents."""
    folder = specs_dir / "kubernetes/discovery"
    found: dict[tuple[str, str, str], set[str]] = {}

    def add(key: tuple[str, str, str], verbs: list[str], status: list[str]) -> None:
        found[key] = set().union(*(DISCOVERY_VERBS[v] for v in verbs))
        found[key] |= {"update_status"} if "update" in status else set()
        found[key] |= {"apply_status"} if "patch" in status else set()

    core = json.loads((folder / "api__v1.json").read_text())
    statuses = {
        r["name"].split("/")[0]: r["verbs"]
        for r in core["resources"]
        if r["name"].endswith("/status")
    }
    for r in core["resources"]:
        if "/" not in r["name"]:
            add(("", "v1", r["name"]), r["verbs"], statuses.get(r["name"], []))
    for group in json.loads((folder / "aggregated_v2.json").read_text())["items"]:
        for version in group["versions"]:
            for r in version["resources"]:
                subs = {s["subresource"]: s["verbs"] for s in r.get("subresources") or ()}
                key = (group["metadata"]["name"], version["version"], r["resource"])
                add(key, r["verbs"], subs.get("status", []))
    return found


def test_s1_methods_are_exactly_the_verbs_discovery_lists(
    packages: Packages, specs_dir: Path
) -> None:
    """S1 (onlyVerbs/readonly analogue): generated from OpenAPI v3 plus discovery, each typed
    client's verb methods are exactly those discovery lists for its resource (get/list-only
    componentstatuses, create-only reviews), and its bases follow client-go's verb order."""
    discovered = _discovered(specs_dir)
    cs = _module("k135v3.clientset").Clientset(Config(host="http://127.0.0.1:9"))
    checked = 0
    for gv in build_views(packages[1]["k135v3"], "k135v3"):
        group_client = getattr(cs, gv.module)
        for view in gv.resources:
            client = _client(group_client, view)
            bases = [b.__name__ for b in type(client).__bases__]
            assert bases == [m for m in CANONICAL + STREAMS if m in bases], view.plural
            served = discovered.get((gv.group, gv.version, view.plural))
            if served is None:
                continue  # in the OpenAPI documents but not served by the discovered cluster
            assert verbs_of(client) == served, view.plural
            checked += 1
    assert checked > 60
    assert verbs_of(cs.core_v1.component_statuses()) == {"get", "list"}


def _client(group_client: Any, view: ResourceView) -> Any:
    accessor = getattr(group_client, view.accessor)
    return accessor("default") if view.namespaced else accessor()


def test_s4_full_method_set_in_order_and_status_only_with_a_status_subresource(
    packages: Packages,
) -> None:
    """S4: pods (status subresource) inherit every verb family in client-go's order; config
    maps (no status subresource, the noStatus analogue) lack update_status/apply_status."""
    core = {v.plural: v for v in build_views(packages[1]["k135"], "k135")[0].resources}
    assert core["pods"].mixins == CANONICAL + STREAMS
    assert core["configmaps"].mixins == tuple(
        m for m in CANONICAL if m not in ("UpdateStatusMixin", "ApplyStatusMixin")
    )
    pod_client = _module("k135.typed.core_v1").PodClient
    assert [b.__name__ for b in pod_client.__bases__] == list(CANONICAL + STREAMS)


def _deployment(apps: Any, core: Any, name: str) -> Any:
    labels = {"app": name}
    return apps.Deployment(
        metadata=ObjectMeta(name=name),
        spec=apps.DeploymentSpec(
            replicas=1,
            selector=LabelSelector(match_labels=labels),
            template=core.PodTemplateSpec(
                metadata=ObjectMeta(labels=labels),
                spec=core.PodSpec(containers=(core.Container(name="c", image="nginx"),)),
            ),
        ),
    )


def test_s5_s6_s11_request_paths_of_typed_clients(k135_server: APIServer) -> None:
    """S5: get_scale/update_scale hit .../<name>/scale with GET and PUT and decode a Scale; a
    cluster-scoped subresource (a node's status) has no namespace segment.
    S6: a namespaced client made with "" lists cluster-wide; get and update_status address
    their namespace. S11: the core group is served under /api, named groups under /apis."""
    core = _module("k135.models.core_v1")
    apps = _module("k135.models.apps_v1")
    autoscaling = _module("k135.models.autoscaling_v1")
    cs = _module("k135.clientset").Clientset(_config(k135_server))
    with cs:
        cs.core_v1.namespaces().create(core.Namespace(metadata=ObjectMeta(name="ns1")))
        deployments = cs.apps_v1.deployments("ns1")
        deployments.create(_deployment(apps, core, "web"))
        scale = deployments.get_scale("web")
        assert isinstance(scale, autoscaling.Scale) and scale.spec.replicas == 1
        scale.spec.replicas = 2
        assert deployments.update_scale("web", scale).spec.replicas == 2

        pods = cs.core_v1.pods("ns1")
        pod = core.Pod(
            metadata=ObjectMeta(name="p"),
            spec=core.PodSpec(containers=(core.Container(name="c", image="nginx"),)),
        )
        pods.create(pod)
        got = pods.get("p")
        got.status = core.PodStatus(phase="Running")
        assert pods.update_status(got).status.phase == "Running"
        assert [p.metadata.name for p in cs.core_v1.pods("").list().items] == ["p"]
        node = cs.core_v1.nodes().create(core.Node(metadata=ObjectMeta(name="n1")))
        node.status = core.NodeStatus(phase="Running")
        assert cs.core_v1.nodes().update_status(node).status.phase == "Running"

    seen = [(m, t) for m, t in k135_server.requests if m != "POST"]
    assert seen == [
        ("GET", "/apis/apps/v1/namespaces/ns1/deployments/web/scale"),
        ("PUT", "/apis/apps/v1/namespaces/ns1/deployments/web/scale"),
        ("GET", "/api/v1/namespaces/ns1/pods/p"),
        ("PUT", "/api/v1/namespaces/ns1/pods/p/status"),
        ("GET", "/api/v1/pods"),
        ("PUT", "/api/v1/nodes/n1/status"),
    ]


def test_s7_list_and_watch_carry_the_timeout(k135_server: APIServer) -> None:
    """S7: timeout_seconds=21 puts timeout=21s and timeoutSeconds=21 on list and watch; the
    watch adds watch=true."""
    cs = _module("k135.clientset").Clientset(_config(k135_server))
    with cs:
        secrets = cs.core_v1.secrets("default")
        secrets.list(timeout_seconds=21)
        with secrets.watch(timeout_seconds=21):
            pass
    assert k135_server.requests == [
        ("GET", "/api/v1/namespaces/default/secrets?timeout=21s&timeoutSeconds=21"),
        ("GET", "/api/v1/namespaces/default/secrets?timeout=21s&timeoutSeconds=21&watch=true"),
    ]


def _empty_list(seen: Seen) -> Reply:
    api_version, kind = ("v1", "PodList") if "/pods" in seen.path else ("apps/v1", "DeploymentList")
    return Reply(body={"kind": kind, "apiVersion": api_version, "metadata": {}, "items": []})


@pytest.mark.parametrize("agent", ["", "test-agent"])
def test_s8_user_agent(packages: Packages, agent: str) -> None:
    """S8: the server sees the default user agent when the config names none, else the
    configured one, from every group client of the clientset."""
    clientset = _module("k135.clientset").Clientset
    with serving(_empty_list) as (server, _):
        with clientset(Config(host=server.url, qps=-1, user_agent=agent)) as cs:
            cs.core_v1.pods("default").list()
            cs.apps_v1.deployments("default").list()
        agents = [seen.headers["user-agent"] for seen in server.requests()]
    assert agents == [agent or default_user_agent()] * 2


def test_s9_qps_and_burst_of_a_generated_clientset(packages: Packages) -> None:
    """S9: one token bucket shared by every group client; 0 means the defaults (5 and 10), so
    qps=10 with burst=0 gets burst 10 (client-go refuses it); a negative burst with a positive
    qps is refused at construction; a negative qps disables throttling."""
    clientset = _module("k135.clientset").Clientset
    cs = clientset(Config(host="http://127.0.0.1:9", qps=10, burst=0))
    limiter = cs.rest_client.rate_limiter
    assert (limiter.qps, limiter.burst) == (10, 10)
    assert cs.core_v1.rest_client is cs.apps_v1.rest_client is cs.rest_client
    defaults = clientset(Config(host="http://127.0.0.1:9")).rest_client.rate_limiter
    assert (defaults.qps, defaults.burst) == (5, 10)
    with pytest.raises(ValueError, match="burst > 0"):
        clientset(Config(host="http://127.0.0.1:9", qps=10, burst=-1))
    assert clientset(Config(host="http://127.0.0.1:9", qps=-1)).rest_client.rate_limiter is None


@pytest.mark.parametrize(
    ("package", "module", "kind", "plural", "accessor"),
    [
        ("k135", "core_v1", "Pod", "pods", "pods"),
        ("k135", "core_v1", "Endpoints", "endpoints", "endpoints"),
        ("k135", "networking_v1", "Ingress", "ingresses", "ingresses"),
        ("k135", "networking_v1", "NetworkPolicy", "networkpolicies", "network_policies"),
        ("k135", "networking_v1", "IngressClass", "ingressclasses", "ingress_classes"),
        ("k135", "storage_v1", "StorageClass", "storageclasses", "storage_classes"),
        ("k135", "policy_v1", "PodDisruptionBudget", "poddisruptionbudgets", "pod_disruption_budgets"),
        ("crds", "gateway_v1", "Gateway", "gateways", "gateways"),
        ("crds", "gateway_v1", "GatewayClass", "gatewayclasses", "gateway_classes"),
        ("crds", "cert_manager_v1", "ClusterIssuer", "clusterissuers", "cluster_issuers"),
    ],
)  # fmt: skip
def test_s10_plural_names_come_from_the_documents(
    packages: Packages, package: str, module: str, kind: str, plural: str, accessor: str
) -> None:
    """S10: kgen computes no plurals; the URL name is the document's plural (es, ies and vowel
    + y cases, Endpoints unchanged) and the accessor is the kind in snake_case with that
    plural's ending; listers name the lowercase singular kind."""
    views = {gv.module: gv for gv in build_views(packages[1][package], package)}
    view = next(r for r in views[module].resources if r.kind == kind)
    assert (view.plural, view.accessor, view.lowercase_kind) == (plural, accessor, kind.lower())
    cs = _module(f"{package}.clientset").Clientset(Config(host="http://127.0.0.1:9"))
    assert _client(getattr(cs, module), view).resource.resource == plural


def test_s11_group_accessors_sorted_by_group(packages: Packages) -> None:
    """S11: the clientset's accessors are core first, then groups by name, dotted groups named
    by their first label; the real CRDs' groups likewise."""
    for package in ("k135", "crds"):
        views = build_views(packages[1][package], package)
        assert [gv.group for gv in views] == sorted(gv.group for gv in views)
        clientset = _module(f"{package}.clientset").Clientset
        assert all(hasattr(clientset, gv.module) for gv in views)
    crd_modules = [gv.module for gv in build_views(packages[1]["crds"], "crds")]
    assert "cert_manager_v1" in crd_modules and "gateway_v1" in crd_modules


EXPANSION = '''\
"""A user's expansion of generated clients and listers (client-go's <T>Expansion)."""

from kgen.rest import RESTClient

from kgen_databases.listers.databases_v1 import PostgresClusterLister
from kgen_databases.typed.databases_v1 import PostgresClusterClient


class Clusters(PostgresClusterClient):
    def paused(self) -> list[str]:
        return [
            c.metadata.name
            for c in self.list().items
            if c.metadata and c.metadata.name and c.spec and c.spec.paused
        ]


class ClusterLister(PostgresClusterLister):
    def versions(self) -> set[str]:
        return {c.spec.version for c in self.list() if c.spec and c.spec.version}


def clusters(rest: RESTClient, namespace: str) -> Clusters:
    return Clusters(rest, namespace)
'''


def test_s12_users_extend_generated_clients_by_subclassing(
    example_package: Path, tmp_path: Path
) -> None:
    """S12: expansion interfaces become subclasses in the user's own module, outside the
    generated package (which a rerun replaces): the subclass gets every generated verb, adds its
    own methods, talks to a real server and passes mypy --strict."""
    from kgen_databases.models import databases_v1 as m

    (tmp_path / "my_expansion.py").write_text(EXPANSION)
    sys.path.insert(0, str(tmp_path))
    try:
        expansion = importlib.import_module("my_expansion")
        spec_dir = Path(__file__).resolve().parents[2] / "openapi-specs"
        with APIServer(specs=[spec_dir / "databases.kgen.dev.yaml"]) as server:
            cs = _module("kgen_databases.clientset").Clientset(_config(server))
            with cs:
                clusters = expansion.clusters(cs.databases_v1.rest_client, "db")
                storage = m.PostgresClusterSpecStorage(size=1)
                for name, paused in (("a", True), ("b", False)):
                    spec = m.PostgresClusterSpec(version="16", storage=storage, paused=paused)
                    clusters.create(m.PostgresCluster(metadata=ObjectMeta(name=name), spec=spec))
                assert clusters.paused() == ["a"]
                assert clusters.get("b").spec.paused is False
                indexer: Indexer[Any] = Indexer()
                for cluster in clusters.list().items:
                    indexer.add(cluster)
                assert expansion.ClusterLister(indexer).versions() == {"16"}
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("my_expansion", None)
    cache = str(tmp_path / "mypy_cache")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", cache, "my_expansion.py"],
        cwd=tmp_path,
        env={"MYPYPATH": str(example_package.parent), "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
