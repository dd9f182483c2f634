"""kube-apiserver's Service REST storage: cluster IPs and node ports, allocated on write.

Every Service the tracker stores passes through :func:`allocate_on_create` or
:func:`allocate_on_update`, in all modes (this is API-server behaviour, not a controller's):

* a ClusterIP from :data:`SERVICE_CIDR` (kubeadm's ``10.96.0.0/12``): a requested
  ``spec.clusterIP`` (or ``clusterIPs[0]``) is honoured when free and in range, ``None`` makes the
  service headless, otherwise a free address is picked at random above the range's static band
  (its first 256 addresses, kept for requested IPs as kube does); ``clusterIPs``,
  ``ipFamilies: [IPv4]`` and ``ipFamilyPolicy: SingleStack`` follow; ExternalName services get
  none;
* NodePort and LoadBalancer services get a ``nodePort`` per port from :data:`NODE_PORTS`
  (30000-32767), requested ones honoured when free and in range;
* the defaults kube's Service strategy fills (``internalTrafficPolicy: Cluster``,
  ``externalTrafficPolicy: Cluster`` and ``allocateLoadBalancerNodePorts: true`` where they
  apply) and ``status: {loadBalancer: {}}`` on a new service;
* an update keeps the allocated values a client left out (kube's ``patchAllocatedValues``) and
  refuses (422) a changed or unset primary cluster IP, in kube's words.

There is no allocator state: what is taken is read from the stored services, so a deleted
service's IP and ports are free again at once. Callers hold the store's lock so that reading and
committing are one step. Pure functions over the objects given (``obj``/``new`` is modified in
place); errors are :class:`APIError` 422 with kube-apiserver's field paths and messages.
"""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Iterable

from kgen.testing._errors import APIError
from kgen.testing._store import JSON

__all__ = [
    "KUBERNETES_SERVICE_IP",
    "NODE_PORTS",
    "SERVICES",
    "SERVICE_CIDR",
    "allocate_on_create",
    "allocate_on_update",
    "kubernetes_service",
]

SERVICES = ("", "services")
SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/12")
KUBERNETES_SERVICE_IP = str(SERVICE_CIDR.network_address + 1)
"""The first address of the range, which kube-apiserver gives its own ``kubernetes`` service."""
NODE_PORTS = range(30000, 32768)
_STATIC_BAND = 256
"""Addresses at the start of the range that dynamic allocation leaves for requested ones."""
_NODE_PORT_TYPES = ("NodePort", "LoadBalancer")
_Cause = tuple[str, str, str]


