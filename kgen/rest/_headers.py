"""The headers of an outgoing request, sans I/O: the caller's, kgen's defaults (``Accept``,
``User-Agent``, ``Accept-Encoding``, ``Content-Type``) and the config's identity, the same for
every transport."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgen.rest._credentials import Credentials

if TYPE_CHECKING:
    import requests.structures

__all__ = ["DEFAULT_ACCEPT", "OutgoingHeaders", "outgoing_headers"]

DEFAULT_ACCEPT = "application/json, */*"


@dataclass
class OutgoingHeaders:
    """``single``: one line per name (case-insensitive); ``repeated``: ``(name, value)`` pairs
    that must be sent as separate lines (impersonation), not in ``single``; ``from_provider``:
    whether the auth provider supplied the credentials (so a 401 is reported to it)."""

    single: requests.structures.CaseInsensitiveDict[str]
    repeated: list[tuple[str, str]]
    from_provider: bool

    def joined(self) -> requests.structures.CaseInsensitiveDict[str]:
        """``single`` with each repeated header comma-joined into one line (for transports that
        cannot send a name twice)."""
        import requests

        merged = requests.structures.CaseInsensitiveDict[str](self.single)
        for name in dict.fromkeys(name for name, _ in self.repeated):
            merged[name] = ", ".join(value for key, value in self.repeated if key == name)
        return merged

    def lines(self) -> list[tuple[str, str]]:
        """Every header line, repeated ones as separate lines."""
        names = {name.lower() for name, _ in self.repeated}
        kept = [(k, v) for k, v in self.single.items() if k.lower() not in names]
        return kept + self.repeated


def outgoing_headers(
    request_headers: Mapping[str, str],
    *,
    user_agent: str,
    disable_compression: bool,
    has_body: bool,
    credentials: Credentials,
) -> OutgoingHeaders:
    """The headers to send: kgen's defaults, overridden by the request's own, then the
    credentials (may block: an auth provider can run a plugin)."""
    import requests

    merged = requests.structures.CaseInsensitiveDict[str](
        {"Accept": DEFAULT_ACCEPT, "User-Agent": user_agent}
    )
    if disable_compression:
        merged["Accept-Encoding"] = "identity"
    merged.update(request_headers)
    if has_body and "Content-Type" not in merged:
        merged["Content-Type"] = "application/json"
    repeated: list[tuple[str, str]] = []
    from_provider = credentials.apply(merged, repeated)
    return OutgoingHeaders(merged, repeated, from_provider)
