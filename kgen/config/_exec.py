"""Exec credential plugins (``client.authentication.k8s.io`` v1 and v1beta1).

A kubeconfig user with an ``exec`` section gets its credentials from an external command.
:class:`ExecAuthProvider` is the :class:`kgen.rest.AuthProvider` that runs it:

* The command runs with its ``args``, the parent's environment plus the configured ``env``, and
  ``KUBERNETES_EXEC_INFO`` holding an ``ExecCredential`` of the configured API version whose
  ``spec.interactive`` says whether the plugin may prompt, and, with ``provideClusterInfo``,
  ``spec.cluster`` describes the cluster.
* Interactive means stdin is handed to the plugin and its stderr passes through (otherwise
  stdin is empty and stderr is captured for error messages): never for ``interactiveMode:
  Never``; for ``IfAvailable`` when stdin is a terminal and the program has not marked it
  unavailable; always for ``Always``, which is an error when stdin is not a terminal or is
  marked unavailable (the program reads something else from it; the error gives its reason).
* A plugin that is missing, exits non-zero or prints something unusable raises
  :class:`~kgen.config.ExecPluginError` (with the install hint, or the exit code and stderr).
  There is no timeout: a plugin that never exits blocks the request, as it does in client-go.
* The plugin must print an ``ExecCredential`` of the same API version whose ``status`` holds a
  token, or a client certificate and key (PEM), or both.
* The credential is cached until ``status.expirationTimestamp`` has passed (forever without
  one). A 401 from the server marks it stale: the next request runs the plugin again. The 401
  itself is returned to the caller, as client-go does.

Thread-safety: every method may be called from any thread. The plugin runs under a lock, so
concurrent requests wait for one run instead of starting several.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import msgspec

from kgen.config._errors import ExecPluginError, KubeconfigError
from kgen.config._loader import resolve_path
from kgen.config._model import Cluster, ExecConfig

__all__ = [
    "EXEC_API_VERSIONS",
    "EXEC_INFO_ENV",
    "ExecAuthProvider",
    "exec_config_problems",
    "shared_exec_provider",
]

EXEC_API_VERSIONS = (
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
)
"""The ExecCredential API versions a plugin may be configured with."""

EXEC_INFO_ENV = "KUBERNETES_EXEC_INFO"
"""The environment variable through which a plugin receives its ExecCredential request."""

CLUSTER_CONFIG_EXTENSION = "client.authentication.k8s.io/exec"
"""A cluster extension passed to plugins with ``provideClusterInfo`` as ``spec.cluster.config``."""

_INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
_STDERR_LIMIT = 4000

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def exec_config_problems(config: ExecConfig) -> list[str]:
    """What makes ``config`` unusable, as messages naming the field; empty when it is fine."""
    problems = []
    if not config.command:
        problems.append("exec.command must be specified")
    if config.api_version not in EXEC_API_VERSIONS:
        problems.append(
            f"exec.apiVersion {config.api_version!r} is not one of {', '.join(EXEC_API_VERSIONS)}"
        )
    if any(not variable.name for variable in config.env or ()):
        problems.append("exec.env: every variable needs a name")
    if not config.interactive_mode:
        problems.append("exec.interactiveMode must be specified (Never, IfAvailable or Always)")
    elif config.interactive_mode not in _INTERACTIVE_MODES:
        problems.append(f"exec.interactiveMode {config.interactive_mode!r} is not valid")
    return problems


@dataclass(frozen=True)
class _Credential:
    token: str
    client_certificate: tuple[bytes, bytes] | None
    expiry: datetime | None


class ExecAuthProvider:
    """Credentials from an exec plugin; see the module docstring for the whole contract.

    ``config`` is the user's ``exec`` section (its ``command``, when relative and containing a
    slash, is resolved against ``origin``, the kubeconfig file that named it). ``cluster`` is
    passed to the plugin when ``provideClusterInfo`` is set. ``stdin`` is what an interactive
    plugin reads (default ``sys.stdin``); ``stdin_unavailable`` says the program uses it for
    something else, for the reason ``stdin_unavailable_message``. ``clock`` gives the current
    UTC time for expiry, and ``environ`` replaces ``os.environ`` as the base of the plugin's
    environment.
    Raises :class:`KubeconfigError` when ``config`` is invalid.
    """

    def __init__(
        self,
        config: ExecConfig,
        *,
        origin: str = "",
        cluster: Cluster | None = None,
        stdin: IO[Any] | None = None,
        stdin_unavailable: bool = False,
        stdin_unavailable_message: str = "",
        clock: Clock = _utc_now,
        environ: Mapping[str, str] | None = None,
    ):
        problems = exec_config_problems(config)
        if problems:
            raise KubeconfigError("; ".join(problems), file=origin or None)
        self._config = config
        self._command = _command_path(config, origin)
        self._cluster = cluster
        self._stdin = sys.stdin if stdin is None else stdin
        self._stdin_unavailable = stdin_unavailable
        self._stdin_unavailable_message = stdin_unavailable_message
        self._clock = clock
        self._environ = environ
        self._lock = threading.Lock()
        self._credential: _Credential | None = None
        self._stale = False

    # AuthProvider ---------------------------------------------------------------------------

    def authorize(self, headers: MutableMapping[str, str]) -> None:
        """Set ``Authorization: Bearer <token>`` unless the request already has one.

        Runs the plugin when no fresh credential is cached (blocking until it exits); raises
        :class:`ExecPluginError` when it fails.
        """
        if any(name.lower() == "authorization" for name in headers):
            return
        token = self._current().token
        if token:
            headers["Authorization"] = f"Bearer {token}"

    def client_certificate(self) -> tuple[bytes, bytes] | None:
        """The plugin's PEM client certificate and key, or ``None`` when it gave only a token."""
        return self._current().client_certificate

    def on_unauthorized(self) -> bool:
        """Mark the cached credential stale (the next request re-runs the plugin).

        Returns ``False``: the 401 goes back to the caller, as it does in client-go.
        """
        with self._lock:
            self._stale = True
        return False

    # Internals ------------------------------------------------------------------------------

    def _current(self) -> _Credential:
        with self._lock:
            credential = self._credential
            if credential is None or self._stale or self._expired(credential):
                credential = self._run()
                self._credential, self._stale = credential, False
            return credential

    def _expired(self, credential: _Credential) -> bool:
        return credential.expiry is not None and self._clock() > credential.expiry

    def _interactive(self) -> bool:
        mode = self._config.interactive_mode
        if mode == "Never":
            return False
        is_terminal = self._stdin is not None and not self._stdin.closed and self._stdin.isatty()
        if mode == "IfAvailable":
            return is_terminal and not self._stdin_unavailable
        if not is_terminal:
            raise ExecPluginError(
                "interactiveMode is Always but standard input is not a terminal",
                command=self._config.command,
            )
        if self._stdin_unavailable:
            reason = self._stdin_unavailable_message
            raise ExecPluginError(
                "interactiveMode is Always but standard input is unavailable"
                + (f": {reason}" if reason else ""),
                command=self._config.command,
            )
        return True

    def _exec_info(self, interactive: bool) -> str:
        spec: dict[str, Any] = {"interactive": interactive}
        if self._config.provide_cluster_info and self._cluster is not None:
            spec["cluster"] = _cluster_info(self._cluster)
        request = {"kind": "ExecCredential", "apiVersion": self._config.api_version, "spec": spec}
        return json.dumps(request)

    def _run(self) -> _Credential:
        interactive = self._interactive()
        env = dict(os.environ if self._environ is None else self._environ)
        env.update({variable.name: variable.value for variable in self._config.env or ()})
        env[EXEC_INFO_ENV] = self._exec_info(interactive)
        name = self._config.command
        try:
            done = subprocess.run(
                [self._command, *(self._config.args or ())],
                env=env,
                stdin=self._stdin if interactive else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=None if interactive else subprocess.PIPE,
                check=False,
            )
        except FileNotFoundError:
            hint = self._config.install_hint.strip()
            message = "executable not found" + (f"; {hint}" if hint else "")
            raise ExecPluginError(message, command=name) from None
        except OSError as exc:
            raise ExecPluginError(f"cannot run: {exc.strerror}", command=name) from None
        stderr = (done.stderr or b"").decode("utf-8", "replace")[-_STDERR_LIMIT:]
        if done.returncode != 0:
            detail = f": {stderr.strip()}" if stderr.strip() else ""
            raise ExecPluginError(
                f"exited with code {done.returncode}{detail}",
                command=name,
                exit_code=done.returncode,
                stderr=stderr,
            )
        try:
            return self._parse(done.stdout)
        except ExecPluginError as exc:
            exc.stderr = stderr
            raise

    def _parse(self, output: bytes) -> _Credential:
        name = self._config.command
        try:
            credential = json.loads(output)
        except ValueError as exc:
            message = f"output is not a JSON ExecCredential: {exc}"
            raise ExecPluginError(message, command=name) from None
        if not isinstance(credential, dict):
            raise ExecPluginError("output is not a JSON ExecCredential object", command=name)
        returned = credential.get("apiVersion")
        if returned != self._config.api_version:
            raise ExecPluginError(
                f"configured for {self._config.api_version} but returned {returned}", command=name
            )
        status = credential.get("status")
        if not isinstance(status, dict):
            raise ExecPluginError("the ExecCredential has no status", command=name)
        token, cert, key = (
            status.get(field) or "" for field in ("token", "clientCertificateData", "clientKeyData")
        )
        if not all(isinstance(value, str) for value in (token, cert, key)):
            raise ExecPluginError("status.token and the client data must be strings", command=name)
        if bool(cert) != bool(key):
            raise ExecPluginError(
                "status has a client certificate or a key, but not both", command=name
            )
        if not (token or cert):
            raise ExecPluginError("status has neither a token nor a certificate", command=name)
        return _Credential(
            token=token,
            client_certificate=(cert.encode(), key.encode()) if cert else None,
            expiry=_expiry(status.get("expirationTimestamp"), name),
        )


