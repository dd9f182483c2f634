"""CRD version conversion: custom resources stored in one version, served in every version.

kube-apiserver stores every object of a CustomResourceDefinition in the CRD's storage version
(the one with ``storage: true``) and converts on the way in (create, update, patch, apply: to
the storage version, after defaulting and validation in the request's version) and on the way
out (get, list items, watch events, write answers: to the request's version), through the
CRD's ``spec.conversion.strategy``:

* ``None``: only ``apiVersion`` is rewritten, every other field is kept as it is.
* ``Webhook``: a ``ConversionReview`` is posted to the CRD's webhook. Here the webhook is a
  Python function a test registers on the server (:meth:`ConversionHooks.register`, what
  ``APIServer.on_convert`` and ``APIServer.on_conversion_review`` call).

Two forms of hook, both keyed by the CRD's name (``postgresclusters.databases.kgen.dev``) or
its group-qualified kind (``PostgresCluster.databases.kgen.dev``):

* a **converter**, ``convert(obj, desired_api_version) -> dict``: ``obj`` is a caller-owned
  copy of one object (the hook may change and return it);
* a **review handler**, ``handle(review) -> dict``: it gets a real
  ``apiextensions.k8s.io/v1`` (or ``v1beta1``, the first of the CRD's
  ``conversionReviewVersions`` kgen knows) ``ConversionReview`` dict with ``request.uid``,
  ``request.desiredAPIVersion`` and ``request.objects``, and answers a ``ConversionReview``
  with ``response.uid``, ``response.convertedObjects`` and ``response.result`` — the body a
  real webhook's HTTP handler reads and writes, so its logic can be reused as it is.

A converter is run as a review handler that converts the objects one by one, so both go
through the same checks of the answer, those of apiextensions-apiserver's
``pkg/apiserver/conversion/webhook_converter.go``: the review's kind and uid (v1), a
``Success`` result (else its message is the error), as many objects as were sent, each in the
desired apiVersion with its kind, name, namespace and uid unchanged; ``metadata`` is then put
back from the original except ``labels`` and ``annotations``, which the hook may change (a
changed label must be valid). A failing hook (raising, or answering wrongly) fails the request
with kube-apiserver's message, ``conversion webhook for <group/version, Kind=...> ...``. A
``Webhook`` CRD with no hook fails every conversion as an unreachable webhook does
(``... failed: Post "https://<service>.<namespace>.svc:443/<path>?timeout=30s": ...``).

Every converted object is then pruned of the fields the target version's schema does not know
and given its defaults (kube-apiserver's schema-coercing converter): with ``None`` across
versions whose schemas differ, fields the storage version lacks are dropped, as on a cluster
(between versions of the same schema there is nothing to prune, and the tracker skips it).

As in kube-apiserver, objects already in the wanted version are not sent (a read in the
storage version calls no hook), and a list is converted with one review for the items that
need it. Errors: a write's conversion to the storage version is a 500 ``InternalError``
(``Internal error occurred: ...``, as the storage layer wraps it); a read's conversion is a 500
whose reason is unset (``Error from server: conversion webhook ...`` in kubectl), as
kube-apiserver's response writer turns a plain error into a Status.

Hooks run on the thread serving the request, on writes with the tracker's store lock held:
they must not call back into the server. :class:`ConversionHooks` is thread-safe (a lock
guards the table); :class:`Conversion` is immutable, one per CRD as installed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kgen.labels import SelectorError, validate_label_key, validate_label_value
from kgen.testing._errors import APIError
from kgen.testing._store import copy_json

__all__ = ["Conversion", "ConversionHooks", "Converter", "ReviewHandler", "webhook_address"]

JSON = dict[str, Any]

Converter = Callable[[JSON, str], JSON]
"""``convert(obj, desired_api_version) -> converted``: one object at a time."""
ReviewHandler = Callable[[JSON], JSON]
"""``handle(conversion_review) -> conversion_review``: a webhook's body in, its answer out."""

_REVIEW_GROUP = "apiextensions.k8s.io"
_REVIEW_VERSIONS = ("v1", "v1beta1")