def kubernetes_service() -> JSON:
    """The ``default/kubernetes`` Service kube-apiserver maintains, at the range's first IP
    (port 443 to kubeadm's secure port 6443)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "clusterIP": KUBERNETES_SERVICE_IP,
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
        },
    }


def _go_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _taken(services: Iterable[JSON]) -> tuple[set[str], set[int]]:
    ips: set[str] = set()
    ports: set[int] = set()
    for service in services:
        spec = service.get("spec") or {}
        ips.update(ip for ip in spec.get("clusterIPs") or [] if ip and ip != "None")
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and isinstance(port.get("nodePort"), int):
                ports.add(port["nodePort"])
    return ips, ports


def _invalid(obj: JSON, causes: list[_Cause]) -> APIError:
    return APIError.invalid("Service", "", str(obj["metadata"].get("name", "")), causes)


def _cluster_ip(spec: JSON, taken: set[str], rng: random.Random) -> str | _Cause:
    """The primary cluster IP to store, or the cause refusing the requested one."""
    clusters = spec.get("clusterIPs") or []
    requested = str(spec.get("clusterIP") or (clusters[0] if clusters else ""))
    if requested == "None":
        return requested
    if requested:
        shown = _go_json([requested])
        try:
            address = ipaddress.ip_address(requested)
        except ValueError:
            return (
                "spec.clusterIPs[0]",
                "FieldValueInvalid",
                f"Invalid value: {_go_json(requested)}: must be a valid IP address, "
                "(e.g. 10.9.8.7 or 2001:db8::ffff)",
            )
        failed = f"Invalid value: {shown}: failed to allocate IP {requested}"
        if address not in SERVICE_CIDR or address in (
            SERVICE_CIDR.network_address,
            SERVICE_CIDR.broadcast_address,
        ):
            return (
                "spec.clusterIPs",
                "FieldValueInvalid",
                f"{failed}: the provided IP ({requested}) is not in the valid range. "
                f"The range of valid IPs is {SERVICE_CIDR}",
            )
        if requested in taken:
            return (
                "spec.clusterIPs",
                "FieldValueInvalid",
                f"{failed}: provided IP is already allocated",
            )
        return requested
    first = int(SERVICE_CIDR.network_address) + 1 + _STATIC_BAND
    last = int(SERVICE_CIDR.broadcast_address) - 1
    while True:  # the range holds a million addresses: a free one is found at once
        candidate = str(ipaddress.IPv4Address(rng.randint(first, last)))
        if candidate not in taken:
            return candidate


def _node_ports(spec: JSON, taken: set[int], rng: random.Random) -> list[_Cause]:
    """Give each port of a NodePort/LoadBalancer service a node port; the causes refusing any."""
    causes: list[_Cause] = []
    used = set(taken)
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    for index, port in enumerate(ports):
        wanted = port.get("nodePort")
        if not wanted:
            continue
        where = f"spec.ports[{index}].nodePort"
        if not isinstance(wanted, int) or wanted not in NODE_PORTS:
            causes.append(
                (
                    where,
                    "FieldValueInvalid",
                    f"Invalid value: {_go_json(wanted)}: provided port is not in the valid "
                    f"range. The range of valid ports is {NODE_PORTS.start}-{NODE_PORTS.stop - 1}",
                )
            )
        elif wanted in used:
            causes.append(
                (
                    where,
                    "FieldValueInvalid",
                    f"Invalid value: {wanted}: provided port is already allocated",
                )
            )
        else:
            used.add(wanted)
    for port in ports:
        if not port.get("nodePort"):
            while (candidate := rng.randint(NODE_PORTS.start, NODE_PORTS.stop - 1)) in used:
                pass
            used.add(candidate)
            port["nodePort"] = candidate
    return causes


def _fill(obj: JSON, others: Iterable[JSON], rng: random.Random) -> None:
    spec = obj.setdefault("spec", {})
    kind = spec.get("type") or "ClusterIP"
    if kind == "ExternalName":
        return
    ips, ports = _taken(others)
    causes: list[_Cause] = []
    ip = _cluster_ip(spec, ips, rng)
    if isinstance(ip, tuple):
        causes.append(ip)
    else:
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    if kind in _NODE_PORT_TYPES:
        causes += _node_ports(spec, ports, rng)
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if causes:
        raise _invalid(obj, causes)


def allocate_on_create(obj: JSON, others: Iterable[JSON], rng: random.Random) -> None:
    """Allocate for the new service ``obj`` what ``others`` (every stored service) leave free,
    and give it ``status: {loadBalancer: {}}``; 422 on a requested value refused."""
    _fill(obj, others, rng)
    obj["status"] = {"loadBalancer": {}}


def allocate_on_update(old: JSON, new: JSON, others: Iterable[JSON], rng: random.Random) -> None:
    """Carry ``old``'s allocations into ``new`` where the client left them out, refuse a changed
    primary cluster IP, and allocate what ``new`` newly needs (node ports of a service turned
    NodePort, say) from what ``others`` (the stored services but this one) leave free."""
    spec, before = new.setdefault("spec", {}), old.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    if kind != "ExternalName" and before.get("type") != "ExternalName":
        if not spec.get("clusterIP") and not spec.get("clusterIPs"):
            for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                if key in before:
                    spec[key] = before[key]
        elif spec.get("clusterIP") and spec["clusterIP"] != (spec.get("clusterIPs") or [""])[0]:
            spec["clusterIPs"] = [spec["clusterIP"]]
        primary = (before.get("clusterIPs") or [""])[0]
        now = (spec.get("clusterIPs") or [""])[0]
        if primary and now != primary:
            raise _invalid(
                new,
                [
                    (
                        "spec.clusterIPs[0]",
                        "FieldValueInvalid",
                        f"Invalid value: {_go_json(spec.get('clusterIPs') or [])}: "
                        "may not change once set",
                    )
                ],
            )
    if kind in _NODE_PORT_TYPES:
        old_ports = {
            (p.get("port"), p.get("protocol")): p.get("nodePort")
            for p in before.get("ports") or []
            if isinstance(p, dict)
        }
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                kept = old_ports.get((port.get("port"), port.get("protocol")))
                if kept:
                    port["nodePort"] = kept
    _fill(new, others, rng)
