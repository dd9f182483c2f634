"""The hook through which a credential plugin (kgen.config's exec provider, or your own) gives
the REST client its credentials.

The client calls an :class:`AuthProvider` from whichever thread sends a request, so an
implementation must be thread-safe. It is consulted only for requests that carry no
``Authorization`` header yet (neither set by the caller nor from a static token or password).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Protocol, runtime_checkable

__all__ = ["AuthProvider"]


@runtime_checkable
class AuthProvider(Protocol):
    """Supplies credentials per request and learns when the server rejected them."""

    def authorize(self, headers: MutableMapping[str, str]) -> None:
        """Add credentials (usually ``Authorization``) to the outgoing request's headers.

        May block (e.g. to run a plugin); raise an exception to fail the request.
        """

    def client_certificate(self) -> tuple[bytes, bytes] | None:
        """The PEM client certificate and key to present in TLS, or ``None``.

        Called before each request; when the pair changes, the client opens new connections
        with the new pair.
        """

    def on_unauthorized(self) -> bool:
        """The server answered 401 to credentials from this provider: drop cached credentials.

        Return ``True`` to have the client send the request once more with fresh credentials;
        ``False`` to return the 401 to the caller.
        """
