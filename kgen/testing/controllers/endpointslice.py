"""EndpointSlices kept from pod selectors and readiness: kube-controller-manager's EndpointSlice
controller, over the tracker.

For every Service with a selector, :class:`EndpointSliceController` keeps the
``discovery.k8s.io/v1`` EndpointSlices of its backing pods (those matched, with an IP, not
ended): one slice per set of resolved ports (a named ``targetPort`` is looked up in each pod's
container ports, so pods naming it differently land in different slices), named
``<service>-<5 chars>``, labelled ``kubernetes.io/service-name`` and
``endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`` (and the service's
own labels), ``addressType: IPv4``, owned by the Service. Each endpoint carries the pod IP, the
conditions ``ready`` (Ready and not terminating, or ``publishNotReadyAddresses``), ``serving``
and ``terminating`` (a ``deletionTimestamp``), ``nodeName`` and a ``targetRef`` to the pod. A
service no pod backs keeps one empty slice without ports, as kube's placeholder. Slices of a
deleted service go with it through the garbage collector (their owner reference).

Writes go through the tracker's public operations under the field manager
``kube-controller-manager``; a conflict raises, and the runner retries the key.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._registry import ResourceInfo
from kgen.testing._services import SERVICES
from kgen.testing._store import JSON, Event, copy_json
from kgen.testing.controllers._service_pods import (
    ServiceKeyed,
    backing_pods,
    pod_ready,
    resolve_port,
    selector_of,
    service_labels,
    service_owner,
    target_ref,
)

__all__ = ["MANAGED_BY", "SERVICE_NAME_LABEL", "EndpointSliceController"]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
_MANAGER = "kube-controller-manager"
_SLICES = ("discovery.k8s.io", "endpointslices")
_NAME_ROOM = 63 - 5
"""A generated name is at most 63 characters, 5 of them the random suffix."""


def _managed_for(obj: JSON) -> str | None:
    """The service a slice managed by this controller is for."""
    labels = obj["metadata"].get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
        return None
    service = labels.get(SERVICE_NAME_LABEL)
    return str(service) if service else None


def _slice_ports(service: JSON, pod: JSON) -> list[JSON]:
    ports: list[JSON] = []
    for port in (service.get("spec") or {}).get("ports") or []:
        number = resolve_port(port, pod)
        if number is None:
            continue
        entry: JSON = {
            "name": port.get("name", ""),
            "port": number,
            "protocol": port.get("protocol", "TCP"),
        }
        if port.get("appProtocol"):
            entry["appProtocol"] = port["appProtocol"]
        ports.append(entry)
    return ports


def _endpoint(service: JSON, pod: JSON) -> JSON:
    spec = service.get("spec") or {}
    terminating = bool(pod["metadata"].get("deletionTimestamp"))
    publish = bool(spec.get("publishNotReadyAddresses"))
    ready = pod_ready(pod)
    endpoint: JSON = {
        "addresses": [pod["status"]["podIP"]],
        "conditions": {
            "ready": publish or (ready and not terminating),
            "serving": publish or ready,
            "terminating": terminating,
        },
        "targetRef": target_ref(pod),
    }
    pod_spec = pod.get("spec") or {}
    if pod_spec.get("hostname") and pod_spec.get("subdomain") == service["metadata"]["name"]:
        endpoint["hostname"] = pod_spec["hostname"]
    if pod_spec.get("nodeName"):
        endpoint["nodeName"] = pod_spec["nodeName"]
    return endpoint


class EndpointSliceController(ServiceKeyed):
    """See the module docstring. Thread-safety: the runner calls :meth:`sync` from one thread;
    :meth:`observe` only reads."""

    name = "endpointslice-controller"
    kept = _SLICES

    def kept_for(self, event: Event) -> str | None:
        """Any change to a slice this controller manages (a slice edited or deleted by someone
        else is put right)."""
        return _managed_for(event.object)

    def sync(self, key: Hashable) -> float | None:
        slices = self._tracker.registry.stored_one(*_SLICES)
        services = self._tracker.registry.stored_one(*SERVICES)
        if slices is None or services is None or not isinstance(key, tuple):
            return None
        namespace, name = key
        try:
            service = self._tracker.get(services, namespace, name)
        except APIError as err:
            if err.code == 404:
                return None  # its slices go with it (garbage collector)
            raise
        if not selector_of(service):
            return None
        existing = [
            s for s in self._tracker.list(slices, namespace)["items"] if _managed_for(s) == name
        ]
        unmatched: list[tuple[list[JSON], list[JSON]]] = []
        for ports, endpoints in self._wanted(service):
            match = next((s for s in existing if (s.get("ports") or []) == ports), None)
            if match is None:
                unmatched.append((ports, endpoints))
                continue
            existing.remove(match)
            self._write(slices, service, match, ports, endpoints)
        for ports, endpoints in unmatched:  # a left-over slice is reused before one is made
            self._write(slices, service, existing.pop(0) if existing else None, ports, endpoints)
        for extra in existing:
            meta = extra["metadata"]
            options = self._options(preconditions={"uid": meta.get("uid")})
            try:
                self._tracker.delete(slices, namespace, meta["name"], options)
            except APIError as err:
                if err.code not in (404, 409):
                    raise
        return None

    def _wanted(self, service: JSON) -> list[tuple[list[JSON], list[JSON]]]:
        """(ports, endpoints) of each slice the service should have, the placeholder when no
        pod backs it."""
        groups: dict[str, tuple[list[JSON], list[JSON]]] = {}
        for pod in backing_pods(self._tracker, service):
            ports = _slice_ports(service, pod)
            group = groups.setdefault(repr(ports), (ports, []))
            group[1].append(_endpoint(service, pod))
        return list(groups.values()) or [([], [])]

    def _write(
        self,
        info: ResourceInfo,
        service: JSON,
        current: JSON | None,
        ports: list[JSON],
        endpoints: list[JSON],
    ) -> None:
        name = service["metadata"]["name"]
        labels = {
            **service_labels(service),
            SERVICE_NAME_LABEL: name,
            MANAGED_BY_LABEL: MANAGED_BY,
        }
        body: JSON = (
            copy_json(current)
            if current is not None
            else {
                "apiVersion": info.api_version,
                "kind": info.kind,
                "metadata": {"generateName": f"{name}-"[:_NAME_ROOM]},
            }
        )
        before = copy_json(body)
        meta: dict[str, Any] = body["metadata"]
        meta["labels"] = labels
        meta["ownerReferences"] = [service_owner(service)]
        body["addressType"] = "IPv4"
        body["endpoints"] = endpoints
        if ports:
            body["ports"] = ports
        else:
            body.pop("ports", None)
        namespace = service["metadata"]["namespace"]
        if current is None:
            self._tracker.create(info, namespace, body, self._options())
        elif body != before:
            self._tracker.update(info, namespace, body, self._options())

    @staticmethod
    def _options(**body: object) -> WriteOptions:
        return WriteOptions(field_manager=_MANAGER, body_options=dict(body))
