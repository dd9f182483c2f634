"""Services in kgen.testing: cluster IPs and node ports allocated as kube-apiserver allocates
them (any mode), and with ``APIServer(controllers=True)`` the EndpointSlices and Endpoints the
controllers keep from pod selectors and readiness; over real HTTP against the real 1.35 OpenAPI
documents, and judged by kubectl over TLS."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgen.testing import APIServer

from .conftest import Client

SPECS = ("kubernetes", "v1.35", "openapi-v3")


@pytest.fixture(scope="module")
def bare(specs_dir: Path) -> Iterator[APIServer]:
    with APIServer(specs=[specs_dir.joinpath(*SPECS)]) as running:
        yield running


@pytest.fixture
def api(bare: APIServer) -> Iterator[Client]:
    c = Client(bare)
    yield c
    c.close()


def _service(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 80}], **spec},
    }


def _post(client: Client, ns: str, body: dict[str, Any], code: int = 201) -> dict[str, Any]:
    answer = client.request("POST", f"/api/v1/namespaces/{ns}/services", json=body)
    assert answer.status_code == code, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _namespace(client: Client, name: str) -> str:
    made = client.request("POST", "/api/v1/namespaces", json={"metadata": {"name": name}})
    assert made.status_code == 201, made.text
    return name


def test_a_service_gets_a_cluster_ip_from_the_range(api: Client) -> None:
    ns = _namespace(api, "alloc")
    made = [_post(api, ns, _service(f"s{i}")) for i in range(20)]
    ips = [m["spec"]["clusterIP"] for m in made]
    assert len(set(ips)) == 20
    network = ipaddress.ip_network("10.96.0.0/12")
    assert all(ipaddress.ip_address(ip) in network for ip in ips)
    spec = made[0]["spec"]
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["sessionAffinity"] == "None"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert spec["type"] == "ClusterIP"
    assert made[0]["status"] == {"loadBalancer": {}}
    got = api.request("GET", f"/api/v1/namespaces/{ns}/services/s0").json()
    assert got["spec"]["clusterIP"] == ips[0] and got["status"] == {"loadBalancer": {}}
    listed = api.request("GET", f"/api/v1/namespaces/{ns}/services").json()["items"]
    assert sorted(s["spec"]["clusterIP"] for s in listed) == sorted(ips)


def test_a_requested_cluster_ip_is_honoured_or_refused(api: Client) -> None:
    ns = _namespace(api, "requested")
    made = _post(api, ns, _service("dns", clusterIP="10.96.0.10"))
    assert made["spec"]["clusterIPs"] == ["10.96.0.10"]
    taken = _post(api, ns, _service("again", clusterIP="10.96.0.10"), 422)
    assert taken["reason"] == "Invalid"
    assert taken["message"] == (
        'Service "again" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: '
        "failed to allocate IP 10.96.0.10: provided IP is already allocated"
    )
    assert taken["details"]["causes"][0]["field"] == "spec.clusterIPs"
    outside = _post(api, ns, _service("outside", clusterIP="192.168.1.1"), 422)
    assert outside["message"].endswith(
        "failed to allocate IP 192.168.1.1: the provided IP (192.168.1.1) is not in the valid "
        "range. The range of valid IPs is 10.96.0.0/12"
    )
    bad = _post(api, ns, _service("bad", clusterIP="ten"), 422)
    assert "spec.clusterIPs[0]" in bad["message"] and "must be a valid IP" in bad["message"]
    assert api.request("GET", f"/api/v1/namespaces/{ns}/services/again").status_code == 404


def test_headless_and_external_name_services(api: Client) -> None:
    ns = _namespace(api, "headless")
    headless = _post(api, ns, _service("db", clusterIP="None"))
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["clusterIPs"] == ["None"]
    assert headless["spec"]["ipFamilies"] == ["IPv4"]
    external = _post(
        api,
        ns,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "ext"},
            "spec": {"type": "ExternalName", "externalName": "example.com"},
        },
    )
    assert "clusterIP" not in external["spec"]


def test_node_ports_come_from_their_range(api: Client) -> None:
    ns = _namespace(api, "nodeports")
    made = _post(
        api, ns, _service("np", type="NodePort", ports=[{"port": 80}, {"port": 443, "name": "s"}])
    )
    ports = [p["nodePort"] for p in made["spec"]["ports"]]
    assert len(set(ports)) == 2 and all(30000 <= p <= 32767 for p in ports)
    assert made["spec"]["externalTrafficPolicy"] == "Cluster"
    lb = _post(api, ns, _service("lb", type="LoadBalancer"))
    assert 30000 <= lb["spec"]["ports"][0]["nodePort"] <= 32767
    assert lb["spec"]["allocateLoadBalancerNodePorts"] is True
    assert lb["status"] == {"loadBalancer": {}}
    plain = _post(api, ns, _service("plain"))
    assert "nodePort" not in plain["spec"]["ports"][0]
    fixed = _post(
        api, ns, _service("fixed", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])
    )
    assert fixed["spec"]["ports"][0]["nodePort"] == 30080
    taken = _post(
        api, ns, _service("taken", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]), 422
    )
    assert taken["message"] == (
        'Service "taken" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
        "provided port is already allocated"
    )
    low = _post(
        api, ns, _service("low", type="NodePort", ports=[{"port": 80, "nodePort": 8080}]), 422
    )
    assert low["message"].endswith(
        "provided port is not in the valid range. The range of valid ports is 30000-32767"
    )


def test_the_cluster_ip_may_not_change_and_is_kept_when_left_out(api: Client) -> None:
    ns = _namespace(api, "immutable")
    made = _post(api, ns, _service("web", type="NodePort"))
    path = f"/api/v1/namespaces/{ns}/services/web"
    ip, node_port = made["spec"]["clusterIP"], made["spec"]["ports"][0]["nodePort"]
    changed = {**made, "spec": {**made["spec"], "clusterIP": "10.96.0.77", "clusterIPs": None}}
    refused = api.request("PUT", path, json=changed)
    assert refused.status_code == 422, refused.text
    assert refused.json()["message"] == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.77"]: '
        "may not change once set"
    )
    left_out = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "labels": {"tier": "front"}},
        "spec": {"type": "NodePort", "ports": [{"port": 80}]},
    }
    kept = api.request("PUT", path, json=left_out)
    assert kept.status_code == 200, kept.text
    assert kept.json()["spec"]["clusterIP"] == ip
    assert kept.json()["spec"]["ports"][0]["nodePort"] == node_port
    patched = api.request(
        "PATCH",
        path,
        json={"spec": {"clusterIP": "10.96.0.78"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 422 and "may not change once set" in patched.text


def test_a_deleted_service_gives_its_ip_and_node_port_back(api: Client) -> None:
    ns = _namespace(api, "release")
    body = _service(
        "web", type="NodePort", clusterIP="10.96.0.50", ports=[{"port": 80, "nodePort": 31000}]
    )
    _post(api, ns, body)
    _post(api, ns, {**body, "metadata": {"name": "other"}}, 422)
    deleted = api.request("DELETE", f"/api/v1/namespaces/{ns}/services/web")
    assert deleted.status_code == 200, deleted.text
    again = _post(api, ns, {**body, "metadata": {"name": "other"}})
    assert again["spec"]["clusterIP"] == "10.96.0.50"
    assert again["spec"]["ports"][0]["nodePort"] == 31000
