"""Server-side printing: objects as ``meta.k8s.io/v1`` ``Table`` for clients that ask
(``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``, as ``kubectl get`` does).

Columns follow kube-apiserver's printers for a few common kinds and default to NAME and AGE
(the columns a custom resource without printer columns gets). Pure functions.
"""

from __future__ import annotations

import calendar
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kgen.labels import SelectorError, from_label_selector
from kgen.testing._crds import PrinterColumn
from kgen.testing._jsonpath import JSONPathError, evaluate
from kgen.testing._partial import META_GROUP, as_partial
from kgen.testing._registry import ResourceInfo

__all__ = ["human_duration", "to_table"]

JSON = dict[str, Any]
Cell = Callable[[JSON], Any]

_NAME_DOC = "Name must be unique within a namespace. https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created."
)


def human_duration(seconds: float) -> str:
    """A short, human reading of a duration, as kubectl prints ages (``5s``, ``3m20s``, ``2d``)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    years, days = h // (24 * 365), (h // 24) % 365
    return f"{years}y{days}d" if years < 8 and days else f"{years}y"


def _age(obj: JSON) -> str:
    return _since((obj.get("metadata") or {}).get("creationTimestamp"))


def _path(*keys: str) -> Cell:
    def get(obj: JSON) -> Any:
        current: Any = obj
        for key in keys:
            current = current.get(key) if isinstance(current, dict) else None
        return current

    return get


def _pod_ready(obj: JSON) -> str:
    containers = (obj.get("spec") or {}).get("containers") or []
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(containers)}"


def _pod_restarts(obj: JSON) -> int:
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def _pod_status(obj: JSON) -> str:
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    status = obj.get("status") or {}
    reason = str(status.get("reason") or status.get("phase") or "Pending")
    for container in reversed(status.get("containerStatuses") or []):  # kube's printPod
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated")
        if waiting.get("reason"):
            reason = str(waiting["reason"])
        elif terminated is not None and terminated.get("reason"):
            reason = str(terminated["reason"])
        elif terminated is not None:
            code = terminated.get("exitCode", 0)
            signal = terminated.get("signal")
            reason = f"Signal:{signal}" if signal else f"ExitCode:{code}"
    return reason


def _count(*keys: str) -> Cell:
    def count(obj: JSON) -> int:
        total = 0
        for key in keys:
            value = obj.get(key)
            total += len(value) if isinstance(value, dict | list) else 0
        return total

    return count


def _deploy_ready(obj: JSON) -> str:
    status = obj.get("status") or {}
    return f"{status.get('readyReplicas') or 0}/{(obj.get('spec') or {}).get('replicas', 1)}"


def _ports(obj: JSON) -> str:
    ports = (obj.get("spec") or {}).get("ports") or []
    text = ",".join(
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}"
        f"/{p.get('protocol', 'TCP')}"
        for p in ports
    )
    return text or "<none>"


def _external_ip(obj: JSON) -> str:
    """kube's service printer: the external IPs, the load balancer's (``<pending>`` while it
    has none) or the external name."""
    spec = obj.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return str(spec.get("externalName") or "<none>")
    ips = [str(ip) for ip in spec.get("externalIPs") or []]
    if spec.get("type") == "LoadBalancer":
        ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        found = [str(i.get("ip") or i.get("hostname") or "") for i in ingress]
        ips = [ip for ip in found if ip] + ips
        return ",".join(ips) or "<pending>"
    return ",".join(ips) or "<none>"


def _first_three(items: list[str], empty: str) -> str:
    """kube's printers' ``a,b,c + N more...`` of a list, ``empty`` when there is nothing."""
    if not items:
        return empty
    more = f" + {len(items) - 3} more..." if len(items) > 3 else ""
    return ",".join(items[:3]) + more


def _endpoints(obj: JSON) -> str:
    subsets = obj.get("subsets") or []
    if not subsets:
        return "<none>"
    listed: list[str] = []
    for subset in subsets:
        addresses = [str(a.get("ip")) for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        if not ports:
            listed += addresses
        for port in ports:
            listed += [
                f"[{ip}]:{port.get('port')}" if ":" in ip else f"{ip}:{port.get('port')}"
                for ip in addresses
            ]
    return _first_three(listed, "")


def _slice_ports(obj: JSON) -> str:
    ports = obj.get("ports") or []
    return _first_three([str(p.get("port", "<unset>")) for p in ports], "<unset>")


def _slice_endpoints(obj: JSON) -> str:
    return _first_three(
        [str(a) for e in obj.get("endpoints") or [] for a in e.get("addresses") or []], "<unset>"
    )


def _or_none(cell: Cell) -> Cell:
    def get(obj: JSON) -> Any:
        value = cell(obj)
        return "<none>" if value in (None, "") else value

    return get


def _zero(cell: Cell) -> Cell:
    def get(obj: JSON) -> Any:
        return cell(obj) or 0

    return get


@dataclass(frozen=True)
class _Column:
    name: str
    type: str
    cell: Cell
    priority: int = 0
    description: str = ""
    format: str = ""


def _age_column() -> _Column:
    return _Column("Age", "string", _age, description=_AGE_DOC)


def _containers_of(*path: str) -> Cell:
    def get(obj: JSON) -> str:
        containers = _path(*path)(obj) or []
        return ",".join(str(c.get("name", "")) for c in containers if isinstance(c, dict))

    return get


def _images_of(*path: str) -> Cell:
    def get(obj: JSON) -> str:
        containers = _path(*path)(obj) or []
        return ",".join(str(c.get("image", "")) for c in containers if isinstance(c, dict))

    return get


def _label_selector(*path: str) -> Cell:
    """kube's ``FormatLabelSelector`` of the LabelSelector at ``path``: requirements sorted by
    key (``k=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``), ``<none>`` when there is
    none or it is empty, ``<error>`` when it does not convert."""
    at = _path(*path)

    def get(obj: JSON) -> str:
        try:
            text = str(from_label_selector(at(obj)))
        except (SelectorError, AttributeError, TypeError):
            return "<error>"
        return text or "<none>"

    return get


_selector = _label_selector("spec", "selector")


_TEMPLATE = ("spec", "template", "spec", "containers")


def _sts_ready(obj: JSON) -> str:
    status = obj.get("status") or {}
    return f"{status.get('readyReplicas', 0)}/{(obj.get('spec') or {}).get('replicas', 1)}"


def _node_selector(obj: JSON) -> str:
    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    selector = spec.get("nodeSelector") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>"


def _job_conditions(obj: JSON) -> set[str]:
    return {
        str(c.get("type"))
        for c in (obj.get("status") or {}).get("conditions") or []
        if isinstance(c, dict) and c.get("status") == "True"
    }


def _job_status(obj: JSON) -> str:
    """kube's job printer: Complete, Failed, Terminating, Suspended, FailureTarget, Running."""
    conditions = _job_conditions(obj)
    for kind in ("Complete", "Failed"):
        if kind in conditions:
            return kind
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget"):
        if kind in conditions:
            return kind
    return "Running"


