"""The ``proxy`` subresource of pods, services and nodes: HTTP through the API server.

kube-apiserver's ``ProxyREST`` (``pkg/registry/core/{pod,service,node}/rest``) reads the
object's name as ``[scheme:]name[:port]``, finds where that is (the pod's IP and port; a ready
endpoint of the service; the node's kubelet) and relays the request there, path after
``/proxy`` and query unchanged, the answer back as it comes. Here the place is what the test
registered for that port (:mod:`kgen.testing._ports`, the same registrations port-forward
reaches; ``on_node_port``/``forward_node`` for nodes), spoken to in HTTP/1.1 over the
connection :func:`kgen.testing._ports.dial` opens. So a handler serving one port answers both
``kubectl port-forward`` and ``.../pods/web:8080/proxy/``.

Where an object resolves to, as kube-apiserver resolves it:

* ``pods/<name>[:<port>]``: the port given, else the first port a container declares, else
  80 (443 for ``https:``); the pod needs an IP that can be proxied (``status.podIP``, not
  loopback or link-local), else 400 ``address not allowed``;
* ``services/<name>[:<port name or number>]``: a number is the service port's, and names
  it (503 ``no service port 81 found for service "web"`` when none has it); then a random
  ready address of the service's Endpoints whose subset has that port name (503
  ``no endpoints available for service "web"`` when there is none); the address's
  ``targetRef`` (or the pod with that IP) is the pod whose port answers;
* ``nodes/<name>[:<port>]``: the kubelet's port (``status.daemonEndpoints``, 10250) by
  default.

A port nothing answers gives 503 ``error trying to reach service: dial tcp <ip>:<port>:
connect: connection refused``, the proxy's error, naming the registrations that would answer.
A ``/proxy`` with no path (and no ``path`` query parameter) is redirected (301) to
``/proxy/``, as kube-apiserver does. The ``Authorization`` and ``Impersonate-*`` headers are
not passed on (kube-apiserver's filters remove them), nor hop-by-hop headers.

Deviations, on purpose: the kubelet is not there, so ``nodes/proxy`` reaches the test's node
port registrations in plain HTTP (kube-apiserver speaks HTTPS to a kubelet; ``https:`` asks for
TLS here); HTML bodies are not rewritten to point back through the proxy; upgrades
(WebSocket through the proxy) are not relayed. Thread-safe: each request dials its own
connection.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import random
import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlencode

from kgen.testing._containers import ContainerHandlers
from kgen.testing._errors import APIError
from kgen.testing._ports import Dialled, PortConnection, PortTarget, dial
from kgen.testing._tracker import ObjectTracker

__all__ = ["Proxy", "proxy_verb", "split_proxy_path"]

JSON = dict[str, Any]
CHUNK = 64 * 1024
TIMEOUT = 30.0
"""Seconds the pod's side may stay silent before the proxy gives up (503)."""

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer"}
    | {"proxy-connection", "transfer-encoding", "upgrade", "content-length", "host"}
    | {"authorization"}  # not hop-by-hop, but kube-apiserver's authentication removes it
)
_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch"}
_VERBS["DELETE"] = "delete"


def split_proxy_path(parts: list[str], raw_path: str) -> tuple[list[str], str | None]:
    """``(parts up to "proxy", the path after it)`` for a core ``pods``, ``services`` or
    ``nodes`` proxy path (the path as sent, trailing ``/`` kept; ``""`` for none), or
    ``(parts, None)`` for any other path."""
    if parts[:2] != ["api", "v1"]:
        return parts, None
    rest = parts[2:]
    if len(rest) >= 5 and rest[0] == "namespaces" and rest[2] in ("pods", "services"):
        end = 2 + 4
    elif len(rest) >= 3 and rest[0] == "nodes":
        end = 2 + 2
    else:
        return parts, None
    if parts[end] != "proxy":
        return parts, None
    head = parts[: end + 1]
    prefix = "/" + "/".join(head)
    decoded = [unquote(p) for p in head]  # the name may come encoded ("web%3A8080")
    if raw_path.startswith(prefix) and raw_path[len(prefix) : len(prefix) + 1] in ("", "/"):
        return decoded, raw_path[len(prefix) :]
    return decoded, "/" + "/".join(parts[end + 1 :]) if parts[end + 1 :] else ""


def proxy_verb(method: str) -> str:
    """The verb a proxied request is authorized as (kube-apiserver's RequestInfo: the HTTP
    method, lower-cased, GET and HEAD ``get``, POST ``create``, PUT ``update``)."""
    return _VERBS.get(method, method.lower())


