"""Legacy in-tree auth providers (``users[].user.auth-provider``): which names work, and the
process-wide sharing of their :class:`kgen.rest.AuthProvider`.

* ``oidc`` is supported: :class:`~kgen.config._oidc.OIDCAuthProvider`.
* ``gcp``, ``azure`` and ``openstack`` were removed from client-go in favour of exec credential
  plugins; a kubeconfig naming one is refused with the plugin to use instead and how to switch
  (:data:`REMOVED_PROVIDERS`), never sent on without credentials.
* Any other name is refused as client-go refuses it ("no Auth Provider found for name ...").

Providers are shared: every config built for the same API server, kubeconfig file, user,
issuer and client id gets the same provider, so that all clients of a process refresh a token
once, under one lock. Safe to call from any thread.
"""

from __future__ import annotations

import json
import os
import threading

from kgen.config._errors import KubeconfigError
from kgen.config._model import AuthProviderConfig
from kgen.config._oidc import CLIENT_ID, ISSUER_URL, OIDCAuthProvider, oidc_config_problems

__all__ = ["REMOVED_PROVIDERS", "auth_provider_problems", "shared_auth_provider"]

REMOVED_PROVIDERS: dict[str, tuple[str, str]] = {
    "gcp": (
        "gke-gcloud-auth-plugin",
        "install it with `gcloud components install gke-gcloud-auth-plugin`, then run"
        " `gcloud container clusters get-credentials CLUSTER` to rewrite the user as an exec"
        " plugin",
    ),
    "azure": (
        "kubelogin (Azure/kubelogin)",
        "install kubelogin, then run `kubelogin convert-kubeconfig` to rewrite the user as an"
        " exec plugin",
    ),
    "openstack": (
        "client-keystone-auth (from cloud-provider-openstack)",
        "install client-keystone-auth and replace the user's auth-provider section with an"
        " exec section whose command is client-keystone-auth",
    ),
}
"""Removed provider name -> (the exec credential plugin replacing it, how to switch)."""

_shared: dict[tuple[str, str, str, str, str], OIDCAuthProvider] = {}
_shared_lock = threading.Lock()


def auth_provider_problems(provider: AuthProviderConfig) -> list[str]:
    """What makes ``provider`` unusable, one message each; empty when kgen can use it."""
    if provider.name == "oidc":
        return oidc_config_problems(provider.config or {})
    if provider.name in REMOVED_PROVIDERS:
        plugin, hint = REMOVED_PROVIDERS[provider.name]
        return [
            f"the {provider.name!r} auth provider has been removed from client-go and kgen does"
            f" not have it: use the {plugin} exec credential plugin instead; {hint}"
        ]
    return [f"no Auth Provider found for name {json.dumps(provider.name)} (kgen knows only oidc)"]


def shared_auth_provider(
    provider: AuthProviderConfig, *, user: str, origin: str, server: str
) -> OIDCAuthProvider:
    """The process-wide provider of user ``user`` of the kubeconfig ``origin`` for the API
    server ``server``. ``provider`` must be usable (no :func:`auth_provider_problems`);
    raises :class:`~kgen.config.KubeconfigError` otherwise."""
    problems = auth_provider_problems(provider)
    if problems:
        field = f"users[name={user}].user.auth-provider"
        raise KubeconfigError("; ".join(problems), file=origin or None, field=field)
    config = provider.config or {}
    key = (
        server,
        os.path.realpath(origin) if origin else "",
        user,
        config.get(ISSUER_URL, ""),
        config.get(CLIENT_ID, ""),
    )
    with _shared_lock:
        shared = _shared.get(key)
        if shared is None:
            shared = _shared[key] = OIDCAuthProvider(config, user=user, origin=origin)
        return shared
