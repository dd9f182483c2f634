"""What a command line overrides in the kubeconfig: kubectl's global flags, as one value.

:class:`Overrides` holds one field per flag (``--server`` is ``server``, ``--as-group`` is
``impersonate_groups``...). Empty fields override nothing. The rules, as kubectl applies them:

* ``context``, ``cluster`` and ``user`` choose the entries; naming one that does not exist is an
  error. ``namespace`` replaces the context's namespace.
* Every other non-empty field replaces the same field of the chosen cluster or user; the rest of
  the entry stays. Three fields replace more than themselves:

  - ``certificate_authority`` or ``insecure_skip_tls_verify`` replace the cluster's whole trust
    setting: the CA file, the CA data and the insecure flag (so ``--insecure-skip-tls-verify``
    on a cluster with a CA is not the error a kubeconfig saying both would be);
  - ``server`` or ``tls_server_name`` replace the cluster's ``tls-server-name`` (a new server
    with no ``--tls-server-name`` clears the kubeconfig's, which named the old one);
  - ``client_certificate`` and ``client_key`` each replace both the file and the ``-data`` form.

* Paths (``certificate_authority``, ``client_certificate``, ``client_key``) are relative to the
  working directory, as on a command line, not to a kubeconfig file.
* ``request_timeout`` is kubectl's ``--request-timeout``: seconds as a number, or a string that is
  a whole number of seconds or a Go duration (``"30s"``, ``"1m30s"``); ``0`` means none.
* In a pod (the in-cluster configuration), only ``server``, ``token``, ``certificate_authority``,
  ``namespace`` and ``request_timeout`` apply; see :func:`override_in_cluster`.
* ``stdin_unavailable`` tells exec credential plugins that standard input is taken (the program
  reads something else from it, as ``kubectl apply -f -`` does): they run non-interactively, and
  a plugin that must be interactive fails with ``stdin_unavailable_message`` as the reason.

Instances are immutable and safe to share between threads.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from dataclasses import dataclass, field

import msgspec

from kgen.config._errors import KubeconfigError
from kgen.config._model import AuthInfo, Cluster
from kgen.rest.config import Config

__all__ = [
    "Overrides",
    "override_cluster",
    "override_in_cluster",
    "override_user",
]

_log = logging.getLogger("kgen.config")


@dataclass(frozen=True, kw_only=True)
class Overrides:
    """kubectl's global flags that change the chosen context, cluster and user.

    See the module docstring for how each field applies. ``repr()`` leaves out the token and the
    password.
    """

    context: str = ""
    cluster: str = ""
    user: str = ""
    namespace: str = ""
    server: str = ""
    certificate_authority: str = ""
    insecure_skip_tls_verify: bool = False
    tls_server_name: str = ""
    disable_compression: bool = False
    token: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    client_certificate: str = ""
    client_key: str = ""
    impersonate: str = ""
    impersonate_uid: str = ""
    impersonate_groups: tuple[str, ...] = ()
    request_timeout: float | str = 0
    stdin_unavailable: bool = False
    stdin_unavailable_message: str = ""

    def with_selection(
        self,
        context: str | None = None,
        cluster: str | None = None,
        user: str | None = None,
        namespace: str | None = None,
    ) -> Overrides:
        """A copy in which each name given (not ``None`` or empty) replaces this one's."""
        return dataclasses.replace(
            self,
            context=context or self.context,
            cluster=cluster or self.cluster,
            user=user or self.user,
            namespace=namespace or self.namespace,
        )

    def timeout_seconds(self) -> float | None:
        """``request_timeout`` in seconds, ``None`` when there is none (module docstring).

        Raises :class:`KubeconfigError` when it is not a timeout.
        """
        return _parse_timeout(self.request_timeout)


def _readable(path: str, field: str) -> str:
    """``path`` made absolute (from the working directory); unreadable is an error now."""
    absolute = os.path.abspath(path)
    try:
        with open(absolute, "rb"):
            return absolute
    except OSError as exc:
        raise KubeconfigError(
            f"cannot read {absolute!r}: {exc.strerror}", field=f"overrides.{field}"
        ) from None


