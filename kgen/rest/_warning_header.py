"""Parsing the API server's ``Warning`` response headers (RFC 7234 section 5.5).

A header value holds one or more comma-separated warnings, each
``<3-digit code> <agent> "<text>" ["<date>"]``. The text is a quoted string whose backslash
escapes are undone; the date is ignored. The API server sends non-ASCII text as RFC 2047
encoded words (``=?utf-8?q?...?=``), which are decoded; bytes that are not UTF-8 and control
characters are dropped from the text.

A value that stops following that shape ends its own parsing: the warnings before the fault are
kept, the rest of that value is dropped, and other header lines are still read.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kgen.rest.warning_handlers import WarningHandler, default_warning_handler

__all__ = ["ServerWarning", "hand_over_warnings", "parse_warning_headers"]


@dataclass(frozen=True)
class ServerWarning:
    """One warning of a ``Warning`` header: its code (the API server uses 299), the agent that
    added it (``-`` when unknown) and its text."""

    code: int
    agent: str
    text: str


class _Malformed(ValueError):
    """The rest of a header value is not a warning."""


def parse_warning_headers(values: Iterable[str]) -> list[ServerWarning]:
    """Every warning of the given header values (one per ``Warning`` header line, as received:
    Latin-1 characters standing for the header's bytes), in order."""
    found: list[ServerWarning] = []
    for value in values:
        found.extend(_warnings_of(value))
    return found


def hand_over_warnings(handler: WarningHandler | None, values: list[str]) -> None:
    """Give every warning of a final response's ``Warning`` header lines ``values`` to
    ``handler``, or to the process-wide default when it is ``None`` (looked up now): what the
    sync and async clients both do with each final response."""
    if not values:
        return
    if handler is None:
        handler = default_warning_handler()
    for warning in parse_warning_headers(values):
        handler.handle_warning(warning.code, warning.agent, warning.text)


def _warnings_of(value: str) -> Iterator[ServerWarning]:
    rest = value.strip()
    while rest:
        try:
            warning, rest = _next_warning(rest)
        except _Malformed:
            return
        yield warning


def _next_warning(value: str) -> tuple[ServerWarning, str]:
    """The first warning of ``value`` (stripped, non-empty) and what follows its comma."""
    parts = value.split(" ", 2)
    if len(parts) != 3:
        raise _Malformed("fewer than three fields")
    code, agent, rest = parts
    if len(code) != 3 or not code.isascii() or not code.isdigit():
        raise _Malformed("the code is not three digits")
    try:
        agent = _utf8(agent, errors="strict")
    except UnicodeDecodeError:
        raise _Malformed("the agent is not UTF-8") from None
    if not agent or any(_is_control(char) for char in agent):
        raise _Malformed("empty agent, or control characters in it")
    text, rest = _quoted(rest)
    if rest.startswith('"'):  # a warn-date, ignored
        end = rest.find('"', 1)
        if end < 0:
            raise _Malformed("unterminated date")
        rest = rest[end + 1 :].strip()
    if rest:
        if not rest.startswith(","):
            raise _Malformed("unexpected text after the warning")
        rest = rest[1:].strip()
    return ServerWarning(int(code), agent, _clean(text)), rest


def _quoted(value: str) -> tuple[str, str]:
    """The unescaped contents of the quoted string ``value`` starts with, and what follows it
    (stripped)."""
    if not value.startswith('"'):
        raise _Malformed("the text is not a quoted string")
    out: list[str] = []
    escaped = False
    for index in range(1, len(value)):
        char = value[index]
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return "".join(out), value[index + 1 :].strip()
        else:
            out.append(char)
    raise _Malformed("the quoted text does not end")


def _clean(text: str) -> str:
    """The text as a person should read it: UTF-8 bytes decoded (invalid ones dropped), encoded
    words decoded, control characters dropped."""
    text = _decode_words(_utf8(text, errors="ignore"))
    return "".join(char for char in text if not _is_control(char))


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


def _utf8(received: str, *, errors: str) -> str:
    """``received`` (header characters standing for bytes) decoded as UTF-8 with ``errors``
    (``UnicodeDecodeError`` when strict). Text that is already beyond Latin-1 (from a caller's
    own transport) is returned as it is."""
    try:
        raw = received.encode("latin-1")
    except UnicodeEncodeError:
        return received
    return raw.decode("utf-8", errors=errors)


_ENCODED_WORD = re.compile(r"=\?([^?]*)\?([bBqQ])\?(.*?)\?=")


def _decode_words(text: str) -> str:
    """``text`` with its RFC 2047 encoded words decoded; whitespace between two encoded words is
    dropped. If any word cannot be decoded (bad encoding, unknown charset), ``text`` is kept as
    it is."""
    out: list[str] = []
    end = 0
    after_word = False
    try:
        for match in _ENCODED_WORD.finditer(text):
            gap = text[end : match.start()]
            if not (after_word and gap.isspace()):
                out.append(gap)
            charset, encoding, data = match.groups()
            if encoding in "bB":
                raw = base64.b64decode(data, validate=True)
            else:
                raw = binascii.a2b_qp(data.encode("ascii"), header=True)
            out.append(raw.decode(charset, errors="ignore"))
            end = match.end()
            after_word = True
    except (ValueError, LookupError):  # binascii.Error and UnicodeError are ValueErrors
        return text
    out.append(text[end:])
    return "".join(out)
