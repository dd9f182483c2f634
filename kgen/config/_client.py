"""From a merged kubeconfig to a :class:`kgen.rest.Config`, choosing as kubectl does.

The context is the ``context`` override, else ``current-context``. The user and the cluster are
the ``user``/``cluster`` overrides, else the context's. A name given as an override, or as
``current-context``, that names nothing is an error; a context's user that names nothing means
no credentials (logged), as it does for kubectl. The namespace is the ``namespace`` override, else
the context's, else ``"default"``. The other overrides (kubectl's ``--server``, ``--token``...,
see :mod:`kgen.config._overrides`) then change the chosen cluster and user. A context's cluster
that does not exist, or no cluster at all, is an :class:`~kgen.config.EmptyConfigError` unless a
``server`` override supplies one (then nothing from the kubeconfig is needed).

Everything wrong with the chosen cluster and user is reported together in one
:class:`~kgen.config.KubeconfigError`. Relative paths (certificate-authority, client-certificate,
client-key, tokenFile, an exec command with a slash) are resolved against the kubeconfig file that
named them.

As kubectl does, credentials (token, client certificate, basic auth, exec plugin, auth
provider) and TLS settings are used only when the server's URL is ``https://``: for a plain-HTTP
server they are left out (and a warning is logged). Impersonation is sent in both cases.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import msgspec

from kgen.config._authprovider import auth_provider_problems, shared_auth_provider
from kgen.config._errors import EmptyConfigError, KubeconfigError
from kgen.config._exec import exec_config_problems, shared_exec_provider
from kgen.config._loader import load_merged, resolve_path
from kgen.config._model import AuthInfo, Cluster, Context, Kubeconfig
from kgen.config._overrides import Overrides, override_cluster, override_user
from kgen.rest.config import Config, ImpersonationConfig

__all__ = ["DEFAULT_NAMESPACE", "client_config", "load_kubeconfig"]

DEFAULT_NAMESPACE = "default"

_log = logging.getLogger("kgen.config")
_PROXY_SCHEMES = ("http", "https", "socks5")


def _where(file: str, field: str) -> str:
    return f"{file}: {field}" if file else field


def _unreadable(path: str, origin: str, field: str) -> str | None:
    """A message when the file ``path`` (relative to ``origin``) cannot be read, else None."""
    resolved = resolve_path(path, origin)
    try:
        with open(resolved, "rb"):
            return None
    except OSError as exc:
        return f"{_where(origin, field)}: cannot read {resolved!r}: {exc.strerror}"


def _cluster_problems(name: str, cluster: Cluster) -> list[str]:
    field = f"clusters[name={name}].cluster"
    where = _where(cluster.origin, field)
    problems = []
    if not cluster.server:
        problems.append(f"{where}: no server found for cluster {name!r}")
    if cluster.proxy_url and urlsplit(cluster.proxy_url).scheme not in _PROXY_SCHEMES:
        problems.append(
            f"{where}.proxy-url: scheme of {cluster.proxy_url!r} must be http, https or socks5"
        )
    if cluster.certificate_authority and cluster.certificate_authority_data:
        problems.append(
            f"{where}: certificate-authority and certificate-authority-data are both set"
        )
    if (
        cluster.certificate_authority or cluster.certificate_authority_data
    ) and cluster.insecure_skip_tls_verify:
        problems.append(
            f"{where}: a certificate authority with insecure-skip-tls-verify is not allowed"
        )
    if cluster.certificate_authority:
        problem = _unreadable(
            cluster.certificate_authority, cluster.origin, f"{field}.certificate-authority"
        )
        problems += [problem] if problem else []
    return problems


def _user_problems(name: str, user: AuthInfo) -> list[str]:
    field = f"users[name={name}].user"
    where = _where(user.origin, field)
    problems = []
    methods = [
        method
        for method, used in (
            ("token", user.token or user.token_file),
            ("basic auth", user.username or user.password),
        )
        if used
    ]
    if len(methods) > 1:
        problems.append(f"{where}: more than one authentication method: {', '.join(methods)}")
    for attr, wire in (("client_certificate", "client-certificate"), ("client_key", "client-key")):
        path, data = getattr(user, attr), getattr(user, attr + "_data")
        if path and data:
            problems.append(f"{where}: {wire} and {wire}-data are both set")
        elif path:
            problem = _unreadable(path, user.origin, f"{field}.{wire}")
            problems += [problem] if problem else []
    has_cert = bool(user.client_certificate or user.client_certificate_data)
    has_key = bool(user.client_key or user.client_key_data)
    if has_cert != has_key:
        problems.append(f"{where}: a client certificate needs a client key and the reverse")
    if user.exec is not None:
        if user.auth_provider is not None:
            problems.append(f"{where}: auth-provider and exec cannot both be set")
        problems += [f"{where}: {problem}" for problem in exec_config_problems(user.exec)]
    elif user.auth_provider is not None:
        problems += [
            f"{where}.auth-provider: {problem}"
            for problem in auth_provider_problems(user.auth_provider)
        ]
    impersonates_more = user.impersonate_uid or user.impersonate_groups
    if (impersonates_more or user.impersonate_user_extra) and not user.impersonate:
        problems.append(f"{where}: as-uid, as-groups and as-user-extra need as (the user)")
    return problems


def _read_token_file(user: AuthInfo, name: str) -> str:
    path = resolve_path(user.token_file, user.origin)
    field = f"users[name={name}].user.tokenFile"
    try:
        return Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not text"
        raise KubeconfigError(
            f"cannot read {path!r}: {reason}", file=user.origin or None, field=field
        ) from None


def _host(server: str) -> str:
    """The server URL, without query or fragment when it has a path (as client-go does)."""
    parts = urlsplit(server)
    if parts.scheme and parts.netloc and len(parts.path) > 1:
        return urlunsplit(parts._replace(query="", fragment=""))
    return server


def _pick(config: Kubeconfig, overrides: Overrides) -> tuple[Context, str, str]:
    """The context, cluster name and user name chosen by the overrides (see module docstring)."""
    context_name = overrides.context or config.current_context
    chosen = Context()
    if context_name:
        if context_name not in config.contexts:
            if overrides.context:
                raise KubeconfigError(f"context {context_name!r} does not exist")
            raise KubeconfigError(
                f"current-context names context {context_name!r}, which does not exist"
            )
        chosen = config.contexts[context_name]
    if overrides.user and overrides.user not in config.auth_infos:
        raise KubeconfigError(f"user {overrides.user!r} does not exist")
    if overrides.cluster and overrides.cluster not in config.clusters:
        raise KubeconfigError(f"cluster {overrides.cluster!r} does not exist")
    return chosen, overrides.cluster or chosen.cluster, overrides.user or chosen.user


def _no_server(chosen: Context, cluster_name: str, context: str) -> str:
    """Why no cluster with a server was chosen, when none of the kubeconfig's was."""
    if not cluster_name:
        return (
            "no cluster is configured: no current-context, and no context, cluster or server"
            " was given"
        )
    where = _where(chosen.origin, f"contexts[name={context}].context.cluster")
    return f"{where}: cluster {cluster_name!r} of context {context!r} does not exist"


