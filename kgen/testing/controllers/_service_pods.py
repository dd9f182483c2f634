"""What the EndpointSlice and Endpoints controllers share: which pods back a Service, the ports
they serve it on, and which services an event concerns.

:class:`ServiceKeyed` is the runner half both controllers have in common: keys are
``(namespace, service name)``; a Service's own events, the events of any pod whose labels (now
or before) match its selector, and the events of the objects a controller keeps for it
(as :meth:`ServiceKeyed.kept_for` says) bring it to a sync. Everything here reads the objects given or
the store under its lock, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from kgen.testing._services import SERVICES
from kgen.testing._store import JSON, Event
from kgen.testing._tracker import ObjectTracker

__all__ = [
    "PODS",
    "ServiceKeyed",
    "backing_pods",
    "pod_ready",
    "resolve_port",
    "selector_of",
    "service_owner",
]

PODS = ("", "pods")
HEADLESS_LABEL = "service.kubernetes.io/headless"


def selector_of(service: JSON) -> Mapping[str, Any]:
    """The service's pod selector; empty when it has none (its endpoints are then the user's)."""
    selector = (service.get("spec") or {}).get("selector")
    return selector if isinstance(selector, dict) else {}


def _selects(selector: Mapping[str, Any], obj: JSON | None) -> bool:
    if obj is None or not selector:
        return False
    labels = obj["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def pod_ready(pod: JSON) -> bool:
    """The pod's ``Ready`` condition is True."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def backing_pods(tracker: ObjectTracker, service: JSON) -> list[JSON]:
    """The pods of the service's namespace its selector matches that have an IP and have not
    ended (Succeeded or Failed), sorted by name; terminating ones included."""
    pods = tracker.registry.stored_one(*PODS)
    selector = selector_of(service)
    if pods is None or not selector:
        return []
    namespace = service["metadata"]["namespace"]
    return [
        pod
        for pod in tracker.list(pods, namespace)["items"]
        if _selects(selector, pod)
        and (pod.get("status") or {}).get("podIP")
        and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def resolve_port(service_port: JSON, pod: JSON) -> int | None:
    """The pod's port for one service port: ``targetPort`` as a number, or the number of the
    pod's container port so named (and of the same protocol); ``None`` when there is none."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                value = port.get("containerPort")
                return value if isinstance(value, int) else None
    return None


def service_owner(service: JSON) -> JSON:
    """The controller ownerReference to ``service`` the kept objects carry."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "name": service["metadata"]["name"],
        "uid": service["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def service_labels(service: JSON) -> dict[str, str]:
    """The service's labels, plus the headless mark a headless service's endpoints carry."""
    labels = dict(service["metadata"].get("labels") or {})
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


def target_ref(pod: JSON) -> JSON:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]}


class ServiceKeyed:
    """The ``observe``/``initial`` half of a controller keyed by ``(namespace, service)``.
    Subclasses set ``kept`` (the resource they write) and may refine :meth:`kept_for`."""

    kept: tuple[str, str]

    def __init__(self, tracker: ObjectTracker) -> None:
        self._tracker = tracker

    def kept_for(self, event: Event) -> str | None:
        """The service an event of ``kept`` makes worth a sync (by default: the one of the
        object's name, when it is deleted, to put it back)."""
        return str(event.key[1]) if event.type == "DELETED" else None

    def observe(self, event: Event) -> Iterable[Hashable]:
        namespace = event.key[0]
        if event.resource == SERVICES:
            return ((namespace, event.key[1]),)
        if event.resource == self.kept:
            service = self.kept_for(event)
            return () if service is None else ((namespace, service),)
        if event.resource != PODS:
            return ()
        return [
            (namespace, service["metadata"]["name"])
            for service in self._tracker.store.items(SERVICES, namespace)[1]
            if _selects(selector_of(service), event.object)
            or _selects(selector_of(service), event.previous)
        ]

    def initial(self) -> Iterable[Hashable]:
        return [
            (s["metadata"]["namespace"], s["metadata"]["name"])
            for s in self._tracker.store.items(SERVICES)[1]
        ]
