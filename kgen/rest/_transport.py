"""TLS for the REST client: an ``ssl.SSLContext`` built from a :class:`Config`.

The requests adapter that uses it is :mod:`kgen.rest._adapter` (kept apart so that importing
kgen.rest does not import requests; the sync client imports it when it makes its session).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from kgen.rest.config import Config

if TYPE_CHECKING:
    import ssl

__all__ = [
    "CERT_FILE_RECHECK",
    "KEEPALIVE_SECONDS",
    "REPEATED_HEADERS_ATTR",
    "TLSSettings",
]

_log = logging.getLogger("kgen.rest")

REPEATED_HEADERS_ATTR = "kgen_repeated_headers"
"""Attribute of a ``PreparedRequest`` holding ``(name, value)`` pairs that must be sent as
separate header lines. The request's own headers carry them comma-joined, for adapters that do
not know this attribute."""


KEEPALIVE_SECONDS = 30
"""Idle time before TCP keep-alive probes start, and the interval between probes."""

CERT_FILE_RECHECK = 300.0
"""Seconds between checks of client certificate/key files for a rotated certificate."""


class TLSSettings:
    """The TLS-relevant part of a :class:`Config`, read and validated once.

    Raises ``ValueError`` naming the offending field for: CA together with ``insecure``; CA data
    with no valid PEM certificate; a client certificate without its key (or the reverse); a
    certificate/key pair that does not load. Files are read here, at construction; a client
    certificate and key given as files are re-read every ``CERT_FILE_RECHECK`` seconds
    (:meth:`file_pair`), so that a rotated certificate is picked up. Thread-safe.
    """

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.insecure = config.insecure
        self.server_name = config.tls_server_name
        self.ca = _data_or_file(config.ca_data, config.ca_file, "ca")
        if self.ca and self.insecure:
            raise ValueError(
                "Config: ca_file/ca_data cannot be combined with insecure=True "
                "(either verify the server against a CA or do not verify it)"
            )
        self.cert = _data_or_file(config.cert_data, config.cert_file, "cert")
        self.key = _data_or_file(config.key_data, config.key_file, "key")
        if bool(self.cert) != bool(self.key):
            raise ValueError("Config: a client certificate needs both cert_* and key_* set")
        from_files = not config.cert_data and not config.key_data
        self._cert_file = config.cert_file if from_files else ""
        self._key_file = config.key_file if from_files else ""
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at = clock()
        self._file_pair = (self.cert, self.key)
        if self.insecure:  # said once per client; urllib3's per-request warning is silenced
            _log.warning(
                "TLS verification of %s is disabled (Config.insecure, insecure-skip-tls-verify):"
                " its certificate is not checked",
                config.host or "the API server",
            )
        self.build_context(None)  # validate eagerly

    def build_context(self, client_pair: tuple[bytes, bytes] | None) -> ssl.SSLContext:
        """A new context: TLS 1.2 or later, the configured CA (else the system's), and the client
        certificate ``client_pair`` (else the configured one)."""
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca:
            try:
                ctx.load_verify_locations(cadata=self.ca.decode("ascii", "replace"))
            except (ssl.SSLError, ValueError) as err:
                raise ValueError(
                    f"Config: ca_data/ca_file holds no valid PEM certificate: {err}"
                ) from None
        else:
            ctx.load_default_certs()
        pair = client_pair or ((self.cert, self.key) if self.cert else None)
        if pair is not None:
            _load_pair(ctx, *pair)
        return ctx

    def file_pair(self) -> tuple[bytes, bytes] | None:
        """The client certificate and key as their files hold them (re-read at most every
        ``CERT_FILE_RECHECK`` seconds; a failed read keeps the previous pair), or ``None`` when
        the client certificate does not come from files."""
        if not (self._cert_file and self._key_file):
            return None
        with self._lock:
            now = self._clock()
            if now - self._checked_at >= CERT_FILE_RECHECK:
                self._checked_at = now
                try:
                    self._file_pair = (
                        _data_or_file(b"", self._cert_file, "cert"),
                        _data_or_file(b"", self._key_file, "key"),
                    )
                except ValueError as err:
                    _log.warning("keeping the previous client certificate: %s", err)
            return self._file_pair


def _data_or_file(data: bytes, path: str, what: str) -> bytes:
    if data:
        return data
    if not path:
        return b""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise ValueError(f"Config: cannot read {what}_file {path!r}: {err.strerror}") from None


def _load_pair(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """Load a PEM certificate and key held in memory. ``ssl`` only loads from paths, so they are
    written to a private (0700) temporary directory that is removed before returning."""
    import ssl
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kgen-tls-") as tmp:
        cert_path = os.path.join(tmp, "cert.pem")
        key_path = os.path.join(tmp, "key.pem")
        for path, data in ((cert_path, cert), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as err:
            raise ValueError(
                f"Config: the client certificate and key do not load ({err.reason})"
            ) from None
