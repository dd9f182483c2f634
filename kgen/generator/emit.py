"""Rendering a whole package: which files each emitter produces, from one API model.

An *emitter* (``models``, ``applyconfigurations``, ``clientset``, ``listers``, ``informers``) produces a fixed set of
entries of the package folder (:data:`OWNED`); every emitter also writes the package's
``__init__.py`` and ``py.typed``. The layout is documented in ``docs/generator.md``::

    <package>/__init__.py  py.typed
    <package>/models/...                  (models)
    <package>/applyconfigurations/...     (applyconfigurations: server-side apply's partial objects)
    <package>/clientset.py                (clientset)
    <package>/typed/<group_version>.py    (clientset)
    <package>/fake/__init__.py            (clientset)
    <package>/aio/__init__.py             (clientset: the AsyncClientset, same templates)
    <package>/aio/typed/<group_version>.py  (clientset)
    <package>/aio/fake/__init__.py        (clientset: the AsyncFakeClientset, same template)
    <package>/listers/<group_version>.py  (listers)
    <package>/informers/__init__.py       (informers: the SharedInformerFactory)
    <package>/informers/<group_version>.py

Output is deterministic: the same model, package name and input hash give the same bytes.
Rendering is pure (no file is read or written here) and may run in any thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kgen._version import __version__
from kgen.generator.formatting import format_sources
from kgen.generator.inputs import is_module_name
from kgen.generator.models import render_applyconfigurations, render_models
from kgen.generator.templating import render_template
from kgen.generator.views import Flavor, GenerateError, GroupVersionView, build_views
from kgen.spec.model import APIModel

__all__ = ["EMITTERS", "OWNED", "owned_entries", "render_package"]

EMITTERS = ("models", "applyconfigurations", "clientset", "listers", "informers")
"""Every emitter, in the order ``kgen generate`` runs them."""

_SHARED = ("__init__.py", "py.typed")
OWNED: dict[str, tuple[str, ...]] = {
    "models": ("models",),
    "applyconfigurations": ("applyconfigurations",),
    "clientset": ("clientset.py", "typed", "fake", "aio"),
    "listers": ("listers",),
    "informers": ("informers",),
}
"""The entries of the package folder each emitter replaces when it writes."""


def owned_entries(emitters: Iterable[str]) -> tuple[str, ...]:
    """Everything the given emitters write, shared files included."""
    return _SHARED + tuple(entry for e in emitters for entry in OWNED[e])


def _check_package(package: str) -> None:
    if not is_module_name(package):
        raise GenerateError(
            f"--package {package!r} is not a dotted Python module name (e.g. mykube or acme.kube)"
        )


class _Renderer:
    def __init__(self, api: APIModel, package: str, input_hash: str) -> None:
        self.api = api
        self.package = package
        self.gvs: tuple[GroupVersionView, ...] = build_views(api, package)
        self.common = {
            "kgen_version": __version__,
            "input_hash": input_hash,
            "package": package,
            "gvs": self.gvs,
        }

    def render(self, template: str, generator: str, **context: object) -> str:
        return render_template(template, generator=generator, **{**self.common, **context})

    def per_group_version(
        self,
        folder: str,
        template: str,
        generator: str,
        gvs: Iterable[GroupVersionView],
        **context: object,
    ) -> dict[str, str]:
        gvs = tuple(gvs)
        files = {f"{folder}/__init__.py": self.render("subpackage_init.py.j2", generator, gvs=gvs)}
        for gv in gvs:
            files[f"{folder}/{gv.module}.py"] = self.render(template, generator, gv=gv, **context)
        return files

    def models(self) -> dict[str, str]:
        return dict(render_models(self.api, self.package))

    def applyconfigurations(self) -> dict[str, str]:
        return render_applyconfigurations(self.api, self.package)

    def clientset(self) -> dict[str, str]:
        """The sync clientset, typed clients and fake clientset, and the async ones from the
        same templates (``aio/``): only the :class:`Flavor` differs."""
        files: dict[str, str] = {}
        served = {(gv.group, gv.version) for gv in self.gvs}
        fake_gvs = [gv for key, gv in sorted(self.api.group_versions.items()) if key in served]
        for flavor, clientset, folder, fake in (
            (Flavor.sync(self.package), "clientset.py", "typed", "fake"),
            (Flavor.asyncio(self.package), "aio/__init__.py", "aio/typed", "aio/fake"),
        ):
            files[clientset] = self.render("clientset.py.j2", "kgen clientset", flavor=flavor)
            files.update(
                self.per_group_version(
                    folder, "typed.py.j2", "kgen clientset", self.gvs, flavor=flavor
                )
            )
            files[f"{fake}/__init__.py"] = self.render(
                "fake.py.j2",
                "kgen clientset",
                flavor=flavor,
                fake_gvs=fake_gvs,
                example=self._fake_example(flavor),
            )
        return files

    def _fake_example(self, flavor: Flavor) -> str:
        """The usage lines of the fake clientset's docstring, naming this package's own
        attributes: core/v1 pods where the package has them, else its first listable
        resource (nothing when it has none)."""
        found = [(gv, r) for gv in self.gvs for r in gv.resources if {"create", "list"} <= r.verbs]
        found.sort(key=lambda pair: (pair[0].module != "core_v1" or pair[1].plural != "pods"))
        if not found:
            return ""
        gv, r = found[0]
        scope = '"default"' if r.namespaced else ""
        new = f"new_simple_{flavor.function_prefix}clientset(obj_a, obj_b)"
        if flavor.prefix:
            return (
                f"    async with {new} as cs:\n"
                f'        cs.fake.prepend_reactor("create", "{r.plural}", reactor)\n'
                f"        await cs.{gv.module}.{r.accessor}({scope}).list(); cs.actions\n\n"
            )
        return (
            f"    cs = {new}\n"
            f'    cs.fake.prepend_reactor("create", "{r.plural}", reactor)\n'
            f"    cs.{gv.module}.{r.accessor}({scope}).list(); cs.actions\n\n"
        )

    def listers(self) -> dict[str, str]:
        listed = (gv for gv in self.gvs if gv.listed)
        return self.per_group_version("listers", "listers.py.j2", "kgen listers", listed)

    def informers(self) -> dict[str, str]:
        """The sync informers and factory, and the async ones from the same templates
        (``aio/informers``): only the :class:`Flavor` differs. Both use the sync listers."""
        informed = [gv for gv in self.gvs if gv.informed]
        files: dict[str, str] = {}
        for flavor, folder in (
            (Flavor.sync(self.package), "informers"),
            (Flavor.asyncio(self.package), "aio/informers"),
        ):
            files.update(
                self.per_group_version(
                    folder, "informers.py.j2", "kgen informers", informed, flavor=flavor
                )
            )
            files[f"{folder}/__init__.py"] = self.render(
                "factory.py.j2", "kgen informers", flavor=flavor
            )
        return files


def render_package(
    api: APIModel,
    package: str,
    emitters: Iterable[str],
    *,
    input_hash: str,
    sources: Iterable[str] = (),
    progress: Callable[[str, int], None] | None = None,
    formatted: bool = True,
) -> dict[str, dict[str, str]]:
    """Render the files of ``emitters`` for ``api`` as package ``package``, in black's layout
    (black runs only where :mod:`kgen.generator.formatting` says the emitters cannot promise it).

    Returns, per emitter, its files (path relative to the package folder -> text); the shared
    ``__init__.py`` and ``py.typed`` are listed under every emitter. ``sources`` (file names)
    are named in the package docstring. ``progress(path, total)`` is called once per formatted
    file. ``formatted=False`` skips black (the code is the same, only the few files black would
    touch are laid out differently; for tests that only import and type-check). Raises :class:`GenerateError` when the model
    cannot become a package.
    """
    _check_package(package)
    renderer = _Renderer(api, package, input_hash)
    if not renderer.gvs and set(emitters) - {"models"}:
        raise GenerateError(
            "the input serves no resource with a schema, so there is no client to generate "
            "(give OpenAPI documents with paths, or CRDs; `kgen models` needs only schemas)"
        )
    shared = {
        "__init__.py": renderer.render(
            "package_init.py.j2", "kgen", sources=sorted(set(sources)) or ["(no documents)"]
        ),
        "py.typed": "",
    }
    paths: dict[str, list[str]] = {}
    raw = dict(shared)
    for emitter in emitters:
        files = getattr(renderer, emitter)()
        raw.update(files)
        paths[emitter] = [*shared, *files]
    total = len(raw)
    if formatted:
        raw = format_sources(raw, None if progress is None else lambda p: progress(p, total))
    return {emitter: {p: raw[p] for p in ps} for emitter, ps in paths.items()}
