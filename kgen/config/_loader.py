"""Which kubeconfig files to read, and how several merge into one, as kubectl does it.

Loading rules:

* An explicit path replaces everything else and must exist.
* Otherwise ``KUBECONFIG``, split on ``os.pathsep``: empty entries are skipped, duplicates keep
  their first place, and files that do not exist are skipped silently (a log warning only when
  none of them exists).
* Otherwise ``~/.kube/config``, which may be absent (an empty configuration).

Merging, "the first file to set a value wins": a cluster, user, context or extension is taken
whole from the first file that names it (a later file's entry of the same name is ignored, even
the fields the first one left empty); ``current-context`` comes from the first file that sets
it; ``preferences.colors`` is on if any file turns it on, and preference extensions merge by
name like the other maps.

Relative paths are kept as written, each entry remembering its file (``origin``);
:func:`resolve_path` resolves them against that file's folder. Reading is done afresh on each
call; nothing here holds state, so every function is safe to call from any thread.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from kgen.config._errors import KubeconfigError
from kgen.config._model import AuthInfo, Cluster, Kubeconfig, Preferences, to_wire
from kgen.config._parse import load_file

__all__ = [
    "KUBECONFIG_ENV",
    "default_filename",
    "flatten",
    "load_merged",
    "loading_precedence",
    "merge",
    "merged_view",
    "minify",
    "resolve_path",
]

KUBECONFIG_ENV = "KUBECONFIG"
"""The environment variable holding the list of kubeconfig files."""

_log = logging.getLogger("kgen.config")

V = TypeVar("V")


def loading_precedence(environ: Mapping[str, str] | None = None) -> list[str]:
    """The kubeconfig files to merge, first one winning: ``KUBECONFIG`` or ``~/.kube/config``.

    ``environ`` defaults to ``os.environ``; ``~`` is its ``HOME`` when set.
    """
    env = os.environ if environ is None else environ
    listed = env.get(KUBECONFIG_ENV, "")
    if listed:
        return list(dict.fromkeys(entry for entry in listed.split(os.pathsep) if entry))
    home = env.get("HOME") or str(Path.home())
    return [os.path.join(home, ".kube", "config")]


def _merge_maps(maps: Iterable[dict[str, V]]) -> dict[str, V]:
    merged: dict[str, V] = {}
    for entries in maps:
        for name, value in entries.items():
            merged.setdefault(name, value)
    return merged


def merge(configs: Iterable[Kubeconfig]) -> Kubeconfig:
    """Merge parsed kubeconfigs, earlier ones winning (see the module docstring)."""
    ordered = list(configs)
    return Kubeconfig(
        clusters=_merge_maps(c.clusters for c in ordered),
        auth_infos=_merge_maps(c.auth_infos for c in ordered),
        contexts=_merge_maps(c.contexts for c in ordered),
        preferences=Preferences(
            colors=any(c.preferences.colors for c in ordered),
            extensions=_merge_maps(c.preferences.extensions for c in ordered),
        ),
        extensions=_merge_maps(c.extensions for c in ordered),
        current_context=next((c.current_context for c in ordered if c.current_context), ""),
    )


def load_merged(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> Kubeconfig:
    """Load and merge the kubeconfig files chosen by the loading rules.

    ``path`` is the explicit file (kubectl's ``--kubeconfig``): only it is read, and its absence
    is an error. ``environ`` defaults to ``os.environ``.
    """
    if path is not None:
        return load_file(os.fspath(path))
    files = loading_precedence(environ)
    existing = [file for file in files if os.path.exists(file)]
    if not existing and (os.environ if environ is None else environ).get(KUBECONFIG_ENV):
        _log.warning("none of the kubeconfig files in %s exists: %s", KUBECONFIG_ENV, files)
    return merge(load_file(file) for file in existing)


def default_filename(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> str:
    """The file that changes to the configuration belong in, as kubectl chooses it.

    The explicit ``path``; else the first existing file of the loading precedence; else its
    first entry (a file to create).
    """
    if path is not None:
        return os.fspath(path)
    files = loading_precedence(environ)
    return next((file for file in files if os.path.exists(file)), files[0])


def resolve_path(path: str, origin: str) -> str:
    """``path`` as written in the file ``origin``: relative paths are taken from its folder."""
    if not path or os.path.isabs(path) or not origin:
        return path
    return os.path.join(os.path.dirname(os.path.abspath(origin)), path)


def _embedded(entry: Cluster | AuthInfo, attr: str, field: str) -> dict[str, Any]:
    """The changes that move the file named by ``entry.<attr>`` into ``entry.<attr>_data``."""
    path = getattr(entry, attr)
    if not path:
        return {}
    if getattr(entry, attr + "_data"):
        raise KubeconfigError(
            "both the path and the data are set", file=entry.origin or None, field=field
        )
    try:
        data = Path(resolve_path(path, entry.origin)).read_bytes()
    except OSError as exc:
        raise KubeconfigError(
            f"cannot read {path!r}: {exc.strerror}", file=entry.origin or None, field=field
        ) from None
    return {attr: "", attr + "_data": data}


def flatten(config: Kubeconfig) -> Kubeconfig:
    """Embed referenced files: certificate-authority, client-certificate and client-key.

    Each named file is read (relative to the kubeconfig that names it) into the matching
    ``*-data`` field, and the path is cleared. An unreadable file, or a path whose ``*-data``
    is also set, is a :class:`KubeconfigError`.
    """
    clusters = {
        name: msgspec.structs.replace(
            cluster,
            **_embedded(
                cluster,
                "certificate_authority",
                f"clusters[name={name}].cluster.certificate-authority",
            ),
        )
        for name, cluster in config.clusters.items()
    }
    users = {
        name: msgspec.structs.replace(
            user,
            **_embedded(user, "client_certificate", f"users[name={name}].user.client-certificate"),
            **_embedded(user, "client_key", f"users[name={name}].user.client-key"),
        )
        for name, user in config.auth_infos.items()
    }
    return msgspec.structs.replace(config, clusters=clusters, auth_infos=users)


def minify(config: Kubeconfig, context: str | None = None) -> Kubeconfig:
    """Only the current context (``context`` when given), its cluster and its user.

    Preferences and extensions stay. No current context, or a context, cluster or user that does
    not exist, is a :class:`KubeconfigError`.
    """
    name = context or config.current_context
    if not name:
        raise KubeconfigError("a current context is needed to minify, and there is none")
    chosen = config.contexts.get(name)
    if chosen is None:
        raise KubeconfigError(f"context {name!r} does not exist")
    kept: dict[str, Any] = {"current_context": name, "contexts": {name: chosen}}
    for attr, kind, entry in (
        ("clusters", "cluster", chosen.cluster),
        ("auth_infos", "user", chosen.user),
    ):
        entries = getattr(config, attr)
        if entry and entry not in entries:
            raise KubeconfigError(f"{kind} {entry!r} of context {name!r} does not exist")
        kept[attr] = {entry: entries[entry]} if entry else {}
    return msgspec.structs.replace(config, **kept)


def merged_view(
    path: str | os.PathLike[str] | None = None,
    *,
    flat: bool = True,
    minified: bool = False,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON of ``kubectl config view --merge --raw -o json``.

    ``flat`` is ``--flatten``; ``minified`` is ``--minify`` (see :func:`minify`), for the
    current context or ``context`` (``--context``). As for kubectl, the other overrides do not
    change the view. Secrets are not redacted. ``path`` and ``environ`` are as for
    :func:`load_merged`.
    """
    config = load_merged(path, environ=environ)
    if minified:
        config = minify(config, context)
    return to_wire(flatten(config) if flat else config)
