"""kube-apiserver's NamespaceLifecycle admission, as far as the test server's controllers need it.

With controllers running (``ObjectTracker(controllers=True)``) a deleted namespace lingers,
``Terminating``, until the namespace controller has emptied it; meanwhile nothing new may be
created in it (:func:`check_create`), and the namespaces kube-apiserver calls immortal may not be
deleted at all (:func:`check_delete`). A namespace that does not exist is refused by the tracker
in every mode (404 ``namespaces "x" not found``, as this plugin answers too).

Pure functions: they read the objects they are given and raise :class:`APIError`.
"""

from __future__ import annotations

from kgen.testing._errors import APIError
from kgen.testing._registry import ResourceInfo
from kgen.testing._store import JSON

__all__ = ["IMMORTAL_NAMESPACES", "NAMESPACE_TERMINATING", "check_create", "check_delete"]

IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})
"""kube-apiserver's default immortal namespaces (they may not be deleted)."""
NAMESPACE_TERMINATING = "NamespaceTerminating"
"""The cause reason (core/v1 ``NamespaceTerminatingCause``) of a create refused by a namespace
being terminated."""


def check_create(info: ResourceInfo, name: str, namespace: JSON) -> None:
    """Refuse (403) the create of ``name`` (``""`` when generated) of ``info`` into ``namespace``
    when that namespace is Terminating, with the Status kube-apiserver sends."""
    if (namespace.get("status") or {}).get("phase") != "Terminating":
        return
    ns = namespace["metadata"]["name"]
    err = APIError.forbidden(
        info.plural,
        info.group,
        name,
        f"unable to create new content in namespace {ns} because it is being terminated",
    )
    err.status["details"]["causes"] = [
        {
            "reason": NAMESPACE_TERMINATING,
            "message": f"namespace {ns} is being terminated",
            "field": "metadata.namespace",
        }
    ]
    raise err


def check_delete(info: ResourceInfo, name: str) -> None:
    """Refuse (403) the delete of an immortal namespace."""
    if info.key == ("", "namespaces") and name in IMMORTAL_NAMESPACES:
        raise APIError.forbidden(info.plural, info.group, name, "this namespace may not be deleted")
