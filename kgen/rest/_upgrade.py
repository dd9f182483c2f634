"""What a connection that leaves HTTP behind (the WebSocket of exec or attach) needs from a REST
client, sans I/O: the same identity, TLS and proxy as the client's requests. Both clients build
it here (:meth:`kgen.rest.RESTClient.upgrade_settings` and the async client's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgen.rest._credentials import Credentials
from kgen.rest._headers import outgoing_headers
from kgen.rest._transport import TLSSettings

if TYPE_CHECKING:
    import ssl

__all__ = ["UpgradeSettings", "upgrade_settings"]


@dataclass(frozen=True)
class UpgradeSettings:
    """How to open a non-HTTP connection (a WebSocket) as a REST client would.

    ``headers`` are ``(name, value)`` lines, a name possibly repeated (impersonation); ``ssl``
    is ``None`` for plain HTTP; ``server_hostname`` overrides the name TLS verifies
    (``Config.tls_server_name``); ``proxy`` is ``Config.proxy_url`` (``None``: the environment's).
    """

    headers: tuple[tuple[str, str], ...]
    ssl: ssl.SSLContext | None
    server_hostname: str | None
    proxy: str | None


def upgrade_settings(
    *,
    credentials: Credentials,
    user_agent: str,
    https: bool,
    tls: TLSSettings | None,
    proxy: str | None,
) -> UpgradeSettings:
    """The settings for one new connection; may block (an auth provider can run a plugin). The
    TLS context is new and belongs to the caller."""
    import ssl

    outgoing = outgoing_headers(
        {},
        user_agent=user_agent,
        disable_compression=False,
        has_body=False,
        credentials=credentials,
    )
    headers = tuple(outgoing.lines())
    if not https:
        return UpgradeSettings(headers, None, None, proxy)
    if tls is None:
        return UpgradeSettings(headers, ssl.create_default_context(), None, proxy)
    provider = credentials.provider
    pair = provider.client_certificate() if provider is not None else None
    context = tls.build_context(pair or tls.file_pair())
    return UpgradeSettings(headers, context, tls.server_name or None, proxy)
