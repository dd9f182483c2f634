"""The namespace lifecycle: what kube-controller-manager does to namespaces, over the tracker.

:class:`NamespaceController` is three controllers of kube-controller-manager in one, all keyed by
namespace name:

* the namespace controller: a namespace with a ``deletionTimestamp`` (the tracker marks it
  Terminating when deleted, ``ObjectTracker(controllers=True)``) has every namespaced object of
  every served resource (custom resources included) deleted, its status conditions kept as
  kube's deleter writes them (``NamespaceDeletionDiscoveryFailure``,
  ``NamespaceDeletionGroupVersionParsingFailure``, ``NamespaceDeletionContentFailure``,
  ``NamespaceContentRemaining``, ``NamespaceFinalizersRemaining``), waits while content held by
  finalizers remains, then removes the ``kubernetes`` finalizer through ``namespaces/finalize``,
  which removes the namespace;
* the serviceaccounts controller: a ``default`` ServiceAccount in every active namespace;
* the root-ca-cert-publisher: a ``kube-root-ca.crt`` ConfigMap whose ``ca.crt`` is the
  server's CA, in every active namespace.

Each resource is skipped when the model does not serve it. Writes go through the tracker's
public operations under the field manager ``kube-controller-manager``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator

from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._registry import ResourceInfo
from kgen.testing._store import JSON, Event, copy_json
from kgen.testing._tracker import ObjectTracker

__all__ = ["ROOT_CA_CONFIGMAP", "NamespaceController"]

ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
_NAMESPACES = ("", "namespaces")
_FINALIZER = "kubernetes"
_MANAGER = "kube-controller-manager"
_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)
_RECHECK = 5.0
"""Seconds after which a namespace still holding content is looked at again (events about its
content normally bring it back sooner)."""
_CONDITIONS = (
    (
        "NamespaceDeletionDiscoveryFailure",
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    (
        "NamespaceDeletionGroupVersionParsingFailure",
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    (
        "NamespaceDeletionContentFailure",
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
    ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
    (
        "NamespaceFinalizersRemaining",
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished",
    ),
)
"""Condition type, reason and message when all is well, in the order kube's deleter keeps."""


