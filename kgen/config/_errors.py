"""The errors of :mod:`kgen.config`: one base class, one subclass per source of trouble.

Every message names where the problem is: the kubeconfig file and the field path inside it
(``users[name=alice].user.exec.command``), the exec plugin's command, or the in-cluster file.
"""

from __future__ import annotations

__all__ = [
    "AuthProviderError",
    "ConfigError",
    "EmptyConfigError",
    "ExecPluginError",
    "InClusterError",
    "KubeconfigError",
]


class ConfigError(Exception):
    """Base of every error raised while building a client configuration."""


class KubeconfigError(ConfigError):
    """A kubeconfig file is missing, unreadable, malformed, or names something that is absent.

    ``file`` is the kubeconfig file at fault (``None`` when the problem is in the merged result,
    such as an unknown context name given as an override); ``field`` is the path of the field
    inside it (``None`` when the whole file is at fault).
    """

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None):
        self.file = file
        self.field = field
        self.reason = message
        where = ""
        if file is not None:
            where = f"{file}: "
        if field is not None:
            where += f"{field}: "
        super().__init__(where + message)


class EmptyConfigError(KubeconfigError):
    """Nothing names a server: no cluster is chosen, or the chosen one does not exist, and no
    ``server`` override gives one, while nothing else is wrong.

    This is the one kubeconfig error after which :func:`kgen.config.load` tries the in-cluster
    configuration (client-go's "empty config").
    """


class ExecPluginError(ConfigError):
    """An exec credential plugin could not be run, failed, or printed something unusable.

    ``command`` is the plugin's executable as configured, ``exit_code`` its exit status when it
    ran and failed (``None`` otherwise) and ``stderr`` what it wrote there (possibly empty).
    """

    def __init__(
        self, message: str, *, command: str, exit_code: int | None = None, stderr: str = ""
    ):
        self.command = command
        self.exit_code = exit_code
        self.stderr = stderr
        super().__init__(f"exec plugin {command!r}: {message}")


class AuthProviderError(ConfigError):
    """A kubeconfig ``auth-provider`` could not give a credential: its token could not be
    refreshed (the issuer unreachable or refusing, an answer without ``id_token``), its
    ``id-token`` is no JWT, or the refreshed tokens could not be written back.

    ``user`` is the kubeconfig user entry, ``file`` the kubeconfig it came from (``""`` when
    unknown) and ``issuer`` the identity provider's URL; the message names all three.
    """

    def __init__(self, message: str, *, user: str, issuer: str, file: str = ""):
        self.user = user
        self.issuer = issuer
        self.file = file
        self.reason = message
        where = f"{file}: " if file else ""
        super().__init__(
            f"{where}users[name={user}].user.auth-provider (oidc, issuer {issuer}): {message}"
        )


class InClusterError(ConfigError):
    """The process is not in a pod, or the service-account files cannot be read."""