def _job_completions(obj: JSON) -> str:
    spec = obj.get("spec") or {}
    succeeded = (obj.get("status") or {}).get("succeeded", 0)
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    parallelism = int(spec.get("parallelism") or 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(obj: JSON) -> str:
    status = obj.get("status") or {}
    start = status.get("startTime")
    if not start:
        return ""
    end = status.get("completionTime")
    began = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    until = datetime.fromisoformat(str(end).replace("Z", "+00:00")) if end else datetime.now(UTC)
    return human_duration((until - began).total_seconds())


def _cron_time_zone(obj: JSON) -> str:
    return str((obj.get("spec") or {}).get("timeZone") or "<none>")


def _cron_suspend(obj: JSON) -> str:
    return "True" if (obj.get("spec") or {}).get("suspend") else "False"


def _cron_last_schedule(obj: JSON) -> str:
    stamp = (obj.get("status") or {}).get("lastScheduleTime")
    return _since(stamp) if stamp else "<none>"


_CRON_TEMPLATE = ("spec", "jobTemplate", "spec", "template", "spec", "containers")


def _node_status(obj: JSON) -> str:
    """``Ready``/``NotReady``/``Unknown`` from the Ready condition, ``,SchedulingDisabled`` when
    cordoned, as kube's node printer writes it."""
    ready = next(
        (
            c
            for c in (obj.get("status") or {}).get("conditions") or []
            if isinstance(c, dict) and c.get("type") == "Ready"
        ),
        None,
    )
    text = {"True": "Ready", "False": "NotReady"}.get((ready or {}).get("status", ""), "Unknown")
    if (obj.get("spec") or {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def _node_roles(obj: JSON) -> str:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    roles = {
        k.removeprefix("node-role.kubernetes.io/")
        for k in labels
        if k.startswith("node-role.kubernetes.io/")
    }
    if labels.get("kubernetes.io/role"):
        roles.add(labels["kubernetes.io/role"])
    return ",".join(sorted(r for r in roles if r)) or "<none>"


def _node_address(kind: str) -> Cell:
    def get(obj: JSON) -> str:
        for address in (obj.get("status") or {}).get("addresses") or []:
            if isinstance(address, dict) and address.get("type") == kind:
                return str(address.get("address", ""))
        return "<none>"

    return get


# (group, plural) -> the columns after NAME, as kube-apiserver prints them (priority 1: -o wide)
_COLUMNS: dict[tuple[str, str], list[_Column]] = {
    ("", "pods"): [
        _Column("Ready", "string", _pod_ready),
        _Column("Status", "string", _pod_status),
        _Column("Restarts", "string", _pod_restarts),
        _age_column(),
        _Column("IP", "string", _or_none(_path("status", "podIP")), 1),
        _Column("Node", "string", _or_none(_path("spec", "nodeName")), 1),
        _Column("Nominated Node", "string", _or_none(_path("status", "nominatedNodeName")), 1),
        _Column("Readiness Gates", "string", lambda obj: "<none>", 1),
    ],
    ("", "nodes"): [
        _Column("Status", "string", _node_status),
        _Column("Roles", "string", _node_roles),
        _age_column(),
        _Column("Version", "string", _path("status", "nodeInfo", "kubeletVersion")),
        _Column("Internal-IP", "string", _node_address("InternalIP"), 1),
        _Column("External-IP", "string", _node_address("ExternalIP"), 1),
        _Column("OS-Image", "string", _path("status", "nodeInfo", "osImage"), 1),
        _Column("Kernel-Version", "string", _path("status", "nodeInfo", "kernelVersion"), 1),
        _Column(
            "Container-Runtime", "string", _path("status", "nodeInfo", "containerRuntimeVersion"), 1
        ),
    ],
    ("", "configmaps"): [_Column("Data", "integer", _count("data", "binaryData")), _age_column()],
    ("", "secrets"): [
        _Column("Type", "string", _path("type")),
        _Column("Data", "integer", _count("data")),
        _age_column(),
    ],
    ("", "namespaces"): [_Column("Status", "string", _path("status", "phase")), _age_column()],
    ("", "services"): [
        _Column("Type", "string", _path("spec", "type")),
        _Column("Cluster-IP", "string", _or_none(_path("spec", "clusterIP"))),
        _Column("External-IP", "string", _external_ip),
        _Column("Port(s)", "string", _ports),
        _age_column(),
        _Column(
            "Selector",
            "string",
            lambda obj: ",".join(
                f"{k}={v}"
                for k, v in sorted(((obj.get("spec") or {}).get("selector") or {}).items())
            )
            or "<none>",
            1,
        ),
    ],
    ("", "endpoints"): [_Column("Endpoints", "string", _endpoints), _age_column()],
    ("discovery.k8s.io", "endpointslices"): [
        _Column("AddressType", "string", _path("addressType")),
        _Column("Ports", "string", _slice_ports),
        _Column("Endpoints", "string", _slice_endpoints),
        _age_column(),
    ],
    ("apiextensions.k8s.io", "customresourcedefinitions"): [
        _Column("Created At", "date", _path("metadata", "creationTimestamp"))
    ],
    ("apps", "replicasets"): [
        _Column("Desired", "integer", _zero(_path("spec", "replicas"))),
        _Column("Current", "integer", _zero(_path("status", "replicas"))),
        _Column("Ready", "integer", _zero(_path("status", "readyReplicas"))),
        _age_column(),
        _Column("Containers", "string", _containers_of(*_TEMPLATE), 1),
        _Column("Images", "string", _images_of(*_TEMPLATE), 1),
        _Column("Selector", "string", _selector, 1),
    ],
    ("apps", "statefulsets"): [
        _Column("Ready", "string", _sts_ready),
        _age_column(),
        _Column("Containers", "string", _containers_of(*_TEMPLATE), 1),
        _Column("Images", "string", _images_of(*_TEMPLATE), 1),
    ],
    ("apps", "daemonsets"): [
        _Column("Desired", "integer", _zero(_path("status", "desiredNumberScheduled"))),
        _Column("Current", "integer", _zero(_path("status", "currentNumberScheduled"))),
        _Column("Ready", "integer", _zero(_path("status", "numberReady"))),
        _Column("Up-to-date", "integer", _zero(_path("status", "updatedNumberScheduled"))),
        _Column("Available", "integer", _zero(_path("status", "numberAvailable"))),
        _Column("Node Selector", "string", _node_selector),
        _age_column(),
        _Column("Containers", "string", _containers_of(*_TEMPLATE), 1),
        _Column("Images", "string", _images_of(*_TEMPLATE), 1),
        _Column("Selector", "string", _selector, 1),
    ],
    ("batch", "jobs"): [
        _Column("Status", "string", _job_status),
        _Column("Completions", "string", _job_completions),
        _Column("Duration", "string", _job_duration),
        _age_column(),
        _Column("Containers", "string", _containers_of(*_TEMPLATE), 1),
        _Column("Images", "string", _images_of(*_TEMPLATE), 1),
        _Column("Selector", "string", _selector, 1),
    ],
    ("batch", "cronjobs"): [  # kube's cronjob printer
        _Column("Schedule", "string", _path("spec", "schedule")),
        _Column("Timezone", "string", _cron_time_zone),
        _Column("Suspend", "boolean", _cron_suspend),
        _Column(
            "Active", "integer", lambda obj: len((obj.get("status") or {}).get("active") or [])
        ),
        _Column("Last Schedule", "string", _cron_last_schedule),
        _age_column(),
        _Column("Containers", "string", _containers_of(*_CRON_TEMPLATE), 1),
        _Column("Images", "string", _images_of(*_CRON_TEMPLATE), 1),
        _Column(
            "Selector", "string", _label_selector("spec", "jobTemplate", "spec", "selector"), 1
        ),
    ],
    ("apps", "deployments"): [
        _Column("Ready", "string", _deploy_ready),
        _Column("Up-to-date", "integer", _zero(_path("status", "updatedReplicas"))),
        _Column("Available", "integer", _zero(_path("status", "availableReplicas"))),
        _age_column(),
        _Column("Containers", "string", _containers_of(*_TEMPLATE), 1),
        _Column("Images", "string", _images_of(*_TEMPLATE), 1),
        _Column("Selector", "string", _selector, 1),
    ],
}


def _since(stamp: Any) -> str:
    """kube's ``translateTimestampSince`` of a Time or MicroTime: ``<unknown>`` when unset."""
    if not isinstance(stamp, str) or not stamp:
        return "<unknown>"
    whole, _, _fraction = stamp.removesuffix("Z").partition(".")
    try:
        return human_duration(
            time.time() - calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
        )
    except ValueError:
        return "<unknown>"


def _event_times(obj: JSON) -> tuple[str, str, int]:
    """Last seen, first seen and count of an Event, as kube's event printer derives them (the
    event time when there is no first timestamp, the series when there is one)."""
    first = obj.get("firstTimestamp") or obj.get("eventTime")
    last = obj.get("lastTimestamp") or first
    count = obj.get("count") or 1
    series = obj.get("series")
    if isinstance(series, dict):
        last, count = series.get("lastObservedTime"), series.get("count") or 0
    return _since(last), _since(first), int(count)


def _event_object(obj: JSON) -> str:
    involved = obj.get("involvedObject") or {}
    kind, name = str(involved.get("kind") or "").lower(), involved.get("name")
    return f"{kind}/{name}" if name else kind


def _event_source(obj: JSON) -> str:
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    instance = source.get("host") or obj.get("reportingInstance") or ""
    return f"{component}, {instance}" if instance else str(component)


_NAME_COLUMN = _Column(
    "Name", "string", lambda obj: (obj.get("metadata") or {}).get("name", ""), 0, _NAME_DOC, "name"
)

_EVENT_COLUMNS = [  # kube's event printer, generated wide as the API server does
    _Column("Last Seen", "string", lambda obj: _event_times(obj)[0]),
    _Column("Type", "string", _path("type")),
    _Column("Reason", "string", _path("reason")),
    _Column("Object", "string", _event_object),
    _Column("Subobject", "string", _path("involvedObject", "fieldPath"), 1),
    _Column("Source", "string", _event_source, 1),
    _Column("Message", "string", lambda obj: str(obj.get("message") or "").strip()),
    _Column("First Seen", "string", lambda obj: _event_times(obj)[1], 1),
    _Column("Count", "string", lambda obj: _event_times(obj)[2], 1),
    dataclasses.replace(_NAME_COLUMN, priority=1),
]


def _printer_cell(column: PrinterColumn) -> Cell:
    def get(obj: JSON) -> Any:
        try:
            found = evaluate(obj, column.json_path)
        except JSONPathError:
            return None
        if not found:
            return None
        if column.type == "date":
            return _since(found[0])
        if column.type in ("integer", "number", "boolean") and len(found) == 1:
            return found[0]
        return ",".join(v if isinstance(v, str) else json.dumps(v) for v in found)

    return get


def _crd_columns(info: ResourceInfo) -> list[_Column]:
    return [
        _Column(c.name, c.type, _printer_cell(c), c.priority, c.description, c.format)
        for c in info.printer_columns
    ]


def to_table(
    info: ResourceInfo, objects: list[JSON], list_metadata: JSON, version: str = "v1"
) -> JSON:
    """The ``meta.k8s.io/<version>`` ``Table`` of ``objects``; each row carries the object's
    metadata (a ``PartialObjectMetadata`` of the same version).

    Columns: NAME, then a CRD's printer columns, or the built-in printer's, or AGE; an Event's
    are kube's event printer's alone (LAST SEEN first, its name a wide column)."""
    if info.key == ("", "events"):
        columns = _EVENT_COLUMNS
    else:
        columns = [_NAME_COLUMN, *(_crd_columns(info) or _COLUMNS.get(info.key) or [_age_column()])]
    definitions = [
        {
            "name": c.name,
            "type": c.type,
            "format": c.format,
            "description": c.description or c.name,
            "priority": c.priority,
        }
        for c in columns
    ]
    rows = [
        {
            "cells": [c.cell(obj) for c in columns],
            "object": as_partial(obj, version),
        }
        for obj in objects
    ]
    return {
        "kind": "Table",
        "apiVersion": f"{META_GROUP}/{version}",
        "metadata": list_metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    }