class ConversionHooks:
    """The conversion hooks tests registered, by ``(group, plural-or-kind)`` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hooks: dict[tuple[str, str], ReviewHandler] = {}
        self.coerce: Callable[[str, str, str, JSON], JSON] = lambda _s, _v, _p, obj: obj
        """``coerce(source, version, plural, obj)``: ``obj`` (converted from ``source``, a new
        dict whose nested values may be shared with the original) pruned and defaulted by
        ``version``'s schema, as kube-apiserver's schema-coercing converter does after every
        conversion, copying what it changes; ``source`` empty: ``obj`` is wholly the caller's.
        Set once by the tracker, before serving."""

    def register(
        self, crd: str, *, convert: Converter | None = None, review: ReviewHandler | None = None
    ) -> None:
        """Answer the conversions of ``crd`` (``plural.group`` or ``Kind.group``) with
        ``convert`` or ``review`` (see the module docstring), replacing an earlier hook;
        neither removes it. Raises :class:`ValueError` on a name without a group and
        :class:`TypeError` when given both or a hook that is not callable."""
        name, dot, group = crd.partition(".")
        if not (name and dot and group):
            raise ValueError(
                f"on_convert({crd!r}): name the CRD as plural.group "
                "(postgresclusters.databases.kgen.dev) or Kind.group"
            )
        if convert is not None and review is not None:
            raise TypeError(f"on_convert({crd!r}): give a converter or a review handler, not both")
        given = convert if convert is not None else review
        if given is not None and not callable(given):
            raise TypeError(f"the conversion hook for {crd} must be callable")
        hook = review if convert is None else _per_object(convert)
        with self._lock:
            if hook is None:
                self._hooks.pop((group, name), None)
            else:
                self._hooks[(group, name)] = hook

    def find(self, group: str, plural: str, kind: str) -> ReviewHandler | None:
        """The hook registered for the CRD of ``group`` by its plural or by its kind."""
        with self._lock:
            return self._hooks.get((group, plural)) or self._hooks.get((group, kind))


def _per_object(convert: Converter) -> ReviewHandler:
    """A review handler answering with ``convert`` applied to each object in turn."""

    def handle(review: JSON) -> JSON:
        request = review["request"]
        desired = request["desiredAPIVersion"]
        converted = [convert(copy_json(obj), desired) for obj in request["objects"]]
        return {
            "apiVersion": review["apiVersion"],
            "kind": "ConversionReview",
            "response": {
                "uid": request["uid"],
                "convertedObjects": converted,
                "result": {"status": "Success"},
            },
        }

    return handle


def webhook_address(webhook: Any) -> str:
    """The URL kube-apiserver would post a CRD's ConversionReview to, from the CRD's
    ``spec.conversion.webhook`` (empty when it names none)."""
    config = (webhook or {}).get("clientConfig") or {} if isinstance(webhook, dict) else {}
    if config.get("url"):
        return str(config["url"])
    service = config.get("service")
    if not isinstance(service, dict):
        return ""
    return (
        f"https://{service.get('name', '')}.{service.get('namespace', '')}.svc:"
        f"{service.get('port', 443)}{service.get('path', '')}"
    )


@dataclass(frozen=True)
class Conversion:
    """How the objects of one CRD convert between its versions."""

    crd: str
    """The CRD's name, ``plural.group``."""
    group: str
    plural: str
    kind: str
    strategy: str
    """``None`` or ``Webhook``, as ``spec.conversion.strategy``."""
    storage_version: str
    versions: tuple[str, ...]
    """Every version the CRD lists (served or not): what objects may be converted from/to."""
    review_versions: tuple[str, ...]
    """The CRD's ``conversionReviewVersions``."""
    address: str
    """Where the webhook is (for the error of a webhook nobody answers)."""
    hooks: ConversionHooks

    @property
    def storage_api_version(self) -> str:
        return f"{self.group}/{self.storage_version}"

    def to_storage(self, obj: JSON) -> JSON:
        """``obj`` (written in a served version) in the storage version: ``obj`` itself when
        already there, else a new object (``obj`` is never changed). 500 InternalError when
        the conversion fails."""
        try:
            return self._convert([obj], self.storage_api_version, None)[0]
        except _Failed as failed:
            raise APIError(
                500,
                "InternalError",
                f"Internal error occurred: {failed}",
                {"causes": [{"message": str(failed)}]},
            ) from None

    def to_version(self, objs: Sequence[JSON], api_version: str, list_kind: str = "") -> list[JSON]:
        """``objs`` (stored) in ``api_version``: the same dicts where nothing changes, new
        ones where it does (``objs`` are never changed). ``list_kind`` set: the objects are a
        list's items, converted with one review. A 500 :class:`APIError` (reason unset) when
        the conversion fails."""
        try:
            return self._convert(objs, api_version, list_kind or None)
        except _Failed as failed:
            raise APIError(500, "", str(failed)) from None

    def _convert(self, objs: Sequence[JSON], target: str, list_kind: str | None) -> list[JSON]:
        if not any(o.get("apiVersion") != target for o in objs):
            return list(objs)
        self._check_versions(objs, target, list_kind)
        version = target.rpartition("/")[2]
        if self.strategy != "Webhook":
            return [
                (
                    o
                    if o.get("apiVersion") == target
                    else self.hooks.coerce(
                        str(o.get("apiVersion", "")).rpartition("/")[2],
                        version,
                        self.plural,
                        {**o, "apiVersion": target},
                    )
                )
                for o in objs
            ]
        first = objs[0]
        source = first.get("apiVersion", "") if list_kind is None else self.storage_api_version
        gvk = f"{source}, Kind={list_kind or first.get('kind', self.kind)}"
        pending = [o for o in objs if o.get("apiVersion") != target]
        answered = self._ask(pending, target, gvk)
        if len(answered) != len(pending):
            raise _Failed(
                f"conversion webhook for {gvk} returned {len(answered)} objects, "
                f"expected {len(pending)}"
            )
        out, position = [], 0
        for original in objs:
            if original.get("apiVersion") == target:
                out.append(original)
                continue
            position += 1
            where = f"at index {position}" if list_kind is not None else "at index 0"
            converted = _checked(original, answered[position - 1], target, gvk, where, list_kind)
            out.append(self.hooks.coerce("", version, self.plural, converted))
        return out

    def _check_versions(self, objs: Sequence[JSON], target: str, list_kind: str | None) -> None:
        known = {f"{self.group}/{v}" for v in self.versions}
        if target not in known:
            raise _Failed(f"request to convert CR to an invalid group/version: {target}")
        for index, obj in enumerate(objs):
            if obj.get("apiVersion") not in known:
                if list_kind is None:
                    raise _Failed(
                        "request to convert CR from an invalid group/version: "
                        f"{obj.get('apiVersion')}"
                    )
                raise _Failed(
                    f"request to convert CR list failed, list index {index} has invalid "
                    f"group/version: {obj.get('apiVersion')}"
                )

    def _ask(self, pending: list[JSON], target: str, gvk: str) -> list[Any]:
        """The converted objects a hook answers for ``pending`` (raises :class:`_Failed`)."""
        review_version = next((v for v in self.review_versions if v in _REVIEW_VERSIONS), None)
        if review_version is None:
            raise _Failed("no supported conversion review versions")
        uid = str(uuid.uuid4())
        hook = self.hooks.find(self.group, self.plural, self.kind)
        if hook is None:
            raise _Failed(
                f'conversion webhook for {gvk} failed: Post "{self.address}?timeout=30s": '
                f"no conversion hook is registered for {self.crd} "
                "(kgen.testing: APIServer.on_convert)"
            )
        review = {
            "apiVersion": f"{_REVIEW_GROUP}/{review_version}",
            "kind": "ConversionReview",
            "request": {
                "uid": uid,
                "desiredAPIVersion": target,
                "objects": [copy_json(o) for o in pending],
            },
        }
        try:
            answer = hook(review)
        except Exception as err:  # the webhook failed to answer (a 500 from it)
            raise _Failed(
                f"conversion webhook for {gvk} failed: {err or type(err).__name__}"
            ) from None
        problem = _review_problem(answer, review_version, uid)
        if problem:
            raise _Failed(f"conversion webhook for {gvk} failed: {problem}")
        converted = answer["response"].get("convertedObjects") or []
        if not isinstance(converted, list):
            raise _Failed(f"conversion webhook for {gvk} failed: convertedObjects is not a list")
        return converted


