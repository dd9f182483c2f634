"""Who the client says it is: Authorization (static token, rotating token file, basic auth or an
:class:`AuthProvider`) and impersonation headers, added to each outgoing request."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, MutableMapping
from urllib.parse import quote

from kgen.rest._token import CachedFileToken
from kgen.rest.config import Config

__all__ = ["Credentials"]

# Characters an HTTP header name may hold (RFC 7230 tchar); others in an extra's key are
# percent-encoded, as the API server decodes them.
_TCHARS = "!#$&'*+-.^_`|~"


class Credentials:
    """Applies one :class:`Config`'s identity to request headers. Thread-safe.

    Precedence: a caller's own ``Authorization`` header is never touched; otherwise the bearer
    token (from ``bearer_token_file`` when set, re-read as :class:`CachedFileToken` describes,
    falling back to ``bearer_token``), else basic auth, else the auth provider.

    Raises ``ValueError`` at construction for a token together with a password, and when
    ``bearer_token_file`` cannot be read while ``bearer_token`` is empty.
    """

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.monotonic) -> None:
        has_token = bool(config.bearer_token or config.bearer_token_file)
        if has_token and (config.username or config.password):
            raise ValueError(
                "Config: set either username/password or a bearer token (or token file), not both"
            )
        self._token = config.bearer_token
        self._token_file = (
            CachedFileToken(config.bearer_token_file, clock=clock)
            if config.bearer_token_file
            else None
        )
        if self._token_file is not None and not self._token:
            try:
                self._token_file.token()
            except (OSError, ValueError) as err:
                raise ValueError(f"Config: bearer_token_file unusable: {err}") from None
        self._basic = ""
        if config.username or config.password:
            raw = f"{config.username}:{config.password}".encode()
            self._basic = "Basic " + base64.b64encode(raw).decode("ascii")
        self.provider = config.auth_provider
        self._impersonate = _impersonation_headers(config)

    def apply(self, headers: MutableMapping[str, str], repeated: list[tuple[str, str]]) -> bool:
        """Add credentials to ``headers`` and impersonation headers to ``repeated``.

        Returns whether the auth provider supplied the credentials (so that a 401 is reported to
        it). ``headers`` must be case-insensitive.
        """
        used_provider = False
        if "Authorization" not in headers:
            token = self._current_token()
            if token:
                headers["Authorization"] = f"Bearer {token}"
            elif self._basic:
                headers["Authorization"] = self._basic
            elif self.provider is not None:
                self.provider.authorize(headers)
                used_provider = True
        if self._impersonate and "Impersonate-User" not in headers:
            repeated.extend(self._impersonate)
        return used_provider

    def _current_token(self) -> str:
        if self._token_file is not None:
            try:
                return self._token_file.token()
            except (OSError, ValueError):
                pass
        return self._token


def _impersonation_headers(config: Config) -> list[tuple[str, str]]:
    imp = config.impersonate
    out: list[tuple[str, str]] = []
    if imp.user:
        out.append(("Impersonate-User", imp.user))
    if imp.uid:
        out.append(("Impersonate-Uid", imp.uid))
    out.extend(("Impersonate-Group", group) for group in imp.groups)
    for key, values in imp.extra.items():
        name = "Impersonate-Extra-" + quote(key, safe=_TCHARS)
        out.extend((name, value) for value in values)
    return out
