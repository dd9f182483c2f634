"""Python names and literals for things that come from API documents.

Every identifier the generator writes is built here, and every string from a spec reaches
generated code only through :func:`python_string` or :func:`docstring`; whatever a spec
contains (quotes, backslashes, newlines, NULs, ``__import__``, non-ASCII letters, keywords),
the result is a valid identifier or an inert literal. All functions are pure and thread-safe.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "attribute_name",
    "attribute_names",
    "class_name",
    "docstring",
    "group_version_attr",
    "module_for_definition",
    "python_string",
]

_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
"""Names an identifier must not take: keywords, soft keywords and builtins (a field named
``str`` would shadow the type in the class body that msgspec resolves annotations against)."""
_MODULE_LEVEL = frozenset({"annotations", "msgspec"})
"""Lower-case names bound at module level in generated model modules."""
_PLURAL_ACRONYM = re.compile(r"([A-Z]{2,})s(?![a-z])")
_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]+")
_VERSION = re.compile(r"^v\d+((alpha|beta)\d+)?$")


def _ascii_identifier(text: str) -> str:
    """``text`` with every run of characters outside ``[0-9A-Za-z_]`` replaced by ``_``."""
    return _NOT_IDENT.sub("_", text)


def attribute_name(wire_name: str) -> str:
    """The snake_case Python attribute for a wire (JSON) name.

    ``podIPs`` -> ``pod_ips``, ``x-kubernetes-foo`` -> ``x_kubernetes_foo``, ``continue`` ->
    ``continue_``, ``type`` -> ``type_``, ``__init__`` -> ``init``, ``$ref`` -> ``ref``,
    ``1st`` -> ``n_1st``, ``""`` -> ``field_``. The result is an ASCII identifier that is not a
    keyword, soft keyword or builtin and never starts with an underscore (module-level helper
    names in generated code do).
    """
    words = _ACRONYM.sub(r"\1_\2", _PLURAL_ACRONYM.sub(r"\1S", wire_name))
    snake = _CAMEL.sub(r"\1_\2", words)
    name = _ascii_identifier(snake).strip("_").lower()
    name = re.sub(r"__+", "_", name)
    if not name:
        return "field_"
    if name[0].isdigit():
        name = "n_" + name
    if name in _RESERVED or name in _MODULE_LEVEL:
        name += "_"
    return name


def attribute_names(wire_names: Iterable[str]) -> list[str]:
    """:func:`attribute_name` of each wire name, made unique within one class.

    Clashes (``fooBar`` and ``foo_bar``) are resolved in order: the first keeps the name, later
    ones get ``_2``, ``_3``, ... (skipping any name already taken).
    """
    taken: set[str] = set()
    out = []
    for wire in wire_names:
        base = attribute_name(wire)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out.append(name)
    return out


def class_name(name: str) -> str:
    """The Python class name for a definition or kind name (its last dotted segment).

    ``io.k8s.api.core.v1.Pod`` -> ``Pod``; characters outside ``[0-9A-Za-z_]`` become ``_``;
    the first letter is upper-cased; a leading digit gets a ``T`` prefix; ``None``, ``True``,
    ``False`` and builtins (``Exception``) get a trailing ``_``.
    """
    last = name.rsplit(".", 1)[-1]
    ident = _ascii_identifier(last).strip("_")
    if not ident:
        return "Model_"
    if ident[0].isdigit():
        ident = "T" + ident
    ident = ident[0].upper() + ident[1:]
    return ident + "_" if ident in _RESERVED else ident


def _group_stem(group: str) -> str:
    return group.split(".", 1)[0] if group else "core"


def _precedence(group: str) -> tuple[int, int, str]:
    """Which of several groups with one stem keeps the short name: the core group, then
    Kubernetes' own groups (no dot, or ``<x>.k8s.io``), then the shortest, then by name."""
    builtin = "." not in group or (group.endswith(".k8s.io") and group.count(".") == 2)
    return (0 if not group else 1 if builtin else 2, len(group), group)


def group_version_attr(group: str, version: str, among: Iterable[str] = ()) -> str:
    """The snake_case accessor and module name of a group/version.

    ``("", "v1")`` -> ``core_v1``, ``("apps", "v1")`` -> ``apps_v1``,
    ``("networking.k8s.io", "v1")`` -> ``networking_v1``: the group's first segment, then the
    version. ``among`` are the other groups that will be generated together: when several
    share a first segment, the core group, then Kubernetes' own, then the shortest keeps the
    short name and the others use as many leading segments as it takes to differ
    (``networking_istio_v1`` for ``networking.istio.io``). Deterministic for a given set.
    """
    stem = _group_stem(group)
    rivals = sorted({g for g in among if _group_stem(g) == stem} | {group}, key=_precedence)
    if rivals[0] != group:
        parts = group.split(".")
        others = [g.split(".") for g in rivals if g != group]
        for n in range(2, len(parts) + 1):
            if all(o[:n] != parts[:n] for o in others):
                stem = "_".join(parts[:n])
                break
        else:
            stem = "_".join(parts)
    name = _ascii_identifier(f"{stem}_{version}").strip("_").lower() or "group"
    name = re.sub(r"__+", "_", name)
    if name[0].isdigit():
        name = "g_" + name
    return name + "_" if name in _RESERVED or name in _MODULE_LEVEL else name


def module_for_definition(name: str) -> str:
    """A module name for a definition, from its dotted package alone.

    ``io.k8s.api.core.v1.Pod`` -> ``core_v1``; ``io.k8s.apimachinery.pkg.version.Info`` ->
    ``version``; ``Foo`` (no package) -> ``types``. The models emitter prefers the name of the
    group/version a package serves (:func:`group_version_attr`) when the documents say which.
    """
    package = name.rsplit(".", 1)[0].split(".") if "." in name else []
    if len(package) >= 2 and _VERSION.match(package[-1]):
        return group_version_attr(package[-2], package[-1])
    if not package:
        return "types"
    base = _ascii_identifier(package[-1]).strip("_").lower() or "types"
    if base[0].isdigit():
        base = "m_" + base
    return base + "_" if base in _RESERVED or base in _MODULE_LEVEL else base


def python_string(s: str) -> str:
    """A Python string literal whose value is exactly ``s`` (quotes, backslashes, newlines, NULs
    and lone surrogates all escaped; the literal is a single line). Double-quoted unless ``s``
    holds a double quote, as black would write it."""
    literal = repr(s)
    if literal[0] == "'" and '"' not in s:
        literal = '"' + literal[1:-1] + '"'
    return literal


_DOC_SPECIAL = re.compile(r'\\|"(?="|\Z)|[^\x20-\x7e\n]')


def _escape_match(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in ('"', "\\"):
        return "\\" + ch
    if ch == "\t":
        return "\\t"
    if unicodedata.category(ch)[0] not in "CZ":
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def docstring(s: str) -> str:
    """A complete triple-quoted docstring literal whose value is ``s``.

    Backslashes are escaped, and so is every double quote that is followed by another or ends
    the text (so no ``\"\"\"`` can close the literal early); so are tabs and control, format,
    surrogate and separator characters other than space and newline. Newlines are kept so the text
    reads naturally in the source.
    """
    return '"""' + _DOC_SPECIAL.sub(_escape_match, s) + '"""'
