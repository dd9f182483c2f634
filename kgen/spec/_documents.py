"""Reading input files into classified documents (no interpretation beyond telling them apart).

Every function here is pure: it reads the files it is given and returns fresh data, so it is
safe to call from several threads at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from kgen.spec.errors import SpecError, json_pointer

__all__ = ["Document", "DocumentKind", "load_documents", "read_documents"]

DocumentKind = Literal["openapi-v2", "openapi-v3", "crd", "discovery"]

DISCOVERY_KINDS = frozenset(
    {"APIResourceList", "APIGroupList", "APIGroup", "APIVersions", "APIGroupDiscoveryList"}
)
_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class Document:
    """One input document, parsed to JSON data and classified.

    ``data`` is the parsed JSON value (a dict); callers must not mutate it. ``index`` is the
    document's position in a multi-document YAML stream (``None`` for single documents), and
    ``pointer`` is where ``data`` sits inside that document (``/items/3`` for a CRD inside a
    ``List``; ``""`` otherwise), so errors can point at the right place.
    """

    source: str
    kind: DocumentKind
    data: dict[str, Any]
    index: int | None = None
    pointer: str = ""

    def error(self, pointer: str, message: str) -> SpecError:
        """A :class:`SpecError` about ``pointer`` (relative to ``data``) in this document."""
        return SpecError(self.source, self.pointer + pointer, message, document=self.index)


class _YAMLLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader, read the way Kubernetes reads YAML.

    Differences from PyYAML's ``SafeLoader``: a bare ``=`` is the string ``"="`` (PyYAML types it
    ``tag:yaml.org,2002:value`` and fails; Go's YAML libraries take it as a string), and
    timestamps stay strings (JSON has no date type).
    """


def _construct_plain_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    return str(value)


_YAMLLoader.add_constructor("tag:yaml.org,2002:value", _construct_plain_string)
_YAMLLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_plain_string)

_BYTE_OFFSET = re.compile(r"\s*\(byte (\d+)\)")


def _line_col(text: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of byte ``offset`` (columns count characters, not bytes)."""
    line = text.count(b"\n", 0, offset) + 1
    start = text.rfind(b"\n", 0, offset) + 1
    return line, len(text[start:offset].decode("utf-8", "replace")) + 1


def _parse_json(raw: bytes, source: str) -> Any:
    """Decode JSON; a :class:`SpecError` at ``FILE:LINE:COL`` says what is wrong otherwise.

    msgspec gives a byte offset for most errors and none for truncated input, which is
    reported at the end of the file."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        message = str(exc)
        found = _BYTE_OFFSET.search(message)
        if found:
            offset = int(found.group(1))
            message = message[: found.start()] + message[found.end() :]
        else:
            offset = len(raw.rstrip())
        message = message.removeprefix("JSON is malformed: ")
        if message == "Input data was truncated":
            message = "unexpected end of file (truncated JSON)"
        line, column = _line_col(raw, offset)
        raise SpecError(
            source, "", f"malformed JSON: {message}", line=line, column=column
        ) from None


def _jsonable(value: Any, source: str, index: int | None, path: list[str | int]) -> Any:
    """Check that a YAML value is JSON data, turning scalar mapping keys into strings."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, bool):
                key = "true" if key else "false"
            elif key is None:
                key = "null"
            elif isinstance(key, int | float):
                key = str(key)
            elif not isinstance(key, str):
                raise SpecError(
                    source, json_pointer(*path), "mapping key is not a scalar", document=index
                )
            path.append(key)
            out[key] = _jsonable(item, source, index, path)
            path.pop()
        return out
    if isinstance(value, list):
        items = []
        for i, item in enumerate(value):
            path.append(i)
            items.append(_jsonable(item, source, index, path))
            path.pop()
        return items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise SpecError(
        source,
        json_pointer(*path),
        f"YAML value of type {type(value).__name__} has no JSON equivalent",
        document=index,
    )


def _parse_yaml(raw: bytes, source: str) -> Iterator[tuple[int | None, Any]]:
    try:
        loaded = list(yaml.load_all(raw, Loader=_YAMLLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem and exc.context_mark is not None:
            problem = f"{problem} ({exc.context} at line {exc.context_mark.line + 1})"
        raise SpecError(
            source,
            "",
            f"malformed YAML: {problem}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(source, "", f"malformed YAML: {exc}") from None
    present = [(i, value) for i, value in enumerate(loaded) if value is not None]
    for i, value in present:
        index = i if len(loaded) > 1 else None
        yield index, _jsonable(value, source, index, [])


def _classify(data: Any, source: str, index: int | None) -> Iterator[Document]:
    if not isinstance(data, dict):
        raise SpecError(
            source,
            "",
            f"expected a JSON object (an OpenAPI document, a CRD or a discovery document), "
            f"found {type(data).__name__}",
            document=index,
        )
    if isinstance(data.get("swagger"), str):
        if not data["swagger"].startswith("2."):
            raise SpecError(source, "/swagger", f"unsupported swagger version {data['swagger']!r}")
        yield Document(source, "openapi-v2", data, index)
        return
    if isinstance(data.get("openapi"), str):
        if not data["openapi"].startswith("3."):
            raise SpecError(source, "/openapi", f"unsupported OpenAPI version {data['openapi']!r}")
        yield Document(source, "openapi-v3", data, index)
        return
    kind = data.get("kind") if isinstance(data.get("kind"), str) else None
    if kind == "CustomResourceDefinition":
        yield Document(source, "crd", data, index)
    elif kind in DISCOVERY_KINDS:
        yield Document(source, "discovery", data, index)
    elif kind == "List" or (kind is not None and kind.endswith("List") and "items" in data):
        items = data.get("items")
        if not isinstance(items, list):
            raise SpecError(source, "/items", "a List must have an array of items", document=index)
        for i, item in enumerate(items):
            for doc in _classify(item, source, index):
                yield Document(doc.source, doc.kind, doc.data, index, json_pointer("items", i))
    else:
        what = f"kind {kind!r}" if kind is not None else "no swagger, openapi or kind field"
        raise SpecError(
            source,
            "",
            f"not an API document ({what}); expected an OpenAPI v2 or v3 document, a "
            "CustomResourceDefinition (or a List of them) or a discovery document",
            document=index,
        )


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in _SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not found:
            raise SpecError(str(path), "", "folder holds no .json, .yaml or .yml files")
        return found
    if not path.exists():
        raise SpecError(str(path), "", "no such file or folder")
    return [path]


def read_documents(path: Path) -> list[Document]:
    """Parse and classify every document in a file, or in every file under a folder.

    Folders are walked recursively in sorted order (hidden entries skipped). JSON is parsed as
    JSON, anything else as a YAML stream. Raises :class:`SpecError` for unreadable, malformed or
    unrecognised input.
    """
    documents: list[Document] = []
    for file in _files(path):
        source = str(file)
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise SpecError(source, "", f"cannot read: {exc.strerror or exc}") from None
        if not raw.strip():
            raise SpecError(source, "", "empty file")
        if file.suffix.lower() == ".json" or raw.lstrip()[:1] in (b"{", b"["):
            documents.extend(_classify(_parse_json(raw, source), source, None))
        else:
            for index, value in _parse_yaml(raw, source):
                documents.extend(_classify(value, source, index))
    return documents


def load_documents(paths: Sequence[Path]) -> list[Document]:
    """The raw documents of every path, in order (see :func:`read_documents`)."""
    return [doc for path in paths for doc in read_documents(Path(path))]
