"""Fields a model does not know, kept: decoding never drops them, encoding sends them back.

A package generated from an older API document, talking to a newer server, meets fields its
models lack (``metadata.futureField``, a container's new field). Every :class:`kgen.meta.Model`
forbids unknown fields (``forbid_unknown_fields``), so msgspec's decoder, exactly as fast as a
lenient one when there are none, raises when there are. :func:`kgen.meta.decode`, :class:`Decoder` and
:func:`convert` then take a slower path that decodes the same input level by level, each level
first tried whole with the strict decoder again, so only the objects on the way to an unknown
field are split open:

* an object that has unknown keys becomes an instance of a subclass of its model made for that
  set of keys (same name and module, created once and cached), whose extra fields hold each
  unknown value as :class:`msgspec.Raw` (the bytes the server sent, copied out of the input) under
  its wire name. msgspec encodes those fields like any other, at their object's level, so every
  encoder (``kgen.meta.encode``, ``msgspec.json.encode``, the typed clients' create, update and
  patch bodies) sends them back with no extra work, after the model's own fields;
* objects without unknown keys are instances of their model as usual. Nothing is added to an
  object or a model class that has no unknown fields: no slot, no attribute, no cost.

Unknown keys are, by construction, names the model lacks, so a field the model knows is always
the model's (a user's change wins; nothing stale can shadow it). ``copy.copy``,
``copy.deepcopy``, ``msgspec.structs.replace``, :func:`kgen.meta.deep_copy` and pickling keep
them. Setting one to ``UNSET`` drops it from the encoding. Equality is msgspec's: instances of
the same class with equal fields; an object carrying unknown fields never equals one without
(nor one carrying other unknown keys), and unknown values compare as raw bytes.

A model class declared with ``forbid_unknown_fields=False`` is a deliberate view that drops
what it does not name (``PartialObjectMetadata``): it decodes leniently, as msgspec always did.

msgspec's own decoders (``msgspec.json.decode(data, type=Pod)``, ``msgspec.convert``) stay
strict with kgen models and raise ``ValidationError`` naming the unknown field; decode through
the functions here. Thread-safe: the subclass and plan caches are filled under a lock.
"""

from __future__ import annotations

import keyword
import threading
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec

__all__ = ["Decoder", "convert", "is_unknown_field", "recover", "unknown_fields"]

T = TypeVar("T")

_UNKNOWN_FIELD = "Object contains unknown field `"
_raw_object = msgspec.json.Decoder(dict[str, msgspec.Raw])
_raw_array = msgspec.json.Decoder(list[msgspec.Raw])
_lock = threading.RLock()

_LEAF, _STRUCT, _ARRAY, _MAP = range(4)


def convert(obj: object, type: Any) -> Any:
    """``obj`` (decoded JSON: dicts, lists, strings, numbers) converted into ``type`` as
    ``msgspec.convert`` does, keeping the fields its models do not know."""
    try:
        return msgspec.convert(obj, type)
    except msgspec.ValidationError as err:
        if not is_unknown_field(err):
            raise
    return recover(msgspec.json.encode(obj), type)


class Decoder(Generic[T]):
    """A reusable JSON decoder into ``type`` that keeps unknown fields, as
    :func:`kgen.meta.decode` does.

    Immutable once built; safe to share between threads.
    """

    def __init__(self, type: type[T]) -> None:
        self._type = type
        self._strict: msgspec.json.Decoder[T] = msgspec.json.Decoder(type)

    def decode(self, data: bytes | str | msgspec.Raw) -> T:
        """``data`` decoded; raises ``msgspec.ValidationError`` or ``msgspec.DecodeError``."""
        try:
            return self._strict.decode(data)
        except msgspec.ValidationError as err:
            if not is_unknown_field(err):
                raise
        result: T = recover(data, self._type)
        return result