class NamespaceController:
    """See the module docstring. ``ca_pem`` is what ``kube-root-ca.crt`` publishes."""

    name = "namespace-controller"

    def __init__(self, tracker: ObjectTracker, ca_pem: bytes) -> None:
        self._tracker = tracker
        self._ca = ca_pem.decode()

    # --- runner protocol ----------------------------------------------------------------------

    def observe(self, event: Event) -> Iterable[Hashable]:
        """A namespace's own changes, any deletion inside one (content going away, or a
        ServiceAccount or ConfigMap to put back) and any change to its ``kube-root-ca.crt``."""
        if event.resource == _NAMESPACES:
            return () if event.type == "DELETED" else (event.key[1],)
        if event.key[0] and (
            event.type == "DELETED"
            or (event.resource == ("", "configmaps") and event.key[1] == ROOT_CA_CONFIGMAP)
        ):
            return (event.key[0],)
        return ()

    def initial(self) -> Iterable[Hashable]:
        info = self._tracker.registry.stored_one("", "namespaces")
        if info is None:
            return []
        return [o["metadata"]["name"] for o in self._tracker.list(info, "", copy=False)["items"]]

    def sync(self, key: Hashable) -> float | None:
        namespaces = self._tracker.registry.stored_one("", "namespaces")
        if namespaces is None or not isinstance(key, str):
            return None
        try:
            namespace = self._tracker.get(namespaces, "", key)
        except APIError as err:
            if err.code == 404:
                return None
            raise
        if not namespace["metadata"].get("deletionTimestamp"):
            self._publish(key)
            return None
        if _FINALIZER not in ((namespace.get("spec") or {}).get("finalizers") or []):
            return None
        remaining, held = self._delete_content(key)
        namespace = self._set_conditions(namespaces, namespace, remaining, held)
        if remaining:
            return _RECHECK
        spec = namespace.setdefault("spec", {})
        spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != _FINALIZER]
        namespace["metadata"].pop("resourceVersion", None)
        self._tracker.update(namespaces, "", namespace, self._options(), subresource="finalize")
        return None

    # --- the parts ----------------------------------------------------------------------------

    @staticmethod
    def _options(**body: object) -> WriteOptions:
        return WriteOptions(field_manager=_MANAGER, body_options=dict(body))

    def _publish(self, namespace: str) -> None:
        """The ``default`` ServiceAccount and the ``kube-root-ca.crt`` ConfigMap, made or put
        right; a namespace that went or began terminating meanwhile refuses them, which is fine.
        """
        accounts = self._tracker.registry.stored_one("", "serviceaccounts")
        if accounts is not None:
            self._ensure(accounts, namespace, {"metadata": {"name": "default"}})
        configmaps = self._tracker.registry.stored_one("", "configmaps")
        if configmaps is not None:
            wanted: JSON = {
                "metadata": {
                    "name": ROOT_CA_CONFIGMAP,
                    "annotations": {"kubernetes.io/description": _DESCRIPTION},
                },
                "data": {"ca.crt": self._ca},
            }
            current = self._ensure(configmaps, namespace, wanted)
            if current is not None and current.get("data") != wanted["data"]:
                current["data"] = wanted["data"]
                with _lost_race():
                    self._tracker.update(configmaps, namespace, current, self._options())

    def _ensure(self, info: ResourceInfo, namespace: str, body: JSON) -> JSON | None:
        """Create ``body`` unless it exists; returns the existing object, or ``None``."""
        name = body["metadata"]["name"]
        try:
            return self._tracker.get(info, namespace, name)
        except APIError as err:
            if err.code != 404:
                raise
        obj = {"apiVersion": info.api_version, "kind": info.kind, **copy_json(body)}
        with _lost_race():
            self._tracker.create(info, namespace, obj, self._options())
        return None

    def _delete_content(self, namespace: str) -> tuple[Counter[str], Counter[str]]:
        """Delete every object of ``namespace`` not already being deleted; returns what remains
        per ``<resource>.<group>`` and per finalizer holding it."""
        remaining: Counter[str] = Counter()
        held: Counter[str] = Counter()
        for info in self._tracker.registry.stored():
            if not info.namespaced:
                continue
            for obj in self._tracker.list(info, namespace, copy=False)["items"]:
                meta = obj["metadata"]
                if meta.get("deletionTimestamp"):
                    continue
                with _lost_race():
                    self._tracker.delete(
                        info,
                        namespace,
                        meta["name"],
                        self._options(preconditions={"uid": meta.get("uid")}),
                    )
            left = self._tracker.list(info, namespace, copy=False)["items"]
            if left:
                remaining[f"{info.plural}.{info.group}"] = len(left)
                for obj in left:
                    held.update(obj["metadata"].get("finalizers") or [])
        return remaining, held

    def _set_conditions(
        self, info: ResourceInfo, namespace: JSON, remaining: Counter[str], held: Counter[str]
    ) -> JSON:
        """Write the deletion conditions when they change; returns the namespace as stored."""
        problems: dict[str, tuple[str, str]] = {}
        if remaining:
            listed = ", ".join(
                sorted(f"{r} has {n} resource instances" for r, n in remaining.items())
            )
            problems["NamespaceContentRemaining"] = (
                "SomeResourcesRemain",
                f"Some resources are remaining: {listed}",
            )
        if held:
            listed = ", ".join(sorted(f"{f} in {n} resource instances" for f, n in held.items()))
            problems["NamespaceFinalizersRemaining"] = (
                "SomeFinalizersRemain",
                f"Some content in the namespace has finalizers remaining: {listed}",
            )
        status = namespace.setdefault("status", {})
        conditions = [dict(c) for c in status.get("conditions") or [] if isinstance(c, dict)]
        changed = False
        now = self._tracker.now()
        for kind, ok_reason, ok_message in _CONDITIONS:
            state, (reason, message) = (
                ("True", problems[kind]) if kind in problems else ("False", (ok_reason, ok_message))
            )
            old = next((c for c in conditions if c.get("type") == kind), None)
            if old is None:
                conditions.append(
                    {
                        "type": kind,
                        "status": state,
                        "lastTransitionTime": now,
                        "reason": reason,
                        "message": message,
                    }
                )
                changed = True
            elif (old.get("status"), old.get("reason"), old.get("message")) != (
                state,
                reason,
                message,
            ):
                if old.get("status") != state:
                    old["lastTransitionTime"] = now
                old.update(status=state, reason=reason, message=message)
                changed = True
        if not changed:
            return namespace
        status["conditions"] = conditions
        status["phase"] = "Terminating"
        namespace["metadata"].pop("resourceVersion", None)
        return self._tracker.update(info, "", namespace, self._options(), subresource="status")


@contextlib.contextmanager
def _lost_race() -> Iterator[None]:
    """Ignore what a write that lost a race gets: 404 (gone), 403 (namespace terminating),
    409 (exists, or changed meanwhile)."""
    try:
        yield
    except APIError as err:
        if err.code not in (403, 404, 409):
            raise
