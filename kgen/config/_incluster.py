"""Configuration from inside a pod: the service account that Kubernetes mounts into it.

The API server is ``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`` (an IPv6 host in
brackets). The token file is named as ``bearer_token_file`` so that the REST client re-reads it
(service-account tokens rotate); ``ca.crt`` is the certificate authority. The namespace is the
override, else ``POD_NAMESPACE``, else the mounted ``namespace`` file, else ``"default"``.

Overrides (kubectl's global flags, :class:`~kgen.config.Overrides`) apply in-cluster as they do
in client-go: the server, the token and the CA file (see
:func:`kgen.config._overrides.override_in_cluster`).

The folder and the environment can be replaced (for tests, or unusual mounts).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from kgen.config._client import DEFAULT_NAMESPACE, client_config
from kgen.config._errors import EmptyConfigError, InClusterError
from kgen.config._loader import load_merged
from kgen.config._overrides import Overrides, override_in_cluster
from kgen.rest.config import Config

__all__ = ["SERVICE_ACCOUNT_DIR", "in_cluster_config", "in_cluster_possible", "load"]

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
"""Where Kubernetes mounts a pod's service-account token, CA and namespace."""

_log = logging.getLogger("kgen.config")


def in_cluster_possible(
    *,
    environ: Mapping[str, str] | None = None,
    service_account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT_DIR,
) -> bool:
    """Whether this looks like a pod: the service env variables are set and the token exists."""
    env = os.environ if environ is None else environ
    token = Path(service_account_dir, "token")
    return (
        bool(env.get("KUBERNETES_SERVICE_HOST") and env.get("KUBERNETES_SERVICE_PORT"))
        and token.is_file()
    )


def in_cluster_config(
    namespace: str | None = None,
    *,
    overrides: Overrides | None = None,
    environ: Mapping[str, str] | None = None,
    service_account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT_DIR,
) -> Config:
    """The REST config of the pod's service account; :class:`InClusterError` outside a pod.

    ``overrides`` apply as the module docstring says; ``namespace`` wins over its namespace.
    """
    env = os.environ if environ is None else environ
    host, port = env.get("KUBERNETES_SERVICE_HOST", ""), env.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        raise InClusterError(
            "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT"
            " must both be set"
        )
    folder = Path(service_account_dir)
    token_file = folder / "token"
    try:
        token = token_file.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not text"
        message = f"cannot read the service-account token {token_file}: {reason}"
        raise InClusterError(message) from None
    if not token:
        raise InClusterError(f"the service-account token {token_file} is empty")
    ca_file = folder / "ca.crt"
    try:
        has_ca = b"-----BEGIN CERTIFICATE-----" in ca_file.read_bytes()
    except OSError as exc:
        has_ca = False
        _log.error("cannot read the service-account CA %s: %s", ca_file, exc.strerror)
    else:
        if not has_ca:
            _log.error("the service-account CA %s holds no PEM certificate", ca_file)
    host_port = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    config = Config(
        host=f"https://{host_port}",
        bearer_token=token,
        bearer_token_file=str(token_file),
        ca_file=str(ca_file) if has_ca else "",
        namespace=namespace or _pod_namespace(env, folder),
    )
    if overrides is not None:
        override_in_cluster(config, overrides.with_selection(namespace=namespace))
    return config


def _pod_namespace(env: Mapping[str, str], folder: Path) -> str:
    if env.get("POD_NAMESPACE"):
        return env["POD_NAMESPACE"]
    try:
        return (folder / "namespace").read_text().strip() or DEFAULT_NAMESPACE
    except (OSError, UnicodeDecodeError):
        return DEFAULT_NAMESPACE


def load(
    path: str | os.PathLike[str] | None = None,
    context: str | None = None,
    cluster: str | None = None,
    user: str | None = None,
    namespace: str | None = None,
    *,
    overrides: Overrides | None = None,
    environ: Mapping[str, str] | None = None,
    service_account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT_DIR,
) -> Config:
    """The configuration a program should use, wherever it runs (client-go's deferred loading).

    The kubeconfig (the explicit ``path``, else ``KUBECONFIG``, else ``~/.kube/config``) with the
    overrides is used whenever it names a server, or is wrong in any way other than naming none.
    When it names no server (:class:`EmptyConfigError`: no cluster, or the context's cluster
    does not exist, and no ``server`` override), the in-cluster configuration is used in a pod,
    with the overrides that apply to it (see the module docstring); outside a pod the
    :class:`EmptyConfigError` is raised. So a ``server`` override always means the kubeconfig,
    as in client-go: it makes the kubeconfig usable on its own (without the pod's credentials).
    """
    chosen = (overrides or Overrides()).with_selection(context, cluster, user, namespace)
    try:
        return client_config(load_merged(path, environ=environ), overrides=chosen)
    except EmptyConfigError:
        if not in_cluster_possible(environ=environ, service_account_dir=service_account_dir):
            raise
    _log.debug("the kubeconfig names no server: using the in-cluster configuration")
    return in_cluster_config(
        overrides=chosen, environ=environ, service_account_dir=service_account_dir
    )