class ProxiedRequest(Protocol):
    """What the proxy reads of a request (the handler's ``Request``); ``headers`` keys are
    lower-case."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class _Place:
    """Where a proxied request goes: what answers, and how to name it in errors."""

    target: PortTarget | None
    ip: str
    port: int
    namespace: str
    name: str
    obj: JSON
    """The pod (or node) whose port it is."""
    missing: str
    """What the test registers so that something answers (for the error)."""


class Proxy:
    """Resolves proxy requests against ``tracker`` and relays them to ``containers``' ports."""

    def __init__(self, tracker: ObjectTracker, containers: ContainerHandlers) -> None:
        self._tracker = tracker
        self._containers = containers

    def serve(
        self, request: ProxiedRequest, resource: str, namespace: str, id: str, tail: str
    ) -> tuple[int, list[tuple[str, str]], bytes | Iterator[bytes]]:
        """Relay ``request`` to ``id`` of ``resource`` (``pods``, ``services``, ``nodes``),
        ``tail`` the part of ``request.path`` after ``/proxy``:
        the status, headers and body (bytes, or chunks when the answer's length is not known
        ahead; the caller must exhaust or ``close()`` them). Raises :class:`APIError` where
        kube-apiserver answers with a Status (see the module)."""
        scheme, name, port = _split_scheme_name_port(id, resource)
        path = tail
        if not path:
            asked = (request.query.get("path") or [""])[-1]
            path = "/" + asked.lstrip("/") if asked else ""
        if resource == "pods":
            place = self._pod(namespace, name, port, scheme)
        elif resource == "services":
            place = self._service(namespace, name, port, id, scheme)
        else:
            place = self._node(name, port)
        if not path:
            location = request.path + "/" + _query_string(request.query)
            return 301, [("Location", location)], b""
        return self._relay(place, scheme, path, request)

    # --- where ---------------------------------------------------------------------------

    def _pod(self, namespace: str, name: str, port: str, scheme: str) -> _Place:
        pod = self._tracker.get(self._info("pods"), namespace, name)
        if not port:
            port = next(
                (
                    str(p["containerPort"])
                    for c in (pod.get("spec") or {}).get("containers") or []
                    for p in c.get("ports") or []
                    if "containerPort" in p
                ),
                "",
            )
        ip = str((pod.get("status") or {}).get("podIP") or "")
        if not _proxyable(ip):
            raise APIError.bad_request("address not allowed")
        number = _port_number(port, scheme, ip)
        return self._pod_place(pod, ip, number)

    def _pod_place(self, pod: JSON, ip: str, port: int) -> _Place:
        metadata = pod["metadata"]
        namespace, name = metadata.get("namespace", ""), metadata["name"]
        return _Place(
            self._containers.find_port(namespace, name, port),
            ip,
            port,
            namespace,
            name,
            pod,
            f"server.containers.on_port(handler, pod={name!r}, port={port}) or "
            "server.containers.forward",
        )

    def _service(self, namespace: str, name: str, port: str, id: str, scheme: str) -> _Place:
        service = self._tracker.get(self._info("services"), namespace, name)
        port_name = port
        if port.isdigit():
            found = [
                p
                for p in (service.get("spec") or {}).get("ports") or []
                if p.get("port") == int(port)
            ]
            if not found:
                raise _unavailable(f"no service port {int(port)} found for service {_quote(name)}")
            port_name = str(found[0].get("name") or "")
        endpoints = self._tracker.get(self._info("endpoints"), namespace, name)
        subsets = endpoints.get("subsets") or []
        if not subsets:
            raise _unavailable(f"no endpoints available for service {_quote(name)}")
        start = random.randrange(len(subsets))
        for subset in subsets[start:] + subsets[:start]:
            addresses = subset.get("addresses") or []
            for endpoint_port in subset.get("ports") or []:
                if addresses and str(endpoint_port.get("name") or "") == port_name:
                    address = random.choice(addresses)
                    number = _port_number(str(endpoint_port.get("port", "")), scheme, "")
                    return self._endpoint_place(namespace, address, number)
        raise _unavailable(f"no endpoints available for service {_quote(id)}")

    def _endpoint_place(self, namespace: str, address: JSON, port: int) -> _Place:
        """The pod behind an endpoint address: its ``targetRef``, else the pod with its IP."""
        ip = str(address.get("ip", ""))
        ref = address.get("targetRef") or {}
        pods = self._info("pods")
        pod: JSON | None = None
        if ref.get("kind") == "Pod" and ref.get("name"):
            with contextlib.suppress(APIError):
                pod = self._tracker.get(pods, ref.get("namespace") or namespace, ref["name"])
        if pod is None:
            listed = self._tracker.list(pods, namespace).get("items") or []
            pod = next((p for p in listed if (p.get("status") or {}).get("podIP") == ip), None)
        if pod is None:
            return _Place(None, ip, port, namespace, "", {}, f"a pod in {namespace!r} with IP {ip}")
        return self._pod_place(pod, ip, port)

    def _node(self, name: str, port: str) -> _Place:
        node = self._tracker.get(self._info("nodes"), "", name)
        status = node.get("status") or {}
        if not port:
            kubelet = (status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}
            port = str(kubelet.get("Port") or 10250)
        addresses = status.get("addresses") or []
        ip = next((str(a.get("address")) for a in addresses if a.get("type") == "InternalIP"), name)
        number = _port_number(port, "", ip)
        return _Place(
            self._containers.find_node_port(name, number),
            ip,
            number,
            "",
            name,
            node,
            f"server.containers.on_node_port(handler, node={name!r}, port={number}) or "
            "server.containers.forward_node",
        )

    def _info(self, plural: str) -> Any:
        info = self._tracker.registry.get("", "v1", plural)
        if info is None:
            raise APIError.path_not_found()
        return info

    # --- the exchange --------------------------------------------------------------------

    def _relay(
        self, place: _Place, scheme: str, path: str, request: ProxiedRequest
    ) -> tuple[int, list[tuple[str, str]], bytes | Iterator[bytes]]:
        where = f"dial tcp {place.ip}:{place.port}"
        if place.target is None:
            raise _unreachable(
                f"{where}: connect: connection refused (nothing answers this port: the test "
                f"registers {place.missing})"
            )
        try:
            dialled = dial(
                place.target,
                lambda sock: PortConnection(
                    place.namespace, place.name, place.port, place.obj, sock
                ),
            )
        except OSError as err:
            raise _unreachable(f"{where}: {err}") from None
        try:
            sock: socket.socket = dialled.socket
            sock.settimeout(TIMEOUT)
            if scheme == "https":
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE  # kube-apiserver's proxy does not verify
                sock = context.wrap_socket(sock)
            sock.sendall(_request_bytes(place, path, request))
            response = http.client.HTTPResponse(sock, method=request.method)
            response.begin()
        except (OSError, http.client.HTTPException) as err:
            failure = dialled.finish()
            cause = f"; the port's handler raised {failure!r}" if failure else ""
            raise _unreachable(f"{where}: {err!r}{cause}") from None
        relayed = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        if response.length is not None or request.method == "HEAD" or response.status in (204, 304):
            try:
                content = response.read()
            finally:
                dialled.finish()
            return response.status, relayed, content
        return response.status, relayed, _Chunks(response, dialled)