def override_cluster(cluster: Cluster, overrides: Overrides) -> Cluster:
    """``cluster`` with the cluster fields of ``overrides`` applied (see the module docstring)."""
    changes: dict[str, object] = {}
    if overrides.server:
        changes["server"] = overrides.server
    if overrides.disable_compression:
        changes["disable_compression"] = True
    if overrides.certificate_authority or overrides.insecure_skip_tls_verify:
        changes["certificate_authority"] = overrides.certificate_authority and _readable(
            overrides.certificate_authority, "certificate_authority"
        )
        changes["certificate_authority_data"] = b""
        changes["insecure_skip_tls_verify"] = overrides.insecure_skip_tls_verify
    if overrides.server or overrides.tls_server_name:
        changes["tls_server_name"] = overrides.tls_server_name
    return msgspec.structs.replace(cluster, **changes) if changes else cluster


def override_user(user: AuthInfo, overrides: Overrides) -> AuthInfo:
    """``user`` with the credential fields of ``overrides`` applied (see the module docstring)."""
    changes: dict[str, object] = {
        name: value
        for name, value in (
            ("token", overrides.token),
            ("username", overrides.username),
            ("password", overrides.password),
            ("impersonate", overrides.impersonate),
            ("impersonate_uid", overrides.impersonate_uid),
            ("impersonate_groups", overrides.impersonate_groups),
        )
        if value
    }
    for attr in ("client_certificate", "client_key"):
        path = getattr(overrides, attr)
        if path:
            changes[attr] = _readable(path, attr)
            changes[attr + "_data"] = b""
    return msgspec.structs.replace(user, **changes) if changes else user


_APPLIED_IN_CLUSTER = frozenset(
    {
        "context",
        "cluster",
        "user",
        "namespace",
        "server",
        "token",
        "certificate_authority",
        "request_timeout",
        "stdin_unavailable",
        "stdin_unavailable_message",
    }
)


def override_in_cluster(config: Config, overrides: Overrides) -> None:
    """Change an in-cluster ``config`` (which the caller owns) by the overrides that apply to it.

    As client-go does: ``server`` replaces the host, ``token`` replaces the token and the token
    file (a flag's token does not rotate), ``certificate_authority`` replaces the CA file.
    ``namespace`` replaces the namespace. kgen also applies ``request_timeout`` (client-go drops
    it in-cluster, leaving ``--request-timeout`` silently unused). Every other cluster or user
    override cannot apply to a service account and is ignored with a logged warning.
    """
    ignored = [
        each.name
        for each in dataclasses.fields(overrides)
        if each.name not in _APPLIED_IN_CLUSTER and getattr(overrides, each.name)
    ]
    if ignored:
        _log.warning("in-cluster configuration: overrides not used: %s", ", ".join(ignored))
    config.timeout = overrides.timeout_seconds()
    if overrides.server:
        config.host = overrides.server
    if overrides.token:
        config.bearer_token, config.bearer_token_file = overrides.token, ""
    if overrides.certificate_authority:
        config.ca_file = _readable(overrides.certificate_authority, "certificate_authority")
    if overrides.namespace:
        config.namespace = overrides.namespace


_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)"
_GO_DURATION = re.compile(f"(?:{_DURATION_PART})+", re.ASCII)
_GO_DURATION_PART = re.compile(_DURATION_PART, re.ASCII)


def _parse_timeout(value: float | str) -> float | None:
    """Seconds from a ``--request-timeout`` value; ``None`` for no timeout (0 or empty).

    A number is seconds; a string is a whole number of seconds (``"30"``) or a Go duration
    (``"30s"``, ``"1m30s"``, ``"500ms"``). Anything else, or a negative value, is a
    :class:`KubeconfigError` naming ``request_timeout``.
    """
    seconds: float
    if isinstance(value, str):
        text = value.strip()
        if not text:
            seconds = 0.0
        elif text.isascii() and text.isdigit():
            seconds = float(text)
        elif _GO_DURATION.fullmatch(text):
            seconds = sum(
                float(number) * _UNIT_SECONDS[unit]
                for number, unit in _GO_DURATION_PART.findall(text)
            )
        else:
            raise KubeconfigError(
                f"{value!r} is not a timeout: give whole seconds or a duration such as"
                " 1s, 2m or 3h",
                field="overrides.request_timeout",
            )
    else:
        seconds = float(value)
        if seconds < 0:
            raise KubeconfigError(f"{value!r} is negative", field="overrides.request_timeout")
    return seconds or None