def unknown_fields(obj: object) -> dict[str, msgspec.Raw]:
    """The fields of ``obj`` (this object only, not the objects inside it) that its model does
    not know, by wire name, as the raw JSON the server sent (``msgspec.json.decode(raw)`` reads
    one). Empty for any object without them. The values are the object's own: do not mutate."""
    attrs: dict[str, str] | None = getattr(type(obj), "__kgen_unknown__", None)
    if not attrs:
        return {}
    found = {}
    for wire, attr in attrs.items():
        value = getattr(obj, attr)
        if value is not msgspec.UNSET:
            found[wire] = value
    return found


# -- the slow path ---------------------------------------------------------------------------


def is_unknown_field(err: msgspec.ValidationError) -> bool:
    """Whether ``err`` is msgspec's error for a field a model (which forbids them) lacks."""
    return str(err).startswith(_UNKNOWN_FIELD)


@dataclass(slots=True)
class _Plan:
    """How to decode one annotation when its strict decoder met an unknown field."""

    strict: msgspec.json.Decoder[Any]
    kind: int
    item: _Plan | None = None  # arrays' items, maps' values
    model: type[msgspec.Struct] | None = None
    as_list: bool = False


@dataclass(slots=True)
class _ModelPlan:
    fields: dict[str, tuple[str, _Plan]]  # wire name -> attribute, plan
    required: tuple[str, ...]
    names: frozenset[str] = field(default_factory=frozenset)


_plans: dict[Any, _Plan] = {}
_model_plans: dict[type[Any], _ModelPlan] = {}
_subclasses: dict[tuple[type[Any], tuple[str, ...]], type[Any]] = {}


def recover(data: bytes | str | msgspec.Raw, type: Any) -> Any:
    """``data`` decoded into ``type`` after its strict decoder met an unknown field."""
    plan = _plan(type)
    if plan.kind == _LEAF:  # the unknown field sits where no model plan reaches: msgspec's error
        return plan.strict.decode(data)
    return _split(data, plan, "$")


def _value(raw: msgspec.Raw, plan: _Plan, path: str) -> Any:
    try:
        return plan.strict.decode(raw)
    except msgspec.ValidationError as err:
        if plan.kind == _LEAF or not is_unknown_field(err):
            raise _relocated(err, path) from None
    return _split(raw, plan, path)


def _split(data: bytes | str | msgspec.Raw, plan: _Plan, path: str) -> Any:
    if plan.kind == _STRUCT:
        assert plan.model is not None
        return _model(data, plan.model, path)
    assert plan.item is not None
    item = plan.item
    if plan.kind == _ARRAY:
        values = [
            _value(raw, item, f"{path}[{i}]") for i, raw in enumerate(_raw_array.decode(data))
        ]
        return values if plan.as_list else tuple(values)
    return {key: _value(raw, item, f"{path}[...]") for key, raw in _raw_object.decode(data).items()}


def _model(data: bytes | str | msgspec.Raw, cls: type[Any], path: str) -> Any:
    model: type[Any] = getattr(cls, "__kgen_model__", cls)
    plan = _model_plan(model)
    values: dict[str, Any] = {}
    unknown: dict[str, msgspec.Raw] = {}
    parts = _raw_object.decode(data)
    for key, raw in parts.items():
        known = plan.fields.get(key)
        if known is None:
            unknown[key] = raw.copy()  # not a view of the whole input, which would stay alive
        else:
            values[known[0]] = _value(raw, known[1], f"{path}.{key}")
    for key in plan.required:
        if key not in parts:
            raise msgspec.ValidationError(f"Object missing required field `{key}` - at `{path}`")
    if unknown:
        sub = _with_unknown(model, tuple(sorted(unknown)), path)
        attrs: dict[str, str] = sub.__kgen_unknown__
        for key, raw in unknown.items():
            values[attrs[key]] = raw
        model = sub
    return model(**values)


def _relocated(err: msgspec.ValidationError, path: str) -> msgspec.ValidationError:
    """``err`` of a decoder of the value at ``path``, its ``$``-relative path made absolute."""
    message = str(err)
    head, sep, tail = message.rpartition(" - at `$")
    if sep:
        return msgspec.ValidationError(f"{head} - at `{path}{tail}")
    return msgspec.ValidationError(f"{message} - at `{path}`")


