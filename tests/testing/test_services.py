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
from .test_controllers import eventually
from .test_kubectl import VERSIONS, Kubectl, _binary

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


# --- with controllers: EndpointSlices and Endpoints -------------------------------------------


@pytest.fixture(scope="module")
def cluster(
    specs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[APIServer, Path]]:
    folder = tmp_path_factory.mktemp("services")
    with APIServer(
        specs=[specs_dir.joinpath(*SPECS)],
        tls="self-signed",
        controllers=True,
    ) as server:
        assert server.ca_pem is not None
        (folder / "ca.pem").write_bytes(server.ca_pem)
        yield server, server.write_kubeconfig(folder / "kubeconfig")


@pytest.fixture
def live(cluster: tuple[APIServer, Path]) -> Iterator[Client]:
    c = Client(cluster[0])
    c.session.verify = str(cluster[1].parent / "ca.pem")
    yield c
    c.close()


def _pod(name: str, labels: dict[str, str], port_name: str = "http", number: int = 8080) -> Any:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx:1.25",
                    "ports": [{"name": port_name, "containerPort": number}],
                }
            ]
        },
    }


def _slices(client: Client, ns: str, service: str) -> list[dict[str, Any]]:
    answer = client.request(
        "GET",
        f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
        params={"labelSelector": f"kubernetes.io/service-name={service}"},
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _endpoints(client: Client, ns: str, service: str) -> dict[str, Any] | None:
    answer = client.request("GET", f"/api/v1/namespaces/{ns}/endpoints/{service}")
    return answer.json() if answer.status_code == 200 else None


def _addresses(slices: list[dict[str, Any]]) -> set[str]:
    return {a for s in slices for e in s.get("endpoints") or [] for a in e["addresses"]}


def test_the_kubernetes_service_is_at_the_first_ip(live: Client) -> None:
    svc = live.request("GET", "/api/v1/namespaces/default/services/kubernetes").json()
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert svc["spec"]["ports"][0]["port"] == 443


def test_running_pods_show_up_in_slices_and_endpoints_then_leave(live: Client) -> None:
    ns = _namespace(live, "endpoints")
    made = _post(
        live,
        ns,
        _service(
            "web",
            selector={"app": "web"},
            ports=[{"name": "http", "port": 80, "targetPort": "http"}],
        ),
    )
    placeholder = eventually(lambda: _slices(live, ns, "web"), "a placeholder slice")
    assert len(placeholder) == 1 and not placeholder[0].get("endpoints")
    assert "ports" not in placeholder[0]
    pods_path = f"/api/v1/namespaces/{ns}/pods"
    for i, number in enumerate((8080, 8080, 9090)):
        body = _pod(f"web-{i}", {"app": "web"}, number=number)
        assert live.request("POST", pods_path, json=body).status_code == 201
    other = _pod("other", {"app": "db"})
    assert live.request("POST", pods_path, json=other).status_code == 201

    def ready_pods() -> list[dict[str, Any]] | None:
        items = live.request("GET", pods_path).json()["items"]
        ips = {p["metadata"]["name"]: p["status"].get("podIP") for p in items}
        if not all(ips.values()):
            return None
        slices = _slices(live, ns, "web")
        web = {ip for name, ip in ips.items() if name.startswith("web")}
        return items if _addresses(slices) == web else None

    pods = {p["metadata"]["name"]: p for p in eventually(ready_pods, "three endpoints")}
    slices = _slices(live, ns, "web")
    assert len(slices) == 2  # the named port resolves to 8080 for two pods, 9090 for one
    by_port = {s["ports"][0]["port"]: s for s in slices}
    assert set(by_port) == {8080, 9090}
    slice_ = by_port[8080]
    assert slice_["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert slice_["addressType"] == "IPv4"
    assert slice_["metadata"]["name"].startswith("web-")
    assert len(slice_["metadata"]["name"]) == len("web-") + 5
    assert slice_["metadata"]["labels"] == {
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    assert slice_["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "name": "web",
            "uid": made["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    endpoint = next(e for e in slice_["endpoints"] if e["targetRef"]["name"] == "web-0")
    pod = pods["web-0"]
    assert endpoint == {
        "addresses": [pod["status"]["podIP"]],
        "conditions": {"ready": True, "serving": True, "terminating": False},
        "nodeName": pod["spec"]["nodeName"],
        "targetRef": {
            "kind": "Pod",
            "namespace": ns,
            "name": "web-0",
            "uid": pod["metadata"]["uid"],
        },
    }
    legacy = _endpoints(live, ns, "web")
    assert legacy is not None
    subsets = sorted(legacy["subsets"], key=lambda s: s["ports"][0]["port"])
    assert [s["ports"] for s in subsets] == [
        [{"name": "http", "port": 8080, "protocol": "TCP"}],
        [{"name": "http", "port": 9090, "protocol": "TCP"}],
    ]
    assert sorted(a["targetRef"]["name"] for a in subsets[0]["addresses"]) == ["web-0", "web-1"]
    assert subsets[1]["addresses"][0]["ip"] == pods["web-2"]["status"]["podIP"]
    assert subsets[1]["addresses"][0]["nodeName"] == pods["web-2"]["spec"]["nodeName"]

    assert live.request("DELETE", f"{pods_path}/web-2").status_code == 200
    gone = pods["web-2"]["status"]["podIP"]
    eventually(lambda: gone not in _addresses(_slices(live, ns, "web")), "web-2 leaves")
    assert len(_slices(live, ns, "web")) == 1  # its port group went with it

    def legacy_without_web_2() -> bool:
        current = _endpoints(live, ns, "web") or {}
        return all(a["ip"] != gone for s in current.get("subsets") or [] for a in s["addresses"])

    eventually(legacy_without_web_2, "web-2 leaves the Endpoints")
    assert live.request("DELETE", f"/api/v1/namespaces/{ns}/services/web").status_code == 200
    eventually(lambda: not _slices(live, ns, "web"), "the slices go with the service")
    eventually(lambda: _endpoints(live, ns, "web") is None, "the Endpoints go with the service")


def test_a_pod_not_ready_is_listed_as_not_ready(live: Client) -> None:
    ns = _namespace(live, "not-ready")
    _post(live, ns, _service("web", selector={"app": "web"}, ports=[{"port": 80}]))
    pods_path = f"/api/v1/namespaces/{ns}/pods"
    assert live.request("POST", pods_path, json=_pod("p", {"app": "web"})).status_code == 201
    eventually(lambda: _addresses(_slices(live, ns, "web")), "p in the slice")
    pod = live.request("GET", f"{pods_path}/p").json()
    for condition in pod["status"]["conditions"]:
        if condition["type"] in ("Ready", "ContainersReady"):
            condition["status"] = "False"
    written = live.request("PUT", f"{pods_path}/p/status", json=pod)
    assert written.status_code == 200, written.text

    def unready() -> list[dict[str, Any]] | None:
        current = _endpoints(live, ns, "web") or {}
        subsets = current.get("subsets") or []
        return subsets if subsets and "notReadyAddresses" in subsets[0] else None

    subsets = eventually(unready, "p not ready in the Endpoints")
    assert "addresses" not in subsets[0]
    assert subsets[0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    slice_ = _slices(live, ns, "web")[0]
    assert slice_["endpoints"][0]["conditions"] == {
        "ready": False,
        "serving": False,
        "terminating": False,
    }
    assert slice_["ports"] == [{"name": "", "port": 80, "protocol": "TCP"}]


def test_a_terminating_pod_is_terminating_in_its_slice_and_leaves_its_endpoints(
    live: Client,
) -> None:
    ns = _namespace(live, "terminating")
    _post(live, ns, _service("web", selector={"app": "web"}, ports=[{"port": 80}]))
    pods_path = f"/api/v1/namespaces/{ns}/pods"
    held = _pod("held", {"app": "web"})
    held["metadata"]["finalizers"] = ["example.com/hold"]
    assert live.request("POST", pods_path, json=held).status_code == 201
    eventually(lambda: _addresses(_slices(live, ns, "web")), "held in the slice")
    eventually(lambda: (_endpoints(live, ns, "web") or {}).get("subsets"), "held in Endpoints")
    assert live.request("DELETE", f"{pods_path}/held").status_code == 200

    def terminating() -> dict[str, Any] | None:
        endpoints = _slices(live, ns, "web")[0].get("endpoints") or []
        return endpoints[0] if endpoints and endpoints[0]["conditions"]["terminating"] else None

    endpoint = eventually(terminating, "held terminating in its slice")
    assert endpoint["conditions"] == {"ready": False, "serving": True, "terminating": True}
    eventually(
        lambda: not (_endpoints(live, ns, "web") or {"subsets": [1]}).get("subsets"),
        "held leaves the Endpoints",
    )
    pod = live.request("GET", f"{pods_path}/held").json()
    pod["metadata"]["finalizers"] = []
    assert live.request("PUT", f"{pods_path}/held", json=pod).status_code == 200
    eventually(lambda: not _addresses(_slices(live, ns, "web")), "held leaves its slice")


def test_a_changed_selector_moves_the_endpoints_and_a_deleted_slice_comes_back(
    live: Client,
) -> None:
    ns = _namespace(live, "reselect")
    _post(live, ns, _service("web", selector={"app": "a"}, ports=[{"port": 80}]))
    pods_path = f"/api/v1/namespaces/{ns}/pods"
    for name in ("a", "b"):
        assert live.request("POST", pods_path, json=_pod(name, {"app": name})).status_code == 201

    def ip_of(name: str) -> str | None:
        status = live.request("GET", f"{pods_path}/{name}").json()["status"]
        return status.get("podIP")

    a, b = eventually(lambda: ip_of("a"), "a runs"), eventually(lambda: ip_of("b"), "b runs")
    eventually(lambda: _addresses(_slices(live, ns, "web")) == {a}, "a in the slice")
    patched = live.request(
        "PATCH",
        f"/api/v1/namespaces/{ns}/services/web",
        json={"spec": {"selector": {"app": "b"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    eventually(lambda: _addresses(_slices(live, ns, "web")) == {b}, "b replaces a")
    slice_name = _slices(live, ns, "web")[0]["metadata"]["name"]
    slice_path = f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices/{slice_name}"
    assert live.request("DELETE", slice_path).status_code == 200
    eventually(lambda: _addresses(_slices(live, ns, "web")) == {b}, "the slice is put back")


@pytest.fixture(params=VERSIONS)
def kubectl(
    request: pytest.FixtureRequest, cluster: tuple[APIServer, Path], tmp_path: Path
) -> Kubectl:
    version = str(request.param)
    tool = Kubectl(_binary(version), cluster[1], "default", tmp_path)
    tool.namespace = f"svc-{version.replace('.', '-')}"
    tool.run("create", "namespace", tool.namespace)
    return tool


@pytest.mark.kubectl
def test_kubectl_expose_get_and_describe(kubectl: Kubectl) -> None:
    kubectl.run("run", "x", "--image=nginx:1.25", "--port=8080", "--labels=app=x")
    kubectl.run("wait", "--for=condition=Ready", "pod/x", "--timeout=30s")
    ip = kubectl.json("get", "pod", "x")["status"]["podIP"]
    assert kubectl.run("expose", "pod/x", "--port=80", "--target-port=8080").stdout == (
        "service/x exposed\n"
    )
    cluster_ip = kubectl.json("get", "svc", "x")["spec"]["clusterIP"]
    assert ipaddress.ip_address(cluster_ip) in ipaddress.ip_network("10.96.0.0/12")
    rows = [line.split() for line in kubectl.run("get", "svc").stdout.splitlines()]
    assert rows[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert rows[1][:5] == ["x", "ClusterIP", cluster_ip, "<none>", "80/TCP"]

    def slice_rows() -> list[list[str]] | None:
        lines = kubectl.run("get", "endpointslices").stdout.splitlines()
        found = [line.split() for line in lines]
        return found if len(found) == 2 and found[1][3] == ip else None

    rows = eventually(slice_rows, "the pod in kubectl get endpointslices")
    assert rows[0] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert rows[1][0].startswith("x-") and rows[1][1:4] == ["IPv4", "8080", ip]
    endpoints = kubectl.run("get", "endpoints", "x").stdout.splitlines()
    assert endpoints[1].split()[:2] == ["x", f"{ip}:8080"]
    described = kubectl.run("describe", "svc", "x").stdout
    for line in (
        f"IP:                {cluster_ip}",
        "IP Families:       IPv4",
        "TargetPort:        8080/TCP",
        f"Endpoints:         {ip}:8080",
        "Session Affinity:  None",
    ):
        assert any(
            row.split() == line.split() for row in described.splitlines()
        ), f"{line!r} not in:\n{described}"
    created = kubectl.run("create", "service", "nodeport", "np", "--tcp=80:8080")
    assert created.stdout == "service/np created\n"  # a protobuf body from kubectl 1.33
    row = kubectl.run("get", "svc", "np").stdout.splitlines()[1].split()
    node_port = kubectl.json("get", "svc", "np")["spec"]["ports"][0]["nodePort"]
    assert row[1] == "NodePort" and row[4] == f"80:{node_port}/TCP"
    kubectl.run("delete", "pod", "x")
    eventually(
        lambda: kubectl.run("get", "endpoints", "x").stdout.splitlines()[1].split()[1] == "<none>",
        "x leaves the Endpoints",
    )
