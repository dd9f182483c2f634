"""Reading one kubeconfig file into a :class:`~kgen.config.Kubeconfig`.

The YAML is read with PyYAML's safe loader, except that timestamps stay strings (as they do for
the Go loader, which goes through JSON). Types are checked strictly: ``token: 123`` is an error,
as it is for kubectl. Unknown fields are ignored. An empty file is an empty configuration.
Every error is a :class:`~kgen.config.KubeconfigError` naming the file and the field path, with
entries named by their ``name`` (``users[name=alice].user.token``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from kgen.config._errors import KubeconfigError
from kgen.config._model import AuthInfo, Cluster, Context, Kubeconfig, Preferences

if TYPE_CHECKING:
    import yaml

__all__ = ["load_file", "parse_kubeconfig"]

_BETA_EXEC_VERSIONS = (
    "client.authentication.k8s.io/v1alpha1",
    "client.authentication.k8s.io/v1beta1",
)

E = TypeVar("E", Cluster, AuthInfo, Context, Preferences)


@functools.cache
def _loader() -> type[yaml.SafeLoader]:
    """Safe YAML loading with timestamps left as strings, and the bare words ``y``, ``Y``, ``n``
    and ``N`` read as booleans, as the Go loader reads them (so ``token: y`` is an error).

    Built on first use, so that yaml is imported only when a kubeconfig is actually read."""
    import yaml

    class _Loader(yaml.SafeLoader):
        bool_values = {**yaml.SafeLoader.bool_values, "y": True, "n": False}

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^[yYnN]$"), list("yYnN"))
    return _Loader


class _Reader:
    """Converts the YAML tree of one file, remembering the file for error messages."""

    def __init__(self, file: str):
        self.file = file

    def error(self, field: str | None, message: str) -> KubeconfigError:
        return KubeconfigError(message, file=self.file, field=field)

    def named_list(self, items: Any, value_key: str, where: str) -> dict[str, Any]:
        """``[{name: n, <value_key>: v}, ...]`` as ``{n: v}``; duplicate names are an error."""
        if items is None:
            return {}
        if not isinstance(items, list):
            raise self.error(where, f"expected a list of named entries, got {_kind(items)}")
        entries: dict[str, Any] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.error(f"{where}[{index}]", f"expected a mapping, got {_kind(item)}")
            name = item.get("name", "")
            if not isinstance(name, str):
                raise self.error(f"{where}[{index}].name", f"expected a string, got {_kind(name)}")
            if name in entries:
                raise self.error(f"{where}[{index}]", f"duplicate name {name!r} in {where}")
            entries[name] = item.get(value_key)
        return entries

    def entry(self, value: Any, type_: type[E], where: str) -> E:
        """One struct from its YAML mapping, its ``extensions`` list turned into a map."""
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(where, f"expected a mapping, got {_kind(value)}")
        if "extensions" in value:
            extensions = self.named_list(value["extensions"], "extension", f"{where}.extensions")
            value = {**value, "extensions": extensions}
        try:
            return msgspec.convert(value, type_, strict=True)
        except msgspec.ValidationError as exc:
            message, _, path = str(exc).rpartition(" - at `$")
            raise self.error(where + path.rstrip("`"), message or str(exc)) from None

    def entries(self, items: Any, key: str, value_key: str, type_: type[E]) -> dict[str, E]:
        named = self.named_list(items, value_key, key)
        return {
            name: self.entry(value, type_, f"{key}[name={name}].{value_key}")
            for name, value in named.items()
        }


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _default_exec(auth_info: AuthInfo) -> AuthInfo:
    """Set the exec plugin's interactiveMode default (IfAvailable) for the beta API versions."""
    exec_config = auth_info.exec
    if exec_config is None or exec_config.interactive_mode:
        return auth_info
    if exec_config.api_version not in _BETA_EXEC_VERSIONS:
        return auth_info
    exec_config = msgspec.structs.replace(exec_config, interactive_mode="IfAvailable")
    return msgspec.structs.replace(auth_info, exec=exec_config)


def yaml_tree(text: str | bytes) -> Any:
    """The YAML document as the Go loader reads it (see :func:`_loader`); raises
    ``yaml.YAMLError`` when it is not YAML."""
    import yaml

    return yaml.load(text, Loader=_loader())  # a SafeLoader subclass


def parse_kubeconfig(text: str | bytes, file: str) -> Kubeconfig:
    """Parse kubeconfig YAML; ``file`` is recorded as every entry's origin and named in errors."""
    import yaml

    reader = _Reader(file)
    try:
        tree = yaml_tree(text)
    except yaml.YAMLError as exc:
        raise reader.error(None, f"invalid YAML: {exc}") from None
    if tree is None:
        return Kubeconfig()
    if not isinstance(tree, dict):
        raise reader.error(None, f"expected a mapping at the top level, got {_kind(tree)}")
    kind, api_version = tree.get("kind") or "Config", tree.get("apiVersion") or "v1"
    if (kind, api_version) != ("Config", "v1"):
        raise reader.error(None, f"expected kind Config, apiVersion v1, got {kind} {api_version}")
    current_context = tree.get("current-context") or ""
    if not isinstance(current_context, str):
        raise reader.error("current-context", f"expected a string, got {_kind(current_context)}")
    clusters = reader.entries(tree.get("clusters"), "clusters", "cluster", Cluster)
    users = reader.entries(tree.get("users"), "users", "user", AuthInfo)
    contexts = reader.entries(tree.get("contexts"), "contexts", "context", Context)
    return Kubeconfig(
        clusters={n: msgspec.structs.replace(c, origin=file) for n, c in clusters.items()},
        auth_infos={
            n: _default_exec(msgspec.structs.replace(u, origin=file)) for n, u in users.items()
        },
        contexts={n: msgspec.structs.replace(c, origin=file) for n, c in contexts.items()},
        preferences=reader.entry(tree.get("preferences"), Preferences, "preferences"),
        extensions=reader.named_list(tree.get("extensions"), "extension", "extensions"),
        current_context=current_context,
    )


def load_file(path: str | Path) -> Kubeconfig:
    """Read and parse one kubeconfig file; an unreadable file is a :class:`KubeconfigError`."""
    file = str(path)
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise KubeconfigError(f"cannot read kubeconfig: {exc.strerror}", file=file) from None
    return parse_kubeconfig(data, file)
