"""Every real input generates a whole package that imports and passes mypy --strict.

One session-scoped fixture renders each input once, as `kgen generate` writes it (black only
where a line is too long), and one mypy run checks them all.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

from kgen.spec import APIModel


def _modules(root: Path, package: str) -> list[str]:
    return sorted(
        ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for p in (root / package).rglob("*.py")
    )


def test_every_module_imports(packages: tuple[Path, dict[str, APIModel]]) -> None:
    root, apis = packages
    for package, api in apis.items():
        modules = _modules(root, package)
        for name in modules:
            importlib.import_module(name)
        served = [key for key, gv in api.group_versions.items() if gv.resources]
        for typed_package in (f"{package}.typed.", f"{package}.aio.typed."):
            typed = {m for m in modules if m.startswith(typed_package)}
            assert len(typed) == len(served), f"{typed_package}: one module per group/version"


def test_generated_packages_pass_mypy_strict(packages: tuple[Path, dict[str, APIModel]]) -> None:
    root, apis = packages
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(root / ".mypy"), *apis],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-5000:]


def _import(name: str) -> Any:
    return importlib.import_module(name)


def test_kubernetes_135_clients_have_the_served_verbs_and_subresources(
    packages: tuple[Path, dict[str, APIModel]],
) -> None:
    core = _import("k135.typed.core_v1")
    apps = _import("k135.typed.apps_v1")
    authn = _import("k135.typed.authentication_v1")
    models = _import("k135.models.core_v1")
    autoscaling = _import("k135.models.autoscaling_v1")
    policy = _import("k135.models.policy_v1")

    assert sorted(authn.TokenReviewClient.SERVED_VERBS) == ["create"]
    assert sorted(core.ComponentStatusClient.SERVED_VERBS) == ["get", "list"]
    pods = core.PodClient.SERVED_VERBS
    assert {"update_status", "apply_status", "delete_collection", "watch"} <= pods
    assert "update_status" not in core.ConfigMapClient.SERVED_VERBS

    # subresources, typed from the spec
    assert core.PodClient.create_eviction.body_type is policy.Eviction
    assert core.PodClient.stream_logs.__annotations__["return"] == "LogStream"
    assert not hasattr(core.PodClient, "stream_log"), "log comes with the logs mixin"
    assert apps.DeploymentClient.get_scale.result_type is autoscaling.Scale
    assert hasattr(core.ServiceAccountClient, "create_token")
    assert not hasattr(core.NodeClient, "get_proxy"), "connect subresources get no method"
    assert policy.Eviction and autoscaling.Scale and models.Pod

    # accessors: namespaced take a namespace, cluster-scoped do not
    group = core.CoreV1Client
    assert list(group.pods.__annotations__) == ["namespace", "return"]
    assert list(group.nodes.__annotations__) == ["return"]
    assert hasattr(group, "persistent_volume_claims") and hasattr(group, "endpoints")
    assert hasattr(_import("k135.typed.networking_v1").NetworkingV1Client, "network_policies")


def test_kubernetes_135_listers_and_informers_cover_listable_resources(
    packages: tuple[Path, dict[str, APIModel]],
) -> None:
    listers = _import("k135.listers.core_v1")
    informers = _import("k135.informers.core_v1")
    assert hasattr(listers, "PodLister") and not hasattr(listers, "BindingLister")
    assert informers.PodInformer.lister_resource == "pod"
    assert informers.NodeInformer.namespaced is False
    assert not hasattr(_import("k135.informers"), "authentication_v1"), "no list/watch there"
    clientset = _import("k135.clientset").Clientset
    assert hasattr(clientset, "core_v1") and hasattr(clientset, "discovery")


def test_generated_packages_pass_ruff(packages: tuple[Path, dict[str, APIModel]]) -> None:
    """The project's rule set, minus long lines (descriptions), ambiguous characters (from
    descriptions) and RUF036 (``None`` before ``UnsetType``: kgen.meta's documented order),
    on the black-formatted package (isort's rules include the wrapping of long imports) and the
    checked-in example."""
    root, _ = packages
    example = Path(__file__).resolve().parents[2] / "generated" / "kgen_databases"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache"),
            *("--line-length", "100", "--target-version", "py311"),
            *("--select", "E,F,W,I,B,UP,SIM,RUF", "--ignore", "E501,RUF001,RUF036"),
            *("k135", str(example)),
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-5000:]


def test_kubernetes_135_async_clients_mirror_the_sync_ones(
    packages: tuple[Path, dict[str, APIModel]],
) -> None:
    """One template set: every sync class has its Async twin with the same served verbs and
    the same methods (coroutines there)."""
    for module in ("core_v1", "apps_v1", "policy_v1", "authentication_v1"):
        sync, aio = _import(f"k135.typed.{module}"), _import(f"k135.aio.typed.{module}")
        assert [f"Async{name}" for name in sync.__all__] == aio.__all__
        for name in sync.__all__:
            plain, twin = getattr(sync, name), getattr(aio, f"Async{name}")
            assert getattr(plain, "SERVED_VERBS", None) == getattr(twin, "SERVED_VERBS", None)
            public = {a for a in dir(plain) if not a.startswith("_")}
            assert public == {a for a in dir(twin) if not a.startswith("_")}
    pods = _import("k135.aio.typed.core_v1").AsyncPodClient
    coroutines = ("get", "list", "create", "exec", "logs", "stream_logs", "port_forward")
    for method in (*coroutines, "copy_to_pod", "copy_from_pod", "proxy"):
        assert inspect.iscoroutinefunction(getattr(pods, method)), method
    assert pods.create_eviction.body_type is _import("k135.models.policy_v1").Eviction
    assert hasattr(_import("k135.aio"), "AsyncClientset")


def test_kubernetes_135_async_informers_mirror_the_sync_ones(
    packages: tuple[Path, dict[str, APIModel]],
) -> None:
    """The informer templates' async flavor: every sync informer class has its Async twin
    binding the same model, lister resource and scope, returning the same (sync) lister, and
    the async factory has the same group/version accessors (``resource_informers`` is the sync
    factory's way to ``for_resource``; the async one's takes the model types)."""
    for module in ("core_v1", "apps_v1", "batch_v1", "rbac_v1"):
        sync, aio = _import(f"k135.informers.{module}"), _import(f"k135.aio.informers.{module}")
        assert [f"Async{name}" for name in sync.__all__] == aio.__all__
        for name in sync.__all__:
            plain, twin = getattr(sync, name), getattr(aio, f"Async{name}")
            public = {a for a in vars(plain) if not a.startswith("_")}
            assert public == {a for a in vars(twin) if not a.startswith("_")}, name
            for attribute in ("object_type", "lister_resource", "lister_group", "namespaced"):
                assert getattr(plain, attribute, None) == getattr(twin, attribute, None)
            if "lister" in public:
                lister = plain.lister.__annotations__["return"]
                assert twin.lister.__annotations__["return"] == lister
    sync_factory = _import("k135.informers").SharedInformerFactory
    aio_factory = _import("k135.aio.informers").AsyncSharedInformerFactory
    accessors = {a for a in vars(sync_factory) if not a.startswith("_")}
    assert accessors - {"resource_informers"} == {
        a for a in vars(aio_factory) if not a.startswith("_")
    }
    assert "core_v1" in accessors and "authentication_v1" not in accessors
    pods = _import("k135.aio.informers.core_v1").AsyncPodInformer
    assert pods.client_for.__annotations__["return"] == "AsyncPodClient"