def client_config(
    config: Kubeconfig,
    *,
    context: str | None = None,
    cluster: str | None = None,
    user: str | None = None,
    namespace: str | None = None,
    overrides: Overrides | None = None,
) -> Config:
    """Build the REST :class:`Config` for one context of a loaded kubeconfig.

    ``overrides`` are kubectl's global flags (see :class:`~kgen.config.Overrides`); ``context``,
    ``cluster``, ``user`` and ``namespace`` are shorthands for the same fields of it and win over
    them. ``request_timeout`` becomes the config's ``timeout``. An exec plugin becomes the
    config's ``auth_provider`` (shared process-wide by every config with the same plugin,
    cluster and stdin availability); so does an ``oidc`` auth provider (shared by every config
    with the same server, kubeconfig file, user, issuer and client id; see
    :mod:`kgen.config._authprovider`). Raises :class:`EmptyConfigError` when nothing names a
    server (and nothing else is wrong), :class:`KubeconfigError` for everything else.
    """
    chosen_overrides = (overrides or Overrides()).with_selection(context, cluster, user, namespace)
    timeout = chosen_overrides.timeout_seconds()
    chosen, cluster_name, user_name = _pick(config, chosen_overrides)
    context_name = chosen_overrides.context or config.current_context
    the_cluster = override_cluster(
        config.clusters.get(cluster_name, Cluster(origin=chosen.origin)), chosen_overrides
    )
    if user_name and user_name not in config.auth_infos:
        _log.warning("user %r named by the context does not exist: no credentials", user_name)
    the_user = override_user(config.auth_infos.get(user_name, AuthInfo()), chosen_overrides)
    problems = _user_problems(user_name, the_user)
    if cluster_name in config.clusters or the_cluster.server:
        problems = _cluster_problems(cluster_name, the_cluster) + problems
    elif problems:
        problems.insert(0, _no_server(chosen, cluster_name, context_name))
    else:
        raise EmptyConfigError(_no_server(chosen, cluster_name, context_name))
    if problems:
        raise KubeconfigError("invalid configuration: " + "; ".join(problems))

    result = Config(
        host=_host(the_cluster.server),
        proxy_url=the_cluster.proxy_url,
        disable_compression=the_cluster.disable_compression,
        timeout=timeout,
        namespace=chosen_overrides.namespace or chosen.namespace or DEFAULT_NAMESPACE,
    )
    result.impersonate = ImpersonationConfig(
        user=the_user.impersonate,
        uid=the_user.impersonate_uid,
        groups=the_user.impersonate_groups,
        extra=dict(the_user.impersonate_user_extra),
    )
    parts = urlsplit(result.host)
    if parts.scheme.lower() != "https" or not parts.netloc:
        if _has_credentials(the_user):
            _log.warning(
                "cluster %r is not https: the credentials of user %r are not used",
                cluster_name,
                user_name,
            )
        return result
    _add_server_identity(result, the_cluster, cluster_name)
    _add_user_identity(result, the_user, user_name, the_cluster, chosen_overrides)
    return result