def _mapping(value: Any) -> JSON:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


class _Failed(Exception):
    """A conversion failed; the message is kube-apiserver's error text."""


def _review_problem(answer: Any, review_version: str, uid: str) -> str:
    """What is wrong with a hook's ConversionReview answer (empty: nothing)."""
    if not isinstance(answer, dict):
        return f"the answer is a {type(answer).__name__}, not a ConversionReview"
    if review_version == "v1":
        got = f"{answer.get('apiVersion', '')}, Kind={answer.get('kind', '')}"
        if (answer.get("apiVersion"), answer.get("kind")) != (
            f"{_REVIEW_GROUP}/v1",
            "ConversionReview",
        ):
            return (
                f"expected webhook response of {_REVIEW_GROUP}/v1, Kind=ConversionReview, got {got}"
            )
    response = answer.get("response")
    if not isinstance(response, dict):
        return "no response provided"
    if review_version == "v1" and response.get("uid") != uid:
        return f'expected response.uid="{uid}", got "{response.get("uid") or ""}"'
    result = _mapping(response.get("result"))
    if result.get("status") != "Success":
        return str(result.get("message") or "") or (
            f"response.result.status was '{result.get('status') or ''}', not 'Success'"
        )
    return ""


def _checked(
    original: JSON, converted: Any, target: str, gvk: str, where: str, list_kind: str | None
) -> JSON:
    """``converted`` with the original's metadata (but its own labels and annotations), or
    :class:`_Failed` naming what the hook got wrong, in kube-apiserver's words."""
    invalid = (
        "returned invalid converted object" if list_kind is not None else "returned invalid object"
    )
    if not isinstance(converted, dict):
        raise _Failed(f"conversion webhook for {gvk} {invalid} {where}: not a JSON object")
    got = converted.get("apiVersion", "")
    if got != target:
        raise _Failed(
            f"conversion webhook for {gvk} {invalid} {where}: invalid groupVersion "
            f"(expected {target}, received {got})"
        )
    if converted.get("kind") != original.get("kind"):
        raise _Failed(
            f"conversion webhook for {gvk} {invalid} {where}: invalid kind "
            f"(expected {original.get('kind')}, received {converted.get('kind')})"
        )
    meta = original.get("metadata") or {}
    out = _mapping(converted.get("metadata"))
    for key, label in (("name", "name"), ("namespace", "namespace"), ("uid", "UID")):
        if (meta.get(key) or "") != (out.get(key) or ""):
            prefix = f"{invalid} {where}" if list_kind is not None else invalid
            raise _Failed(
                f"conversion webhook for {gvk} {prefix}: must have the same {label}: "
                f"{meta.get(key) or ''} != {out.get(key) or ''}"
            )
    bad_meta = (
        f"conversion webhook for {gvk} returned invalid metadata"
        + (f" in object {where}" if list_kind is not None else "")
        + ": "
    )
    if "metadata" not in converted:
        raise _Failed(bad_meta + "missing metadata in converted object")
    if not isinstance(converted["metadata"], dict):
        raise _Failed(
            bad_meta + f"invalid metadata of type {type(converted['metadata']).__name__} "
            "in converted object"
        )
    restored = copy_json(meta)
    for key in ("labels", "annotations"):
        value = out.get(key)
        if value is None:
            restored.pop(key, None)
            continue
        if not isinstance(value, dict):
            raise _Failed(
                bad_meta + f"invalid metadata.{key} of type {type(value).__name__} "
                "in converted object"
            )
        for k, v in value.items():
            if not isinstance(v, str):
                raise _Failed(
                    bad_meta + f"metadata.{key}[{k}] must be a string, but is "
                    f"{type(v).__name__} in converted object"
                )
        if key == "labels" and value != meta.get(key):
            for k, v in value.items():
                try:
                    validate_label_key(k)
                    validate_label_value(v)
                except SelectorError as err:
                    raise _Failed(
                        bad_meta + f'metadata.labels: Invalid value: "{k}": {err}'
                    ) from None
        restored[key] = value
    return {**converted, "metadata": restored}
