"""Regenerate ``kgen/testing/data/proto_messages.json.gz``: the protobuf layout of every
built-in Kubernetes message, which the OpenAPI documents do not carry.

Reads the ``generated.proto`` files (proto2, as go-to-protobuf writes them) under
``kubernetes/v1.35/proto`` of the shared specs folder, and the 1.35 ``swagger.json`` for which
message is the top-level message of each ``group/version/kind`` (the OpenAPI definition
``io.k8s.api.apps.v1.Deployment`` is the proto message ``k8s.io.api.apps.v1.Deployment``).
Run from the repository root:

    python tools/proto_table.py [SPECS_DIR]

``SPECS_DIR`` defaults to ``$KGEN_SPECS_DIR`` or ``../shared/specs``. The output is stable
(sorted keys, a fixed gzip timestamp), so re-running it on the same files changes nothing.

The table (``{"messages", "slices", "kinds"}``):

* ``messages``: full message name to a list of ``[number, json name, label, type]``; label
  ``o`` (optional), ``r`` (repeated) or ``m`` (``map<string, type>``); type a scalar
  (``string``, ``int32``, ``int64``, ``bool``, ``bytes``) or a full message name. The .proto
  field names are the JSON names (go-to-protobuf names fields by their JSON tags), checked
  against the OpenAPI definition of the message: a field the definition spells in another
  case takes the definition's spelling (``Webhooks`` is ``webhooks``), and a message field
  the definition does not have is a Go struct embedded inline (``Volume.volumeSource``,
  ``Probe.handler``): label ``i``, its fields are the JSON fields of the enclosing object.
* ``slices``: messages that stand for a Go slice type (one ``repeated ... items = 1`` field,
  not a list kind): their JSON form is the bare array (``ExtraValue``, ``Verbs``).
* ``kinds``: ``"apiVersion/Kind"`` to the full name of the kind's message (from the OpenAPI
  definitions' ``x-kubernetes-group-version-kind``, plus ``meta.k8s.io``'s
  ``PartialObjectMetadata`` and ``PartialObjectMetadataList``).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "kgen" / "testing" / "data" / "proto_messages.json.gz"
PROTO_DIR = "kubernetes/v1.35/proto"
SWAGGER = "kubernetes/v1.35/swagger.json"
SCALARS = ("string", "int32", "int64", "bool", "bytes")

META_V1 = "k8s.io.apimachinery.pkg.apis.meta.v1"
META_KINDS = (("meta.k8s.io/v1", META_V1), ("meta.k8s.io/v1beta1", META_V1[:-2] + "v1beta1"))
"""The ``meta.k8s.io`` kinds a server converts objects to (the OpenAPI names no GVK for them)."""

_TOKEN = re.compile(r'"[^"]*"|[A-Za-z_.][A-Za-z0-9_.]*|\d+|[{}<>;=,\[\]()]')


class ProtoError(Exception):
    """A .proto file this parser does not understand (the message names the file and token)."""


def _tokens(text: str) -> list[str]:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return _TOKEN.findall(text)


def parse(path: Path) -> tuple[str, dict[str, list[tuple[int, str, str, str]]]]:
    """``(package, {full message name: [(number, name, label, type as written)]})`` of one
    file; nested messages are named ``Outer.Inner``. Types are resolved by :func:`resolve`."""
    tokens = _tokens(path.read_text())
    package = ""
    messages: dict[str, list[tuple[int, str, str, str]]] = {}
    i = 0

    def expect(token: str) -> None:
        nonlocal i
        if i >= len(tokens) or tokens[i] != token:
            found = tokens[i] if i < len(tokens) else "end of file"
            raise ProtoError(f"{path}: expected {token!r}, found {found!r}")
        i += 1

    def skip_statement() -> None:
        nonlocal i
        while tokens[i] != ";":
            i += 1
        i += 1

    def message(scope: str) -> None:
        nonlocal i
        name = tokens[i]
        i += 1
        full = f"{scope}.{name}"
        fields = messages.setdefault(full, [])
        expect("{")
        while tokens[i] != "}":
            word = tokens[i]
            if word == "message":
                i += 1
                message(full)
            elif word in ("option", "reserved"):
                skip_statement()
            elif word in ("optional", "repeated", "required"):
                label = "r" if word == "repeated" else "o"
                kind, field = tokens[i + 1], tokens[i + 2]
                i += 3
                expect("=")
                fields.append((int(tokens[i]), field, label, kind))
                i += 1
                if tokens[i] == "[":
                    while tokens[i] != "]":
                        i += 1
                    i += 1
                expect(";")
            elif word == "map":
                i += 1
                expect("<")
                key = tokens[i]
                i += 1
                expect(",")
                value = tokens[i]
                i += 1
                expect(">")
                if key != "string":
                    raise ProtoError(f"{path}: map key {key!r} in {full} (only string keys)")
                field = tokens[i]
                i += 1
                expect("=")
                fields.append((int(tokens[i]), field, "m", value))
                i += 1
                expect(";")
            else:
                raise ProtoError(f"{path}: unexpected {word!r} in message {full}")
        i += 1

    while i < len(tokens):
        word = tokens[i]
        if word == "syntax":
            i += 2
            if tokens[i] != '"proto2"':
                raise ProtoError(f"{path}: syntax {tokens[i]} (only proto2)")
            skip_statement()
        elif word == "package":
            package = tokens[i + 1]
            i += 2
            expect(";")
        elif word in ("import", "option"):
            skip_statement()
        elif word == "message":
            i += 1
            message(package)
        else:
            raise ProtoError(f"{path}: unexpected {word!r} at the top level")
    return package, messages


def resolve(kind: str, scope: str, known: set[str]) -> str:
    """The full name of type ``kind`` used in message ``scope`` (protobuf's scoping rules:
    innermost scope first; a leading dot is already fully qualified)."""
    if kind in SCALARS:
        return kind
    if kind.startswith("."):
        if kind[1:] not in known:
            raise ProtoError(f"unknown type {kind} in {scope}")
        return kind[1:]
    parts = scope.split(".")
    while parts:
        candidate = ".".join([*parts, kind])
        if candidate in known:
            return candidate
        parts.pop()
    raise ProtoError(f"unknown type {kind} in {scope}")


def build(specs: Path) -> dict[str, Any]:
    raw: dict[str, list[tuple[int, str, str, str]]] = {}
    files = sorted((specs / PROTO_DIR).rglob("*.proto"))
    if not files:
        raise SystemExit(f"no .proto files under {specs / PROTO_DIR}")
    for path in files:
        _, found = parse(path)
        raw.update(found)
    known = set(raw)
    messages = {
        name: [[n, field, label, resolve(kind, name, known)] for n, field, label, kind in fields]
        for name, fields in raw.items()
    }
    slices = sorted(
        name
        for name, fields in messages.items()
        if len(fields) == 1
        and fields[0][:3] == [1, "items", "r"]
        and fields[0][3] in SCALARS
        and not name.endswith("List")
    )
    try:
        definitions = json.loads((specs / SWAGGER).read_text())["definitions"]
    except (OSError, ValueError, KeyError) as err:
        raise SystemExit(f"{specs / SWAGGER}: {err}") from None
    _json_names(messages, definitions)
    kinds: dict[str, str] = {}
    for name, schema in definitions.items():
        message = name.replace("io.k8s.", "k8s.io.", 1)
        if message not in messages:
            continue
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            group, version = gvk.get("group", ""), gvk["version"]
            api_version = f"{group}/{version}" if group else version
            kinds.setdefault(f"{api_version}/{gvk['kind']}", message)
    for api_version, package in META_KINDS:
        for kind in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            for candidate in (f"{package}.{kind}", f"{META_V1}.{kind}"):
                if candidate in messages:
                    kinds.setdefault(f"{api_version}/{kind}", candidate)
                    break
    return {"messages": messages, "slices": slices, "kinds": kinds}


def _json_names(messages: dict[str, list[list[Any]]], definitions: dict[str, Any]) -> None:
    """Rename fields to the OpenAPI definition's spelling and mark inline ones (label ``i``),
    in place; messages with no definition are left as they are."""
    for name, fields in messages.items():
        schema = definitions.get(name.replace("k8s.io.", "io.k8s.", 1))
        properties = set((schema or {}).get("properties") or ())
        if not properties:
            continue
        lower = {prop.lower(): prop for prop in properties}
        for entry in fields:
            field, label, kind = entry[1], entry[2], entry[3]
            if field in properties:
                continue
            if field.lower() in lower:
                entry[1] = lower[field.lower()]
            elif label == "o" and kind not in SCALARS:
                entry[2] = "i"


def main(argv: list[str]) -> None:
    specs = Path(argv[1] if len(argv) > 1 else os.environ.get("KGEN_SPECS_DIR", "../shared/specs"))
    try:
        table = build(specs)
    except ProtoError as err:
        raise SystemExit(str(err)) from None
    text = json.dumps(table, sort_keys=True, separators=(",", ":")).encode()
    OUTPUT.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
    print(
        f"{OUTPUT.relative_to(ROOT)}: {len(table['messages'])} messages, "
        f"{len(table['kinds'])} kinds, {OUTPUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main(sys.argv)