def _has_credentials(user: AuthInfo) -> bool:
    """Whether ``user`` sets anything that identifies it (impersonation aside)."""
    identity_free = msgspec.structs.replace(
        user,
        origin="",
        impersonate="",
        impersonate_uid="",
        impersonate_groups=(),
        impersonate_user_extra={},
        extensions={},
    )
    return identity_free != AuthInfo()


def _add_server_identity(result: Config, cluster: Cluster, name: str) -> None:
    result.ca_file = resolve_path(cluster.certificate_authority, cluster.origin)
    result.ca_data = cluster.certificate_authority_data
    result.tls_server_name = cluster.tls_server_name
    result.insecure = cluster.insecure_skip_tls_verify
    if result.insecure:
        _log.warning("cluster %r: insecure-skip-tls-verify, the server is not verified", name)


def _add_user_identity(
    result: Config, user: AuthInfo, name: str, cluster: Cluster, overrides: Overrides
) -> None:
    if user.token:
        result.bearer_token = user.token
    elif user.token_file:
        result.bearer_token = _read_token_file(user, name)
    result.bearer_token_file = resolve_path(user.token_file, user.origin)
    result.cert_file = resolve_path(user.client_certificate, user.origin)
    result.cert_data = user.client_certificate_data
    result.key_file = resolve_path(user.client_key, user.origin)
    result.key_data = user.client_key_data
    result.username, result.password = user.username, user.password
    if user.exec is not None:
        result.auth_provider = shared_exec_provider(
            user.exec,
            origin=user.origin,
            cluster=cluster,
            stdin_unavailable=overrides.stdin_unavailable,
            stdin_unavailable_message=overrides.stdin_unavailable_message,
        )
    elif user.auth_provider is not None:
        result.auth_provider = shared_auth_provider(
            user.auth_provider, user=name, origin=user.origin, server=cluster.server
        )


def load_kubeconfig(
    path: str | os.PathLike[str] | None = None,
    context: str | None = None,
    cluster: str | None = None,
    user: str | None = None,
    namespace: str | None = None,
    *,
    overrides: Overrides | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Load the kubeconfig (see :func:`kgen.config.load_merged`) and build a REST config.

    ``path`` is an explicit kubeconfig file; the other arguments are the overrides of
    :func:`client_config`. With a ``server`` override no kubeconfig entry is needed at all.
    Raises :class:`KubeconfigError` (:class:`EmptyConfigError` when nothing names a server).
    """
    merged = load_merged(path, environ=environ)
    return client_config(
        merged,
        context=context,
        cluster=cluster,
        user=user,
        namespace=namespace,
        overrides=overrides,
    )
