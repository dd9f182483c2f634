"""Generated typed clients have exactly the verbs their resource serves (issue 5; reference
1.2.4 onlyVerbs, 1.4.1, 1.4.2 noStatus), shown on the real Kubernetes 1.35 spec and real CRDs."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kgen.client import ClientBase, ResourceClient
from kgen.generator.emit import render_package
from kgen.rest import Config
from kgen.spec import load

INPUTS = {
    "exact_k135": ["kubernetes/v1.35/swagger.json"],
    "exact_argocd": ["crds/argo-cd"],
}
VERBS = {
    "create": ("create",),
    "update": ("update",),
    "update_status": ("update_status",),
    "delete": ("delete",),
    "delete_collection": ("delete_collection",),
    "get": ("get",),
    "list": ("list", "list_with"),
    "watch": ("watch", "watch_with"),
    "patch": ("patch",),
    "apply": ("apply",),
    "apply_status": ("apply_status",),
}
"""Each kgen verb and the client methods that stand for it."""


@pytest.fixture(scope="module")
def packages(specs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Models and clientset of each input, unformatted, importable meanwhile."""
    root = tmp_path_factory.mktemp("exact")
    for package, specs in INPUTS.items():
        api = load([specs_dir / s for s in specs])
        rendered = render_package(
            api, package, ("models", "clientset"), input_hash="test", formatted=False
        )
        for files in rendered.values():
            for rel, text in files.items():
                target = root / package / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in list(sys.modules):
        if name.split(".")[0] in INPUTS:
            del sys.modules[name]


def clientset(package: str) -> Any:
    """A clientset of ``package`` whose config points nowhere: nothing here sends a request."""
    module = importlib.import_module(f"{package}.clientset")
    return module.Clientset(Config(host="http://127.0.0.1:9"))


def verbs_of(client: object) -> set[str]:
    """The kgen verbs whose methods ``client`` has (all of them, or it counts as none)."""
    found = set()
    for verb, methods in VERBS.items():
        present = [hasattr(client, m) for m in methods]
        assert all(present) or not any(present), f"{verb} only partly on {client!r}"
        if all(present):
            found.add(verb)
    return found


def typed_modules(root: Path, package: str) -> list[ModuleType]:
    names = sorted(p.stem for p in (root / package / "typed").glob("*.py"))
    return [importlib.import_module(f"{package}.typed.{n}") for n in names if n != "__init__"]


def test_kubernetes_135_clients_have_exactly_the_served_verbs(packages: Path) -> None:
    cs = clientset("exact_k135")
    assert verbs_of(cs.core_v1.component_statuses()) == {"get", "list"}
    assert verbs_of(cs.authentication_v1.token_reviews()) == {"create"}
    assert verbs_of(cs.core_v1.bindings("default")) == {"create"}
    pods = verbs_of(cs.core_v1.pods("default"))
    assert pods == set(VERBS), "pods serve every verb, status included"
    config_maps = verbs_of(cs.core_v1.config_maps("default"))
    assert config_maps == set(VERBS) - {"update_status", "apply_status"}

    token_reviews = cs.authentication_v1.token_reviews()
    assert not hasattr(token_reviews, "get") and not hasattr(token_reviews, "delete")
    assert isinstance(token_reviews, ClientBase) and not isinstance(token_reviews, ResourceClient)
    assert token_reviews.resource.resource == "tokenreviews"
    assert token_reviews.target_namespace is None


def test_every_kubernetes_135_client_has_exactly_its_served_verbs(packages: Path) -> None:
    """Every typed client of 1.35: its verb methods are SERVED_VERBS, no more and no fewer."""
    served: list[set[str]] = []
    for module in typed_modules(packages, "exact_k135"):
        for name in module.__all__:
            cls = getattr(module, name)
            if hasattr(cls, "SERVED_VERBS"):
                assert verbs_of(cls) == set(cls.SERVED_VERBS), f"{module.__name__}.{name}"
                served.append(set(cls.SERVED_VERBS))
    assert len(served) > 60
    assert sum("create" not in verbs for verbs in served) >= 1, "some are read-only"
    assert sum("update_status" not in verbs for verbs in served) > 10, "many have no status"


def test_a_crd_without_a_status_subresource_gets_no_status_verbs(packages: Path) -> None:
    """Argo CD's Application has a status field but no status subresource; its
    ApplicationSet has one."""
    cs = clientset("exact_argocd")
    applications = verbs_of(cs.argoproj_v1alpha1.applications("argocd"))
    assert applications == set(VERBS) - {"update_status", "apply_status"}
    application_sets = verbs_of(cs.argoproj_v1alpha1.application_sets("argocd"))
    assert {"update_status", "apply_status"} <= application_sets


def test_mypy_rejects_a_verb_the_resource_does_not_serve(packages: Path) -> None:
    """The method set is static: a call to update_status on Application is a type error, the
    same call on ApplicationSet (and Application's own verbs) type-check."""
    (packages / "use_exact_verbs.py").write_text(
        "from kgen.rest import Config\n"
        "from exact_argocd.clientset import Clientset\n"
        "cs = Clientset(Config(host='http://127.0.0.1:9'))\n"
        "apps = cs.argoproj_v1alpha1.applications('argocd')\n"
        "app = apps.update(apps.get('a'))\n"
        "apps.update_status(app)\n"
        "sets = cs.argoproj_v1alpha1.application_sets('argocd')\n"
        "sets.update_status(sets.get('s'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "use_exact_verbs.py"],
        cwd=packages,
        capture_output=True,
        text=True,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors == [
        'use_exact_verbs.py:6: error: "ApplicationClient" has no attribute "update_status"'
        "  [attr-defined]"
    ], result.stdout