class _Chunks(Iterator[bytes]):
    """A body of unknown length as it arrives; closing ends the connection."""

    def __init__(self, response: http.client.HTTPResponse, dialled: Dialled) -> None:
        self._response = response
        self._dialled = dialled

    def __next__(self) -> bytes:
        try:
            data = self._response.read1(CHUNK)
        except (OSError, http.client.HTTPException):
            data = b""
        if not data:
            self.close()
            raise StopIteration
        return data

    def close(self) -> None:
        self._response.close()
        self._dialled.finish()


def _query_string(query: Mapping[str, list[str]]) -> str:
    """``?k=v&...`` of every value of ``query``, or "" when it has none."""
    pairs = [(k, v) for k, values in query.items() for v in values]
    return f"?{urlencode(pairs)}" if pairs else ""


def _request_bytes(place: _Place, path: str, request: ProxiedRequest) -> bytes:
    """The request as the pod's side reads it: HTTP/1.1, one request per connection."""
    target = path + _query_string(request.query)
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {place.ip}:{place.port}"]
    body = request.body
    for key, value in request.headers.items():
        if key not in _HOP_BY_HOP and not key.startswith("impersonate-"):
            lines.append(f"{key}: {value}")
    if body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _split_scheme_name_port(id: str, resource: str) -> tuple[str, str, str]:
    """``[scheme:]name[:port]`` as apimachinery's SplitSchemeNamePort reads it."""
    parts = id.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        scheme, name, port = "invalid", "", ""
    if not name or scheme not in ("", "http", "https"):
        raise APIError.bad_request(f"invalid {resource[:-1]} request {_quote(id)}")
    return scheme, name, port


def _port_number(port: str, scheme: str, ip: str) -> int:
    if not port:
        return 443 if scheme == "https" else 80
    if port.isdigit() and 0 < int(port) < 65536:
        return int(port)
    raise _unreachable(f"dial tcp: address {ip}:{port}: invalid port")


def _proxyable(ip: str) -> bool:
    """Go's ``IsGlobalUnicast``, as ``proxyutil.IsProxyableIP`` requires."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return not (
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address == ipaddress.ip_address("255.255.255.255")
    )


def _quote(text: str) -> str:
    """Go's ``%q`` for the names that appear here."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unavailable(message: str) -> APIError:
    return APIError(503, "ServiceUnavailable", message)


def _unreachable(message: str) -> APIError:
    return _unavailable(f"error trying to reach service: {message}")