def _command_path(config: ExecConfig, origin: str) -> str:
    """The command to run: a relative path with a slash is taken from the kubeconfig's folder."""
    return resolve_path(config.command, origin) if "/" in config.command else config.command


def _expiry(value: Any, command: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        expiry = datetime.fromisoformat(str(value))
    except ValueError:
        raise ExecPluginError(
            f"status.expirationTimestamp {value!r} is not an RFC 3339 time", command=command
        ) from None
    return expiry if expiry.tzinfo is not None else expiry.replace(tzinfo=UTC)


def _cluster_info(cluster: Cluster) -> dict[str, Any]:
    """``spec.cluster`` of the ExecCredential: the cluster, with its CA inlined."""
    ca_data = cluster.certificate_authority_data
    if not ca_data and cluster.certificate_authority:
        path = resolve_path(cluster.certificate_authority, cluster.origin)
        try:
            ca_data = Path(path).read_bytes()
        except OSError as exc:
            raise KubeconfigError(
                f"cannot read {path!r}: {exc.strerror}",
                file=cluster.origin or None,
                field="certificate-authority",
            ) from None
    info: dict[str, Any] = {
        "server": cluster.server,
        "tls-server-name": cluster.tls_server_name,
        "insecure-skip-tls-verify": cluster.insecure_skip_tls_verify,
        "certificate-authority-data": base64.b64encode(ca_data).decode() if ca_data else "",
        "proxy-url": cluster.proxy_url,
        "disable-compression": cluster.disable_compression,
        "config": cluster.extensions.get(CLUSTER_CONFIG_EXTENSION),
    }
    return {key: value for key, value in info.items() if value or key == "server"}


_shared: dict[bytes, ExecAuthProvider] = {}
_shared_lock = threading.Lock()


def shared_exec_provider(
    config: ExecConfig,
    *,
    origin: str = "",
    cluster: Cluster | None = None,
    stdin_unavailable: bool = False,
    stdin_unavailable_message: str = "",
) -> ExecAuthProvider:
    """The process-wide :class:`ExecAuthProvider` for this plugin, cluster and stdin setting.

    Clients built from the same kubeconfig user and cluster share one provider, so the plugin
    runs once for all of them rather than once per client. Safe to call from any thread.
    """
    key = msgspec.json.encode(
        (
            config,
            resolve_path(config.command, origin),
            cluster if config.provide_cluster_info else None,
            stdin_unavailable,
            stdin_unavailable_message,
        )
    )
    with _shared_lock:
        provider = _shared.get(key)
        if provider is None:
            provider = _shared[key] = ExecAuthProvider(
                config,
                origin=origin,
                cluster=cluster,
                stdin_unavailable=stdin_unavailable,
                stdin_unavailable_message=stdin_unavailable_message,
            )
        return provider
