"""The legacy ``v1`` Endpoints of each Service: kube-controller-manager's Endpoints controller,
over the tracker.

For every Service with a selector, :class:`EndpointsController` keeps the Endpoints object of
the same name: its backing pods (matched, with an IP, not ended; terminating ones left out
unless ``publishNotReadyAddresses``) as ``subsets``, Ready ones under ``addresses`` and the
others under ``notReadyAddresses`` (all under ``addresses`` with ``publishNotReadyAddresses``),
each with ``ip``, ``nodeName`` and a ``targetRef`` to the pod, grouped with the ports they
serve (a named ``targetPort`` resolved from each pod's container ports; pods serving the same
ports share a subset, addresses sorted by IP). The Endpoints carry the service's labels (and
``service.kubernetes.io/headless`` for a headless one); no subsets when no pod backs the
service. A deleted service's Endpoints are deleted.

Writes go through the tracker's public operations under the field manager
``kube-controller-manager``; a conflict raises, and the runner retries the key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable

from kgen.testing._errors import APIError
from kgen.testing._options import WriteOptions
from kgen.testing._registry import ResourceInfo
from kgen.testing._services import SERVICES
from kgen.testing._store import JSON, copy_json
from kgen.testing.controllers._service_pods import (
    ServiceKeyed,
    backing_pods,
    pod_ready,
    resolve_port,
    selector_of,
    service_labels,
    target_ref,
)

__all__ = ["EndpointsController"]

_ENDPOINTS = ("", "endpoints")
_MANAGER = "kube-controller-manager"


def _address(pod: JSON, service: JSON) -> JSON:
    address: JSON = {"ip": pod["status"]["podIP"]}
    spec = pod.get("spec") or {}
    if spec.get("hostname") and spec.get("subdomain") == service["metadata"]["name"]:
        address["hostname"] = spec["hostname"]
    if spec.get("nodeName"):
        address["nodeName"] = spec["nodeName"]
    address["targetRef"] = target_ref(pod)
    return address


def subsets_of(service: JSON, pods: list[JSON]) -> list[JSON]:
    """The Endpoints ``subsets`` of ``service`` backed by ``pods``, packed as kube packs them:
    one subset per group of ports served by exactly the same addresses."""
    spec = service.get("spec") or {}
    publish = bool(spec.get("publishNotReadyAddresses"))
    served: dict[str, tuple[JSON, dict[str, JSON], dict[str, JSON]]] = {}
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp") and not publish:
            continue
        ready = publish or pod_ready(pod)
        address = _address(pod, service)
        for port in spec.get("ports") or [{}]:
            number = resolve_port(port, pod) if port else None
            if port and number is None:
                continue
            entry: JSON = {}
            if port:
                entry = {"port": number, "protocol": port.get("protocol", "TCP")}
                if port.get("name"):
                    entry = {"name": port["name"], **entry}
                if port.get("appProtocol"):
                    entry["appProtocol"] = port["appProtocol"]
            group = served.setdefault(repr(entry), (entry, {}, {}))
            group[1 if ready else 2][address["ip"]] = address
    packed: dict[str, JSON] = {}
    for entry, ready_at, unready_at in served.values():
        addresses = [ready_at[ip] for ip in sorted(ready_at, key=ipaddress.ip_address)]
        unready = [unready_at[ip] for ip in sorted(unready_at, key=ipaddress.ip_address)]
        subset = packed.setdefault(repr((addresses, unready)), {})
        if addresses:
            subset["addresses"] = addresses
        if unready:
            subset["notReadyAddresses"] = unready
        if entry:
            subset.setdefault("ports", []).append(entry)
    return list(packed.values())


class EndpointsController(ServiceKeyed):
    """See the module docstring. Thread-safety: the runner calls :meth:`sync` from one thread;
    :meth:`observe` only reads."""

    name = "endpoints-controller"
    kept = _ENDPOINTS

    def sync(self, key: Hashable) -> float | None:
        endpoints = self._tracker.registry.stored_one(*_ENDPOINTS)
        services = self._tracker.registry.stored_one(*SERVICES)
        if endpoints is None or services is None or not isinstance(key, tuple):
            return None
        namespace, name = key
        try:
            current: JSON | None = self._tracker.get(endpoints, namespace, name)
        except APIError as err:
            if err.code != 404:
                raise
            current = None
        try:
            service = self._tracker.get(services, namespace, name)
        except APIError as err:
            if err.code != 404:
                raise
            if current is not None:
                self._delete(endpoints, current)
            return None
        if not selector_of(service):
            return None  # the user's own Endpoints, if any
        self._write(
            endpoints, service, current, subsets_of(service, backing_pods(self._tracker, service))
        )
        return None

    def _write(
        self, info: ResourceInfo, service: JSON, current: JSON | None, subsets: list[JSON]
    ) -> None:
        namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
        body: JSON = (
            copy_json(current)
            if current is not None
            else {
                "apiVersion": info.api_version,
                "kind": info.kind,
                "metadata": {"name": name},
            }
        )
        before = copy_json(body)
        labels = service_labels(service)
        if labels:
            body["metadata"]["labels"] = labels
        else:
            body["metadata"].pop("labels", None)
        if subsets:
            body["subsets"] = subsets
        else:
            body.pop("subsets", None)
        if current is None:
            self._tracker.create(info, namespace, body, self._options())
        elif body != before:
            self._tracker.update(info, namespace, body, self._options())

    def _delete(self, info: ResourceInfo, current: JSON) -> None:
        meta = current["metadata"]
        options = self._options(preconditions={"uid": meta.get("uid")})
        try:
            self._tracker.delete(info, meta["namespace"], meta["name"], options)
        except APIError as err:
            if err.code not in (404, 409):
                raise

    @staticmethod
    def _options(**body: object) -> WriteOptions:
        return WriteOptions(field_manager=_MANAGER, body_options=dict(body))
