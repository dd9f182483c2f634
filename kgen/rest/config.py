"""How to reach and authenticate to one API server: the :class:`Config` a :class:`RESTClient` is
built from.

A ``Config`` is plain data. :mod:`kgen.config` fills one from a kubeconfig file or from the
in-cluster service account; callers may also build one by hand. The client reads it once, at
construction (the bearer-token file and the auth provider are consulted per request), so mutating
a ``Config`` after a client was built has no effect on that client. A ``Config`` is not
thread-safe to mutate; share it read-only or :meth:`Config.copy` it.

``repr()`` never shows a secret: passwords, tokens and private keys are redacted, certificate
and CA bytes are elided, and credentials inside ``proxy_url`` are hidden.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from kgen.rest._ratelimit import RateLimiter
from kgen.rest.auth import AuthProvider
from kgen.rest.warning_handlers import WarningHandler

__all__ = ["DEFAULT_BURST", "DEFAULT_QPS", "Config", "ImpersonationConfig"]

DEFAULT_QPS = 5.0
"""Client-side requests per second when ``Config.qps`` is 0."""
DEFAULT_BURST = 10
"""Client-side burst when ``Config.burst`` is 0."""

_REDACTED = "--- REDACTED ---"
_ELIDED = "--- ELIDED ---"


@dataclass
class ImpersonationConfig:
    """Act as another user: sent as ``Impersonate-User``, ``Impersonate-Uid``, one
    ``Impersonate-Group`` header per group and one ``Impersonate-Extra-<key>`` header per value.
    Empty fields send nothing."""

    user: str = ""
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.user or self.uid or self.groups or self.extra)


@dataclass(repr=False)
class Config:
    """Connection, TLS, authentication and throttling settings of one API server.

    * ``host``: ``https://host:port[/prefix]``; empty means ``localhost``. A host without a scheme
      gets ``https://`` when any TLS setting (CA, client certificate, ``insecure``) is present,
      else ``http://``. A path in the host prefixes every request.
    * ``api_path``: where the legacy core group is served (``/api``); named groups are always
      served under ``/apis``. Requests that name no group/version use no API path at all.
    * TLS: ``*_data`` (PEM bytes) wins over ``*_file``. ``ca_*`` together with ``insecure`` is an
      error. ``tls_server_name`` is the name sent in SNI and checked in the server's certificate.
    * Auth: ``bearer_token`` and/or ``bearer_token_file`` (re-read when 50 s old, see :mod:`kgen.rest`), or
      ``username``/``password`` (not both kinds); ``auth_provider`` is asked for credentials when
      no static ones are set. ``impersonate`` adds impersonation headers.
    * ``qps``/``burst``: client-side token bucket; 0 means the defaults (5 and 10), a negative
      ``qps`` disables client-side throttling. ``rate_limiter``, when set, is used instead (and
      shared by every client built from this config).
    * ``timeout``: seconds; every request carries it (as the ``timeout`` query parameter and as the
      client's socket timeout) unless the request sets its own. ``None`` or 0: no timeout.
    * ``watch_read_timeout``: seconds a watch may stay silent before the client assumes the
      connection is dead and ends the watch (the caller then re-watches). ``None``: wait forever.
    * ``warning_handler``: receives the warnings of the server's ``Warning`` headers; ``None``
      (the default) means the process-wide default handler, which logs them unless
      :func:`~kgen.rest.set_default_warning_handler` changed it
      (see :mod:`kgen.rest.warning_handlers`). Shared by copies, like ``auth_provider``.
    * ``namespace``: the namespace of the kubeconfig context, for callers; the client ignores it.
    """

    host: str = ""
    api_path: str = "/api"
    username: str = ""
    password: str = ""
    bearer_token: str = ""
    bearer_token_file: str = ""
    impersonate: ImpersonationConfig = field(default_factory=ImpersonationConfig)
    auth_provider: AuthProvider | None = None
    ca_file: str = ""
    ca_data: bytes = b""
    cert_file: str = ""
    cert_data: bytes = b""
    key_file: str = ""
    key_data: bytes = b""
    tls_server_name: str = ""
    insecure: bool = False
    proxy_url: str = ""
    disable_compression: bool = False
    qps: float = 0.0
    burst: int = 0
    rate_limiter: RateLimiter | None = None
    timeout: float | None = None
    watch_read_timeout: float | None = 600.0
    user_agent: str = ""
    warning_handler: WarningHandler | None = None
    namespace: str = ""

    def copy(self) -> Config:
        """A copy that can be changed without affecting this one (auth provider, rate limiter
        and warning handler shared)."""
        return dataclasses.replace(
            self,
            impersonate=ImpersonationConfig(
                self.impersonate.user,
                self.impersonate.uid,
                tuple(self.impersonate.groups),
                dict(self.impersonate.extra),
            ),
        )

    def has_tls(self) -> bool:
        """Whether any TLS-relevant setting is present (used to default the host's scheme)."""
        return bool(
            self.ca_file
            or self.ca_data
            or self.cert_file
            or self.cert_data
            or self.insecure
            or self.tls_server_name
        )

    def __repr__(self) -> str:
        shown: list[str] = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value == f.default or (f.default_factory is not dataclasses.MISSING and not value):
                continue
            if f.name in ("password", "bearer_token", "key_data"):
                text = repr(_REDACTED)
            elif f.name in ("cert_data", "ca_data"):
                text = repr(_ELIDED)
            elif f.name == "proxy_url":
                text = repr(_hide_userinfo(value))
            elif f.name in ("auth_provider", "rate_limiter", "warning_handler"):
                text = f"<{type(value).__name__}>"
            else:
                text = repr(value)
            shown.append(f"{f.name}={text}")
        return f"Config({', '.join(shown)})"


def _hide_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{_REDACTED}@{host}"))
