"""Defaults kube-apiserver's built-in types get before they are stored.

Only the defaulting functions of the API types themselves are reproduced (what a client sees
back on every cluster: ``restartPolicy: Always``, ``imagePullPolicy``, a Deployment's strategy,
a Service port's protocol...), not the effects of admission plugins (service account token
volumes, default tolerations, priorities), which depend on a cluster's configuration.

Functions fill missing fields in place on a caller-owned object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["apply_builtin_defaults", "initial_pod_status"]

JSON = dict[str, Any]


def _set(obj: JSON, key: str, value: Any) -> None:
    if obj.get(key) is None:
        obj[key] = value


def _image_pull_policy(image: Any) -> str:
    if not isinstance(image, str):
        return "IfNotPresent"
    name = image.split("@")[0].rsplit("/", 1)[-1]
    if "@" in image:
        return "IfNotPresent"
    return "Always" if ":" not in name or name.endswith(":latest") else "IfNotPresent"


def _container(container: Any) -> None:
    if not isinstance(container, dict):
        return
    _set(container, "terminationMessagePath", "/dev/termination-log")
    _set(container, "terminationMessagePolicy", "File")
    _set(container, "imagePullPolicy", _image_pull_policy(container.get("image")))
    _set(container, "resources", {})
    for port in container.get("ports") or ():
        if isinstance(port, dict):
            _set(port, "protocol", "TCP")


def _pod_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    _set(spec, "restartPolicy", "Always")
    _set(spec, "terminationGracePeriodSeconds", 30)
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "securityContext", {})
    _set(spec, "schedulerName", "default-scheduler")
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(key) or ():
            _container(container)


def _template(spec: JSON) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        _pod_spec(template.get("spec"))


def _spec(obj: JSON) -> JSON:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    return spec


def _pod(obj: JSON) -> None:
    _pod_spec(obj.get("spec"))


def _deployment(obj: JSON) -> None:
    spec = _spec(obj)
    _set(spec, "replicas", 1)
    _set(spec, "revisionHistoryLimit", 10)
    _set(spec, "progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {})
    if isinstance(strategy, dict):
        _set(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                _set(rolling, "maxUnavailable", "25%")
                _set(rolling, "maxSurge", "25%")
    _template(spec)


def _replica_set(obj: JSON) -> None:
    spec = _spec(obj)
    _set(spec, "replicas", 1)
    _template(spec)


def _stateful_set(obj: JSON) -> None:
    spec = _spec(obj)
    _set(spec, "replicas", 1)
    _set(spec, "podManagementPolicy", "OrderedReady")
    _set(spec, "revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        _set(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            _set(strategy, "rollingUpdate", {"partition": 0})
    _set(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        {"whenDeleted": "Retain", "whenScaled": "Retain"},
    )
    _template(spec)


def _daemon_set(obj: JSON) -> None:
    spec = _spec(obj)
    _set(spec, "revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        _set(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            _set(strategy, "rollingUpdate", {"maxUnavailable": 1, "maxSurge": 0})
    _template(spec)


def _job(obj: JSON) -> None:
    spec = _spec(obj)
    _set(spec, "parallelism", 1)
    _set(spec, "completions", 1)
    _set(spec, "backoffLimit", 6)
    _set(spec, "completionMode", "NonIndexed")
    _set(spec, "suspend", False)
    _template(spec)
    _job_selector(obj, spec)


def _cron_job(obj: JSON) -> None:
    spec = _spec(obj)
    _set(spec, "concurrencyPolicy", "Allow")
    _set(spec, "suspend", False)
    _set(spec, "successfulJobsHistoryLimit", 3)
    _set(spec, "failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
        _template(job_template["spec"])  # the pod template's defaults; the JobSpec's are the Job's


def _job_selector(obj: JSON, spec: JSON) -> None:
    """kube-apiserver's Job strategy: without ``manualSelector``, a created Job selects its pods
    by ``batch.kubernetes.io/controller-uid`` and its template carries the four job labels."""
    uid = (obj.get("metadata") or {}).get("uid")
    if not uid or spec.get("manualSelector") or spec.get("selector"):
        return
    name = obj["metadata"].get("name", "")
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    template = spec.get("template")
    if isinstance(template, dict):
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        if isinstance(labels, dict):
            labels.update(
                {
                    "batch.kubernetes.io/controller-uid": uid,
                    "batch.kubernetes.io/job-name": name,
                    "controller-uid": uid,
                    "job-name": name,
                }
            )


def _service(obj: JSON) -> None:
    spec = _spec(obj)
    _set(spec, "type", "ClusterIP")
    _set(spec, "sessionAffinity", "None")
    for port in spec.get("ports") or ():
        if isinstance(port, dict):
            _set(port, "protocol", "TCP")
            _set(port, "targetPort", port.get("port"))


def _secret(obj: JSON) -> None:
    _set(obj, "type", "Opaque")
    if obj.get("type") == "":
        obj["type"] = "Opaque"


_DEFAULTERS: dict[tuple[str, str], Callable[[JSON], None]] = {
    ("", "secrets"): _secret,
    ("", "pods"): _pod,
    ("", "services"): _service,
    ("", "replicationcontrollers"): _replica_set,
    ("apps", "deployments"): _deployment,
    ("apps", "replicasets"): _replica_set,
    ("apps", "statefulsets"): _stateful_set,
    ("apps", "daemonsets"): _daemon_set,
    ("batch", "jobs"): _job,
    ("batch", "cronjobs"): _cron_job,
}


def apply_builtin_defaults(resource: tuple[str, str], obj: JSON) -> None:
    """Fill the defaults of the built-in resource ``(group, plural)``; others are untouched."""
    defaulter = _DEFAULTERS.get(resource)
    if defaulter is not None:
        defaulter(obj)


def initial_pod_status(pod: JSON) -> JSON:
    """The status a new pod starts with: Pending, and its QoS class from its resources."""
    raw_spec = pod.get("spec")
    spec: JSON = raw_spec if isinstance(raw_spec, dict) else {}
    resources: list[JSON] = []
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or ():
            if isinstance(container, dict):
                found = container.get("resources")
                resources.append(found if isinstance(found, dict) else {})
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return {"phase": "Pending", "qosClass": "BestEffort"}
    guaranteed = True
    for r in resources:
        limits = r.get("limits") or {}
        requests = {**limits, **(r.get("requests") or {})}
        for name in ("cpu", "memory"):
            if name not in limits or requests.get(name) != limits[name]:
                guaranteed = False
    return {"phase": "Pending", "qosClass": "Guaranteed" if guaranteed else "Burstable"}
