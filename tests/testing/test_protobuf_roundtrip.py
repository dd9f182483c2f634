"""The server's protobuf encoder and decoder are inverses: real objects of many kinds go JSON →
protobuf (``encode_object``, what a protobuf response carries) → JSON (``decode_body``, how a
protobuf request body is read) and come back equal, except for the documented zero values
(docs/coverage/testing.md: ``test_zero_values_are_as_documented``). Needs only the table shipped in ``kgen/testing/data``.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from kgen.testing._errors import APIError
from kgen.testing._protobody import decode_body, go_duration
from kgen.testing._protoencode import encodable, encode_object, parse_go_duration

JSON = dict[str, Any]

_META = {
    "name": "sample",
    "namespace": "default",
    "uid": "6a1e3c2e-0d5c-4c1b-9d8e-6f2a9b7c1d00",
    "resourceVersion": "42",
    "generation": 3,
    "creationTimestamp": "2026-01-02T03:04:05Z",
    "labels": {"app": "web", "empty": ""},
    "annotations": {"note": "a\nb", "kgen.dev/unicode": "héllo ✓"},
    "ownerReferences": [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web-5d9c",
            "uid": "0b8f4a86-4f6e-4c35-a0cc-3c1f5b7e9a11",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ],
    "finalizers": ["kgen.dev/keep"],
    "managedFields": [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "v1",
            "time": "2026-01-02T03:04:05Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}},
        }
    ],
}

_POD_SPEC = {
    "containers": [
        {
            "name": "app",
            "image": "nginx:1.25",
            "command": ["sh", "-c"],
            "args": ["exec nginx -g 'daemon off;'"],
            "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
            "env": [
                {"name": "MODE", "value": "prod"},
                {
                    "name": "NODE",
                    "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
                },
                {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "lvl"}}},
            ],
            "envFrom": [{"prefix": "S_", "secretRef": {"name": "creds", "optional": False}}],
            "resources": {
                "limits": {"cpu": "500m", "memory": "128Mi", "nvidia.com/gpu": "1"},
                "requests": {"cpu": "250m", "memory": "64Mi", "ephemeral-storage": "1Gi"},
            },
            "readinessProbe": {
                "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                "periodSeconds": 5,
                "failureThreshold": 3,
            },
            "livenessProbe": {"tcpSocket": {"port": 80}, "initialDelaySeconds": 10},
            "securityContext": {
                "runAsUser": 1000,
                "runAsNonRoot": True,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
            },
            "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": True}],
        }
    ],
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "priority": -10,
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "zone", "operator": "In", "values": ["a", "b"]},
                            {"key": "gpu", "operator": "Exists"},
                        ]
                    },
                    {
                        "matchFields": [
                            {"key": "metadata.name", "operator": "NotIn", "values": ["x"]}
                        ]
                    },
                ]
            }
        }
    },
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
        {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    ],
    "volumes": [
        {"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
        {"name": "cfg", "configMap": {"name": "web", "defaultMode": 420, "optional": True}},
    ],
}

_TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": _POD_SPEC}

SAMPLES: list[JSON] = [
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _META,
        "spec": _POD_SPEC,
        "status": {
            "phase": "Running",
            "podIP": "10.244.0.5",
            "podIPs": [{"ip": "10.244.0.5"}],
            "startTime": "2026-01-02T03:04:06Z",
            "qosClass": "Burstable",
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-02T03:04:09Z"}
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": True,
                    "restartCount": 2,
                    "image": "nginx:1.25",
                    "imageID": "docker.io/library/nginx@sha256:abc",
                    "containerID": "containerd://123",
                    "started": True,
                    "state": {"running": {"startedAt": "2026-01-02T03:04:07Z"}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 137,
                            "reason": "OOMKilled",
                            "startedAt": "2026-01-02T03:00:00Z",
                            "finishedAt": "2026-01-02T03:04:00Z",
                        }
                    },
                }
            ],
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _META,
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
            },
            "template": _TEMPLATE,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {
            "observedGeneration": 3,
            "replicas": 3,
            "readyReplicas": 2,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "lastUpdateTime": "2026-01-02T03:05:00Z",
                    "lastTransitionTime": "2026-01-02T03:05:00Z",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                }
            ],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _META,
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web"},
            "clusterIP": "10.96.0.20",
            "clusterIPs": ["10.96.0.20", "fd00::20"],
            "ipFamilies": ["IPv4", "IPv6"],
            "ipFamilyPolicy": "PreferDualStack",
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080},
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353},
            ],
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1", "ipMode": "VIP"}]}},
    },
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _META,
        "data": {"app.properties": "a=1\nb=2\n", "empty": ""},
        "binaryData": {"blob": base64.b64encode(bytes(range(256))).decode()},
        "immutable": True,
    },
    {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _META,
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "LS0tLS1CRUdJTi0tLS0t", "tls.key": "AAEC/w==", "none": ""},
    },
    {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _META,
        "spec": {
            "schedule": "*/5 * * * *",
            "timeZone": "Europe/Paris",
            "startingDeadlineSeconds": 200,
            "concurrencyPolicy": "Forbid",
            "suspend": False,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {"labels": {"app": "tick"}},
                "spec": {"backoffLimit": 2, "template": _TEMPLATE},
            },
        },
        "status": {
            "active": [{"kind": "Job", "namespace": "default", "name": "tick-29000000"}],
            "lastScheduleTime": "2026-01-02T03:00:00Z",
            "lastSuccessfulTime": "2026-01-02T02:55:10Z",
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": _META,
        "data": {"spec": {"template": {"$patch": "replace", "spec": {"containers": []}}}},
        "revision": 7,
    },
    {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "csr", "uid": "u-1", "resourceVersion": "5"},
        "spec": {
            "request": base64.b64encode(b"-----BEGIN CERTIFICATE REQUEST-----\n").decode(),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "expirationSeconds": 86400,
            "usages": ["client auth", "digital signature"],
            "username": "alice",
            "groups": ["dev", "system:authenticated"],
            "extra": {"scopes": ["read", "write"], "none": []},
        },
        "status": {
            "certificate": base64.b64encode(b"\x00\x01cert").decode(),
            "conditions": [
                {
                    "type": "Approved",
                    "status": "True",
                    "reason": "KubectlApprove",
                    "lastUpdateTime": "2026-01-02T03:04:05Z",
                }
            ],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
        "spec": {
            "podCIDR": "10.244.0.0/24",
            "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}],
        },
        "status": {
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "3800m", "memory": "15.5Gi", "pods": "110"},
            "addresses": [
                {"type": "InternalIP", "address": "172.18.0.2"},
                {"type": "Hostname", "address": "node-1"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.35.0",
                "architecture": "amd64",
                "operatingSystem": "linux",
                "machineID": "m",
                "systemUUID": "s",
                "bootID": "b",
                "kernelVersion": "6.1",
                "osImage": "Debian",
                "containerRuntimeVersion": "containerd://2.0",
                "kubeProxyVersion": "v1.35.0",
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": [{"names": ["nginx:1.25", "nginx@sha256:abc"], "sizeBytes": 73000000}],
        },
    },
    {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "low"},
        "value": -1000000,
        "globalDefault": False,
        "description": "below everything",
        "preemptionPolicy": "Never",
    },
    {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "metadata": {},
        "spec": {
            "resourceAttributes": {"namespace": "ns", "verb": "get", "resource": "pods"},
            "user": "bob",
            "groups": ["g"],
            "extra": {"scopes": ["a", "b"]},
            "uid": "u",
        },
        "status": {"allowed": True, "reason": "RBAC"},
    },
    {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": _META,
        "eventTime": "2026-01-02T03:04:05.123456Z",
        "reportingController": "kgen.dev/cronjob",
        "reportingInstance": "kgen-1",
        "action": "Create",
        "reason": "SuccessfulCreate",
        "regarding": {"kind": "CronJob", "namespace": "default", "name": "tick", "uid": "u"},
        "note": "Created job tick-29000000",
        "type": "Normal",
        "series": {"count": 4, "lastObservedTime": "2026-01-02T03:09:05.000001Z"},
    },
    {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": _META,
        "spec": {
            "holderIdentity": "kgen-1",
            "leaseDurationSeconds": 15,
            "acquireTime": "2026-01-02T03:04:05.000000Z",
            "renewTime": "2026-01-02T03:04:20.500000Z",
            "leaseTransitions": 0,
        },
    },
    {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _META,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                },
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {
                            "name": "qps",
                            "selector": {"matchLabels": {"app": "web"}},
                        },
                        "target": {"type": "AverageValue", "averageValue": "1k"},
                    },
                },
            ],
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "selectPolicy": "Max",
                    "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}],
                }
            },
        },
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _META,
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {
                            "ipBlock": {
                                "cidr": "10.0.0.0/8",
                                "except": ["10.1.0.0/16", "10.2.0.0/16"],
                            }
                        },
                        {"namespaceSelector": {"matchLabels": {"team": "a"}}},
                    ],
                    "ports": [
                        {"protocol": "TCP", "port": "http"},
                        {"protocol": "TCP", "port": 8000, "endPort": 9000},
                    ],
                }
            ],
            "egress": [{"to": [{"podSelector": {}}]}],
        },
    },
    {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "hooks"},
        "webhooks": [
            {
                "name": "check.kgen.dev",
                "clientConfig": {
                    "service": {"namespace": "ns", "name": "hook", "path": "/v", "port": 443},
                    "caBundle": base64.b64encode(b"\x30\x82ca").decode(),
                },
                "rules": [
                    {
                        "operations": ["CREATE", "UPDATE"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods", "pods/status"],
                        "scope": "Namespaced",
                    }
                ],
                "failurePolicy": "Fail",
                "sideEffects": "None",
                "timeoutSeconds": 5,
                "admissionReviewVersions": ["v1"],
                "matchConditions": [{"name": "not-system", "expression": "true"}],
            }
        ],
    },
    {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceClaim",
        "metadata": _META,
        "spec": {
            "devices": {
                "requests": [
                    {
                        "name": "gpu",
                        "exactly": {"deviceClassName": "gpu.kgen.dev", "count": 2},
                    }
                ],
                "config": [
                    {
                        "requests": ["gpu"],
                        "opaque": {
                            "driver": "gpu.kgen.dev",
                            "parameters": {"sharing": {"strategy": "TimeSlicing"}, "n": [1, 2.5]},
                        },
                    }
                ],
            }
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _META,
        "spec": {
            "serviceName": "db",
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": _TEMPLATE,
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "10Gi"}},
                        "storageClassName": "fast",
                    },
                }
            ],
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Delete",
                "whenScaled": "Retain",
            },
        },
    },
    {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv"},
        "spec": {
            "capacity": {"storage": "5Gi"},
            "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
            "hostPath": {"path": "/srv", "type": "DirectoryOrCreate"},
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
        },
        "status": {"phase": "Bound", "lastPhaseTransitionTime": "2026-01-02T03:04:05Z"},
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _META,
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["a.example"], "secretName": "tls"}],
            "rules": [
                {
                    "host": "a.example",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    },
    {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _META,
        "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}},
        "status": {
            "disruptionsAllowed": 1,
            "currentHealthy": 2,
            "desiredHealthy": 1,
            "expectedPods": 2,
            "disruptedPods": {"web-0": "2026-01-02T03:04:05Z"},
        },
    },
]


def _round_trip(obj: JSON) -> JSON:
    assert encodable(obj), obj["kind"]
    return decode_body(encode_object(obj))


@pytest.mark.parametrize("obj", SAMPLES, ids=[s["kind"] for s in SAMPLES])
def test_json_protobuf_json_is_the_identity(obj: JSON) -> None:
    original = copy.deepcopy(obj)
    assert _round_trip(obj) == original
    assert obj == original  # the encoder reads, never writes


def test_the_samples_cover_the_well_known_messages() -> None:
    """What the round trips above went through (so removing a sample cannot go unnoticed)."""
    text = repr(SAMPLES)
    needles = ("Mi'", "25%", "fieldsV1", "binaryData", "caBundle", "parameters", ".123456Z")
    needles += ("configMapKeyRef", "secretRef", "hostPath", "emptyDir", "httpGet", "webhooks")
    for needle in needles:
        assert needle in text
    assert len({s["kind"] for s in SAMPLES}) >= 20


def test_zero_values_are_as_documented() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "z", "generation": 0, "namespace": ""},
        "spec": {
            "replicas": 0,
            "paused": False,
            "minReadySeconds": 0,
            "strategy": {"type": ""},
            "template": {"spec": {"containers": [], "nodeSelector": {}}},
        },
    }
    back = _round_trip(deployment)
    # a Go client's 0 and false are kept (pointer fields mean them); metadata's are dropped;
    # empty strings, lists and maps are not on the wire; empty structs are
    assert back["spec"] == {
        "replicas": 0,
        "paused": False,
        "minReadySeconds": 0,
        "strategy": {},
        "template": {"spec": {}},
    }
    assert back["metadata"] == {"name": "z"}
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": ""}, "metadata": {}}
    assert _round_trip(configmap) == configmap  # map values keep their empty strings


def test_durations_and_bad_values() -> None:
    for text, nanos in (("1h0m0s", 3600 * 10**9), ("1.5s", 1_500_000_000), ("-300ms", -3 * 10**8)):
        assert parse_go_duration(text) == nanos
        assert parse_go_duration(go_duration(nanos)) == nanos
    assert go_duration(0) == "0s"
    bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {"priority": "high"}}
    with pytest.raises(APIError, match=r"Pod\.spec\.priority.*expected an integer"):
        encode_object(bad)
    with pytest.raises(APIError) as refused:
        decode_body(encode_object(SAMPLES[0])[:-3])
    assert refused.value.code == 400
