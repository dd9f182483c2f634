"""The typed kubeconfig model (``apiVersion: v1``, ``kind: Config``) and its wire form.

On the wire, clusters, users, contexts and extensions are lists of ``{name, <value>}`` entries;
here they are dictionaries keyed by name, as client-go keeps them in memory. Attribute names are
snake_case; each keeps its wire name (``certificate-authority-data``, ``tokenFile``...).
``*_data`` fields hold the decoded bytes (base64 on the wire).

Every :class:`Cluster`, :class:`AuthInfo` and :class:`Context` remembers in ``origin`` the
kubeconfig file it was read from, so that relative paths in it can be resolved against that
file's folder. ``origin`` is not part of the wire form.

Instances are plain values built by the loader; treat them as read-only (they are shared between
the merged view and the files it was merged from). :func:`to_wire` gives the JSON-ready form that
``kubectl config view -o json`` prints, field for field.
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar

import msgspec

__all__ = [
    "AuthInfo",
    "AuthProviderConfig",
    "Cluster",
    "Context",
    "ExecConfig",
    "ExecEnvVar",
    "Kubeconfig",
    "Preferences",
    "to_wire",
]

_ORIGIN = "LocationOfOrigin"


class _Entry(msgspec.Struct, kw_only=True):
    """Base of the kubeconfig structs.

    ``_always`` names the attributes written to the wire even when empty (those that Go's types
    declare without ``omitempty``); every other empty attribute is left out.
    """

    _always: ClassVar[frozenset[str]] = frozenset()


class Cluster(_Entry):
    """How to reach one API server (``clusters[].cluster``)."""

    _always = frozenset({"server"})

    server: str = ""
    tls_server_name: str = msgspec.field(default="", name="tls-server-name")
    insecure_skip_tls_verify: bool = msgspec.field(default=False, name="insecure-skip-tls-verify")
    certificate_authority: str = msgspec.field(default="", name="certificate-authority")
    certificate_authority_data: bytes = msgspec.field(
        default=b"", name="certificate-authority-data"
    )
    proxy_url: str = msgspec.field(default="", name="proxy-url")
    disable_compression: bool = msgspec.field(default=False, name="disable-compression")
    extensions: dict[str, Any] = {}
    origin: str = msgspec.field(default="", name=_ORIGIN)


class ExecEnvVar(_Entry):
    """One environment variable given to an exec plugin."""

    _always = frozenset({"name", "value"})

    name: str = ""
    value: str = ""


class ExecConfig(_Entry):
    """An exec credential plugin (``users[].user.exec``), see :mod:`kgen.config._exec`."""

    _always = frozenset({"command", "args", "env", "provide_cluster_info"})

    command: str = ""
    args: tuple[str, ...] | None = None
    env: tuple[ExecEnvVar, ...] | None = None
    api_version: str = msgspec.field(default="", name="apiVersion")
    install_hint: str = msgspec.field(default="", name="installHint")
    provide_cluster_info: bool = msgspec.field(default=False, name="provideClusterInfo")
    interactive_mode: str = msgspec.field(default="", name="interactiveMode")


class AuthProviderConfig(_Entry):
    """A legacy in-tree auth provider (``users[].user.auth-provider``)."""

    _always = frozenset({"name", "config"})

    name: str = ""
    config: dict[str, str] | None = None


class AuthInfo(_Entry):
    """Credentials of one user (``users[].user``)."""

    client_certificate: str = msgspec.field(default="", name="client-certificate")
    client_certificate_data: bytes = msgspec.field(default=b"", name="client-certificate-data")
    client_key: str = msgspec.field(default="", name="client-key")
    client_key_data: bytes = msgspec.field(default=b"", name="client-key-data")
    token: str = ""
    token_file: str = msgspec.field(default="", name="tokenFile")
    impersonate: str = msgspec.field(default="", name="as")
    impersonate_uid: str = msgspec.field(default="", name="as-uid")
    impersonate_groups: tuple[str, ...] = msgspec.field(default=(), name="as-groups")
    impersonate_user_extra: dict[str, tuple[str, ...]] = msgspec.field(
        default_factory=dict, name="as-user-extra"
    )
    username: str = ""
    password: str = ""
    auth_provider: AuthProviderConfig | None = msgspec.field(default=None, name="auth-provider")
    exec: ExecConfig | None = None
    extensions: dict[str, Any] = {}
    origin: str = msgspec.field(default="", name=_ORIGIN)


class Context(_Entry):
    """A (cluster, user, namespace) triple (``contexts[].context``)."""

    _always = frozenset({"cluster", "user"})

    cluster: str = ""
    user: str = ""
    namespace: str = ""
    extensions: dict[str, Any] = {}
    origin: str = msgspec.field(default="", name=_ORIGIN)


class Preferences(_Entry):
    """``preferences``: kubectl's display settings, kept for round trips."""

    colors: bool = False
    extensions: dict[str, Any] = {}


class Kubeconfig(msgspec.Struct, kw_only=True):
    """One kubeconfig file, or several merged (see :func:`kgen.config.load_merged`)."""

    clusters: dict[str, Cluster] = {}
    auth_infos: dict[str, AuthInfo] = {}
    contexts: dict[str, Context] = {}
    preferences: Preferences = msgspec.field(default_factory=Preferences)
    extensions: dict[str, Any] = {}
    current_context: str = ""

    def is_empty(self) -> bool:
        """True when nothing at all is configured (no entry, no current context)."""
        return not (
            self.clusters
            or self.auth_infos
            or self.contexts
            or self.extensions
            or self.current_context
            or self.preferences != Preferences()
        )


def _named(entries: dict[str, Any], value_key: str) -> list[dict[str, Any]] | None:
    """A map keyed by name back to the wire's list, sorted by name; ``None`` when empty."""
    if not entries:
        return None
    return [{"name": name, value_key: _value(entries[name])} for name in sorted(entries)]


def _value(value: Any) -> Any:
    if isinstance(value, _Entry):
        return to_wire(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, tuple):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _value(item) for key, item in value.items()}
    return value


def to_wire(entry: _Entry | Kubeconfig) -> dict[str, Any]:
    """The JSON-ready wire form of ``entry``, as ``kubectl config view -o json`` prints it."""
    if isinstance(entry, Kubeconfig):
        wire: dict[str, Any] = {
            "kind": "Config",
            "apiVersion": "v1",
            "preferences": to_wire(entry.preferences),
            "clusters": _named(entry.clusters, "cluster"),
            "users": _named(entry.auth_infos, "user"),
            "contexts": _named(entry.contexts, "context"),
            "current-context": entry.current_context,
        }
        if entry.extensions:
            wire["extensions"] = _named(entry.extensions, "extension")
        return wire
    wire = {}
    for field in msgspec.structs.fields(entry):
        value = getattr(entry, field.name)
        if field.name == "origin" or not (value or field.name in entry._always):
            continue
        if field.name == "extensions":
            wire[field.encode_name] = _named(value, "extension")
        else:
            wire[field.encode_name] = _value(value)
    return wire
