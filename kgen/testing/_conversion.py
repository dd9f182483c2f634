"""CRD version conversion: a stored custom resource shown in the version a request names.

kube-apiserver stores every custom resource in the CRD's storage version (the one with
``storage: true``) and converts on the way in (create/update/patch/apply) and out (get, list
items, watch events, write responses) through the CRD's ``spec.conversion.strategy``:

* ``None``: only ``apiVersion`` is rewritten; every other field is kept as it is.
* ``Webhook``: a ConversionReview is posted to the CRD's webhook. Here the webhook is a Python
  function the test registers with ``APIServer.on_convert(group, kind, hook)``.

The hook contract (the objects of a ConversionReview's request and response)::

    hook(obj: dict, desired_api_version: str) -> dict

``obj`` is a caller-owned copy of one object (``apiVersion``, ``kind``, ``metadata``...) in
its current version; the hook returns the object in ``desired_api_version`` (it may change and
return ``obj`` itself). It is called with the tracker's store lock held on writes and from the
thread serving the request: it must not call back into the server. A hook that raises fails the
request as a webhook that answered ``result.status: Failure`` with the exception text as
``result.message``.

What kube-apiserver's webhook converter (apiextensions-apiserver
``pkg/apiserver/conversion/webhook_converter.go``) checks of the answer, checked here too:
the returned ``apiVersion`` must be the desired one and ``kind`` unchanged; ``name``,
``namespace`` and ``uid`` must be unchanged; every other ``metadata`` field is put back from
the original except ``labels`` and ``annotations``, which the hook may change. Any failure is a
500 InternalError whose message names the source version and kind, e.g.
``conversion webhook for example.com/v1, Kind=Widget failed: <reason>``.

A ``Webhook`` CRD with no hook registered fails every conversion the same way (as a webhook
that cannot be reached). As in kube-apiserver, an object already in the wanted version is not
sent to the webhook, so reads in the storage version work without a hook.

:class:`ConversionHooks` is the server's table of hooks (thread-safe: registration and
lookup take a lock); :class:`Conversion` is one CRD's strategy, immutable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kgen.testing._errors import APIError
from kgen.testing._store import copy_json

__all__ = ["Conversion", "ConversionHook", "ConversionHooks"]

ConversionHook = Callable[[dict[str, Any], str], dict[str, Any]]
"""``hook(obj, desired_api_version) -> converted``: see the module docstring."""


class ConversionHooks:
    """The conversion hooks tests registered, keyed by ``(group, kind)`` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hooks: dict[tuple[str, str], ConversionHook] = {}

    def register(self, group: str, kind: str, hook: ConversionHook | None) -> None:
        """Use ``hook`` for the Webhook-strategy CRD of ``group`` and ``kind`` (``None``
        removes it); replaces an earlier one."""
        if hook is not None and not callable(hook):
            raise TypeError(f"the conversion hook for {group}/{kind} must be callable")
        with self._lock:
            if hook is None:
                self._hooks.pop((group, kind), None)
            else:
                self._hooks[(group, kind)] = hook

    def get(self, group: str, kind: str) -> ConversionHook | None:
        with self._lock:
            return self._hooks.get((group, kind))


@dataclass(frozen=True)
class Conversion:
    """How one CRD converts between its versions (shared by every version it serves)."""

    group: str
    kind: str
    strategy: str
    """``None`` or ``Webhook``, as ``spec.conversion.strategy``."""
    storage_version: str
    hooks: ConversionHooks

    @property
    def storage_api_version(self) -> str:
        return f"{self.group}/{self.storage_version}"

    def convert(self, obj: dict[str, Any], api_version: str) -> dict[str, Any]:
        """``obj`` in ``api_version``: ``obj`` itself when already there, else a new object
        (``obj`` is never changed). Raises a 500 :class:`APIError` when the webhook fails."""
        source = obj.get("apiVersion")
        if source == api_version:
            return obj
        if self.strategy != "Webhook":
            return {**obj, "apiVersion": api_version}
        gvk = f"{source}, Kind={obj.get('kind', self.kind)}"
        hook = self.hooks.get(self.group, self.kind)
        if hook is None:
            raise _failure(f"conversion webhook for {gvk} failed: no conversion hook is registered")
        try:
            converted = hook(copy_json(obj), api_version)
        except Exception as err:  # the webhook answered result.status Failure
            raise _failure(f"conversion webhook for {gvk} failed: {err}") from None
        return _checked(obj, converted, api_version, gvk)


def _failure(message: str) -> APIError:
    return APIError(500, "InternalError", f"Internal error occurred: {message}")


def _checked(
    original: dict[str, Any], converted: Any, api_version: str, gvk: str
) -> dict[str, Any]:
    """``converted`` with the original's metadata (but its own labels and annotations), or a
    500 naming what the hook got wrong, in kube-apiserver's words."""
    if not isinstance(converted, dict):
        raise _failure(f"conversion webhook for {gvk} failed, unexpected type at index 0")
    invalid = f"conversion webhook for {gvk} returned invalid object"
    got = converted.get("apiVersion")
    if got != api_version:
        raise _failure(
            f"{invalid} at index 0: invalid groupVersion (expected {api_version}, received {got})"
        )
    if converted.get("kind") != original.get("kind"):
        raise _failure(
            f"{invalid} at index 0: invalid kind "
            f"(expected {original.get('kind')}, received {converted.get('kind')})"
        )
    meta, out = original.get("metadata") or {}, converted.get("metadata")
    if not isinstance(out, dict):
        raise _failure(
            f"conversion webhook for {gvk} returned invalid metadata: "
            "missing metadata in converted object"
        )
    for key, label in (("name", "name"), ("namespace", "namespace"), ("uid", "UID")):
        if (meta.get(key) or "") != (out.get(key) or ""):
            raise _failure(
                f"{invalid}: must have the same {label}: {meta.get(key) or ''} != "
                f"{out.get(key) or ''}"
            )
    restored = copy_json(meta)
    for key in ("labels", "annotations"):
        value = out.get(key)
        if value is None:
            restored.pop(key, None)
            continue
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise _failure(
                f"conversion webhook for {gvk} returned invalid metadata: "
                f"metadata.{key} must be a map of strings in converted object"
            )
        restored[key] = value
    return {**converted, "metadata": restored}
