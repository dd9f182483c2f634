"""The one error type of :mod:`kgen.spec`: a document that cannot be understood."""

from __future__ import annotations

__all__ = ["SpecError", "json_pointer"]


def json_pointer(*parts: str | int) -> str:
    """Join ``parts`` into an RFC 6901 JSON pointer (``~`` and ``/`` escaped)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class SpecError(Exception):
    """An input document is malformed, of the wrong kind, or inconsistent.

    ``source`` names the file (or other origin) and ``pointer`` is the RFC 6901 JSON pointer of
    the offending value inside it (``""`` for the whole document). ``document`` is the 0-based
    index of the document in a multi-document YAML stream, or ``None``. ``message`` says what is
    wrong, in words meant for the person who wrote the document. ``line`` and ``column``
    (1-based) say where a document failed to parse; the message then reads
    ``FILE:LINE:COL: what``, the form compilers and editors jump to.
    """

    def __init__(
        self,
        source: str,
        pointer: str,
        message: str,
        *,
        document: int | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.source = source
        self.pointer = pointer
        self.message = message
        self.document = document
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}:{self.column or 1}: {self.message}"
        where = self.source
        if self.document is not None:
            where += f" (document {self.document + 1})"
        if self.pointer:
            where += f" at {self.pointer}"
        return f"{where}: {self.message}"