def _plan(annotation: Any) -> _Plan:
    found = _plans.get(annotation)
    if found is None:
        with _lock:
            found = _plans.get(annotation)
            if found is None:
                found = _plans[annotation] = _build_plan(annotation)
    return found


def _build_plan(annotation: Any) -> _Plan:
    strict: msgspec.json.Decoder[Any] = msgspec.json.Decoder(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        options = [
            a for a in typing.get_args(annotation) if a not in (type(None), msgspec.UnsetType)
        ]
    else:
        options = [annotation]
    if len(options) == 1:
        core = options[0]
        origin = typing.get_origin(core)
        args = typing.get_args(core)
        if isinstance(core, type) and issubclass(core, msgspec.Struct):
            if core.__struct_config__.forbid_unknown_fields:
                return _Plan(strict, _STRUCT, model=core)
        elif origin in (tuple, list) and (origin is list or (len(args) == 2 and args[1] is ...)):
            item = _plan(args[0])
            if item.kind != _LEAF:
                return _Plan(strict, _ARRAY, item=item, as_list=origin is list)
        elif origin is dict and len(args) == 2:
            item = _plan(args[1])
            if item.kind != _LEAF:
                return _Plan(strict, _MAP, item=item)
    return _Plan(strict, _LEAF)


def _model_plan(cls: type[Any]) -> _ModelPlan:
    found = _model_plans.get(cls)
    if found is None:
        with _lock:
            found = _model_plans.get(cls)
            if found is None:
                infos = msgspec.structs.fields(cls)
                found = _model_plans[cls] = _ModelPlan(
                    fields={f.encode_name: (f.name, _plan(f.type)) for f in infos},
                    required=tuple(f.encode_name for f in infos if f.required),
                    names=frozenset(f.name for f in infos),
                )
    return found


def _with_unknown(model: type[Any], keys: tuple[str, ...], path: str) -> type[Any]:
    """The subclass of ``model`` whose extra fields are the wire names ``keys`` (cached)."""
    found = _subclasses.get((model, keys))
    if found is not None:
        return found
    for key in keys:
        if any(c in key for c in '\\"') or any(ord(c) < 0x20 for c in key):
            raise msgspec.ValidationError(
                f"Object contains unknown field {key!r}, which cannot be kept: its name has a "
                f"backslash, a double quote or a control character - at `{path}`"
            )
    with _lock:
        found = _subclasses.get((model, keys))
        if found is None:
            found = _subclasses[(model, keys)] = _define(model, keys)
    return found


def _define(model: type[Any], keys: tuple[str, ...]) -> type[Any]:
    taken = set(_model_plan(model).names)
    attrs: dict[str, str] = {}
    for key in keys:
        name = key
        if not key.isidentifier() or keyword.iskeyword(key) or key.startswith("_"):
            name = "unknown_field"
        if name in taken or hasattr(model, name):
            name = next(
                f"{name}_{i}" for i in range(2, len(taken) + 3) if f"{name}_{i}" not in taken
            )
        taken.add(name)
        attrs[key] = name
    namespace: dict[str, Any] = {
        "__kgen_model__": model,
        "__kgen_unknown__": attrs,
        "__qualname__": model.__qualname__,
        "__reduce__": _reduce,
    }
    sub: type[Any] = msgspec.defstruct(
        model.__name__,
        [
            (
                attrs[k],
                msgspec.Raw | msgspec.UnsetType,
                msgspec.field(name=k, default=msgspec.UNSET),
            )
            for k in keys
        ],
        bases=(model,),
        module=model.__module__,
        namespace=namespace,
        kw_only=True,
        gc=False,
        forbid_unknown_fields=True,
        repr_omit_defaults=True,
    )
    return sub


def _reduce(self: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """Pickles an object with unknown fields by its model (the subclass is made again on load)."""
    values = {name: getattr(self, name) for name in self.__struct_fields__}
    return _restore, (self.__kgen_model__, tuple(self.__kgen_unknown__), values)


def _restore(model: type[Any], keys: tuple[str, ...], values: dict[str, Any]) -> Any:
    return _with_unknown(model, keys, "$")(**values)
