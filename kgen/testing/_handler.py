"""The request path of the test server, independent of any transport.

:class:`Handler` turns a :class:`Request` into a :class:`Response`: authentication, fault
injection, routing (discovery, OpenAPI, health, resources), verb dispatch to the
:class:`~kgen.testing._tracker.ObjectTracker`, content negotiation (JSON, YAML bodies; Table
and PartialObjectMetadata output, :mod:`kgen.testing._negotiation`) and errors as ``Status``
bodies. The HTTP server and the in-process ``requests`` adapter both call
:meth:`Handler.handle`, so both see exactly the same behaviour.

Thread-safe: one handler serves every connection. A streaming :class:`Response` (watch) must
be closed by whoever consumes it.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import yaml

from kgen.testing import _discovery as discovery
from kgen.testing._apply import check_write_options
from kgen.testing._auth import Attributes, Auth, User
from kgen.testing._containers import ContainerHandlers, StreamKind
from kgen.testing._csr import CSR_KEY
from kgen.testing._encoded import EncodedObjects
from kgen.testing._errors import APIError
from kgen.testing._faults import Fault, Faults
from kgen.testing._logs import parse_options as parse_log_options
from kgen.testing._negotiation import Output, negotiate
from kgen.testing._openapi import OpenAPIDocuments
from kgen.testing._options import (
    PATCH_APPLY,
    PATCH_JSON,
    PATCH_MERGE,
    PATCH_STRATEGIC,
    ListOptions,
    WriteOptions,
    Written,
)
from kgen.testing._portforward import open_session as open_port_forward
from kgen.testing._protobody import CONTENT_TYPE as PROTOBUF_BODY
from kgen.testing._protobody import decode_body as decode_protobuf_body
from kgen.testing._protobuf import CONTENT_TYPE as PROTOBUF_V2_TYPE
from kgen.testing._protobuf import MIME_TYPE as PROTOBUF_V2
from kgen.testing._proxy import Proxy, proxy_verb, split_proxy_path
from kgen.testing._registry import ResourceInfo
from kgen.testing._remotecommand import Session, check_streams, choose_container, new_process
from kgen.testing._remotecommand_spdy import PROTOCOLS as SPDY_PROTOCOLS
from kgen.testing._remotecommand_spdy import SPDYSession
from kgen.testing._reviews import REVIEWS, SELF_REVIEWS, review
from kgen.testing._spdyupgrade import check_upgrade as check_spdy_upgrade
from kgen.testing._spdyupgrade import negotiate as negotiate_spdy
from kgen.testing._tracker import ObjectTracker

__all__ = ["HALF_OPEN", "Handler", "Request", "Response"]

JSON = dict[str, Any]
MAX_BODY = 3 * 1024 * 1024
HALF_OPEN = b"\x00kgen-half-open\x00"
"""Yielded by a watch stream to say: stop sending, keep the connection open."""

_REMOTE_COMMANDS = frozenset({"exec", "attach"})
_PATCH_TYPES = (PATCH_JSON, PATCH_MERGE, PATCH_STRATEGIC, PATCH_APPLY)
_WHOLE_OBJECT_SUBRESOURCES = {
    CSR_KEY: ("status", "approval"),
    ("", "namespaces"): ("status", "finalize"),
}
"""Subresources read and written as the whole object: ``status`` everywhere, and these."""
_encoder = msgspec.json.Encoder()


@dataclass
class Request:
    """One HTTP request. ``headers`` keys are lower-case."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    peer_cert: Any = None
    disconnected: Callable[[], bool] = lambda: False
    """True once the client has gone away (lets an idle watch end early)."""

    def param(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass
class Response:
    """One HTTP response; ``stream`` (chunked) replaces ``body`` for watches."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    on_close: Callable[[], None] | None = None
    upgrade: Callable[[socket.socket], None] | None = None
    """For a 101 answer: takes over the connection's socket (a WebSocket session) and returns
    when the session is over; the server then closes the connection."""

    def close(self) -> None:
        """Release a stream's resources; safe to call twice."""
        if self.on_close is not None:
            callback, self.on_close = self.on_close, None
            callback()


def json_response(status: int, obj: Any, content_type: str = "application/json") -> Response:
    return Response(status, [("Content-Type", content_type)], _encoder.encode(obj))


def _rendered(
    status: int,
    output: Output,
    info: ResourceInfo,
    obj: JSON,
    encoded: EncodedObjects | None = None,
) -> Response:
    """``obj`` in the negotiated representation (JSON or protobuf); ``encoded``: the cache of
    stored objects' bodies, for answers made of stored objects."""
    content_type, body = output.encode(info, obj, encoded)
    return Response(status, [("Content-Type", content_type)], body)


def error_response(err: APIError) -> Response:
    response = Response(err.code, [("Content-Type", "application/json")], err.body())
    response.headers.extend(err.headers.items())
    return response


@dataclass(frozen=True)
class _Target:
    """A resource request, parsed from its path."""

    info: ResourceInfo
    namespace: str
    name: str
    subresource: str


class Handler:
    """Serves requests against ``tracker``; see the module docstring."""

    def __init__(
        self,
        tracker: ObjectTracker,
        *,
        auth: Auth | None = None,
        faults: Faults | None = None,
        documents: OpenAPIDocuments | None = None,
        version: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        cache_bodies: bool = True,
    ) -> None:
        self.tracker = tracker
        self.auth = auth or Auth(allow_anonymous=True)
        self.faults = faults or Faults()
        self.documents = documents or OpenAPIDocuments.from_model(tracker.registry.model)
        self.version = dict(version or _DEFAULT_VERSION)
        self.host = host
        self.stopping = threading.Event()
        self.requests: list[tuple[str, str]] = []
        """``(method, path?query)`` of every request, in arrival order (for tests)."""
        self.containers = ContainerHandlers()
        """What exec and attach run (see :mod:`kgen.testing._containers`)."""
        self.proxy = Proxy(tracker, self.containers)
        """Where ``pods``, ``services`` and ``nodes`` ``proxy`` go (:mod:`kgen.testing._proxy`)."""
        self._requests_lock = threading.Lock()
        self.encoded = EncodedObjects(tracker.store) if cache_bodies else None
        """Bodies of stored objects, encoded once (:mod:`kgen.testing._encoded`); ``None``
        (``cache_bodies=False``) encodes every answer whole: the same bytes, slower."""

    # --- entry point --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Serve one request; never raises (failures become 500 Status responses)."""
        with self._requests_lock:
            query = "&".join(f"{k}={v}" for k, vs in request.query.items() for v in vs)
            self.requests.append((request.method, request.path + (f"?{query}" if query else "")))
        try:
            user = self.auth.authenticate(
                request.path, request.headers.get("authorization"), request.peer_cert
            )
            return self._route(request, user)
        except APIError as err:
            return error_response(err)
        except Exception as err:  # the server must survive any bug or input
            traceback.print_exc()
            return error_response(
                APIError(500, "InternalError", f"Internal error occurred: {err!r}")
            )

    def _route(self, request: Request, user: User) -> Response:
        path = "/" + request.path.strip("/")
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/readyz", "/livez") or path.startswith(
            ("/healthz/", "/readyz/", "/livez/")
        ):
            self.auth.authorize(Attributes(user, "get", path=path))
            return Response(200, [("Content-Type", "text/plain; charset=utf-8")], b"ok")
        if path == "/version":
            self._inject("get", "version", request)
            return json_response(200, self.version)
        if parts[:1] == ["openapi"]:
            self.auth.authorize(Attributes(user, "get", path=path))
            self._inject("get", "openapi", request)
            return self._openapi(request, parts[1:])
        if (parts[:1] == ["api"] and len(parts) <= 2) or (
            parts[:1] == ["apis"] and len(parts) <= 3
        ):
            if request.method != "GET":
                raise APIError.method_not_allowed(request.method, path)
            self.auth.authorize(Attributes(user, "get", path=path))
            self._inject("get", "discovery", request)
            return self._discovery(request, parts)
        if parts[:1] in (["api"], ["apis"]):
            return self._resource(request, user, parts)
        raise APIError.path_not_found()

    # --- discovery and OpenAPI ----------------------------------------------------------------

    def _discovery(self, request: Request, parts: list[str]) -> Response:
        registry = self.tracker.registry
        wanted = _aggregated_version(request.headers.get("accept", ""))
        if len(parts) == 1 and wanted:
            document = discovery.aggregated(registry, core=parts[0] == "api", version=wanted)
            return json_response(200, document, discovery.aggregated_content_type(wanted))
        found: JSON | None
        if parts == ["api"]:
            found = discovery.api_versions(registry, self.host)
        elif parts == ["apis"]:
            found = discovery.api_group_list(registry)
        elif parts[0] == "api":
            found = discovery.resource_list(registry, "", parts[1])
        elif len(parts) == 2:
            found = discovery.api_group(registry, parts[1])
        else:
            found = discovery.resource_list(registry, parts[1], parts[2])
        if found is None:
            raise APIError.path_not_found()
        return json_response(200, found)

    def _openapi(self, request: Request, parts: list[str]) -> Response:
        if request.method != "GET":
            raise APIError.method_not_allowed(request.method, "/openapi")
        accept = request.headers.get("accept", "")
        if parts == ["v2"] and PROTOBUF_V2 in accept:
            proto = self.documents.v2_protobuf()
            if proto is None:
                raise APIError.path_not_found()
            return Response(200, [("Content-Type", PROTOBUF_V2_TYPE)], proto)
        if accept and "json" not in accept and "*/*" not in accept:
            raise APIError(
                406, "NotAcceptable", f"only application/json is served here, not {accept}"
            )
        if parts == ["v2"]:
            body = self.documents.v2()
        elif parts == ["v3"]:
            body = self.documents.v3_index()
        elif parts[:1] == ["v3"]:
            body = self.documents.v3("/".join(parts[1:]))
        else:
            body = None
        if body is None:
            raise APIError.path_not_found()
        return Response(200, [("Content-Type", "application/json")], body)

    # --- resources ----------------------------------------------------------------------------

    def describe(self, request: Request) -> tuple[str, ResourceInfo, str, str, str] | None:
        """``(verb, resource, namespace, name, subresource)`` of a resource request, or ``None``
        for any other path (discovery, OpenAPI, health) or a path that serves nothing."""
        parts = [p for p in request.path.split("/") if p]
        if parts[:1] not in (["api"], ["apis"]) or len(parts) <= (2 if parts[0] == "api" else 3):
            return None
        try:
            target, collection = self._target(parts)
            verb = self._verb(request.method, collection, request.param("watch") in ("true", "1"))
        except APIError:
            return None
        return verb, target.info, target.namespace, target.name, target.subresource

    def _target(self, parts: list[str]) -> tuple[_Target, bool]:
        """Parse ``/api/v1/...`` or ``/apis/g/v/...``; the flag says the path named no object."""
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) < 4:
                raise APIError.path_not_found()
            group, version, rest = parts[1], parts[2], parts[3:]
        registry = self.tracker.registry
        if not registry.has_group_version(group, version):
            raise APIError.path_not_found()
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            candidate = registry.get(group, version, rest[2])
            if candidate is not None and candidate.namespaced:
                namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise APIError.path_not_found()
        info = registry.get(group, version, rest[0])
        if info is None:
            raise APIError.path_not_found()
        name = rest[1] if len(rest) > 1 else ""
        subresource = rest[2] if len(rest) > 2 else ""
        if subresource and subresource not in info.subresources:
            raise APIError.path_not_found()
        return _Target(info, namespace, name, subresource), not name

    @staticmethod
    def _verb(method: str, collection: bool, watch: bool) -> str:
        verbs = {
            ("GET", True): "watch" if watch else "list",
            ("GET", False): "get",
            ("POST", True): "create",
            ("POST", False): "create",
            ("PUT", False): "update",
            ("PATCH", False): "patch",
            ("DELETE", False): "delete",
            ("DELETE", True): "deletecollection",
        }
        verb = verbs.get((method, collection))
        if verb is None:
            raise APIError.method_not_allowed(method, "this path")
        return verb

    def _resource(self, request: Request, user: User, parts: list[str]) -> Response:
        parts, proxied = split_proxy_path(parts, request.path)
        target, collection = self._target(parts)
        info = target.info
        watch = request.param("watch") in ("true", "1")
        if proxied is not None:
            verb = proxy_verb(request.method)
        else:
            verb = self._verb(request.method, collection, watch)
        if target.subresource in _REMOTE_COMMANDS or target.subresource == "portforward":
            verb = "create"  # as kube-apiserver 1.35 authorizes the WebSocket upgrade
        if not (info.key in SELF_REVIEWS and verb == "create"):  # open to every user
            self.auth.authorize(
                Attributes(
                    user,
                    verb,
                    info.group,
                    info.plural,
                    target.subresource,
                    target.namespace,
                    target.name,
                    request.path,
                )
            )
        if not target.subresource and verb not in info.verbs:
            raise APIError.method_not_allowed(verb, info.plural)
        watch_faults = self._inject(verb, info.plural, request)
        if (
            info.namespaced
            and not target.namespace
            and verb not in ("list", "watch", "deletecollection")
        ) and (verb != "create" or not target.name):
            raise APIError.path_not_found()
        if proxied is not None:
            return self._proxy(request, target, proxied)
        if info.key in REVIEWS and verb == "create":
            answer = review(info.plural, self._body(request), user, self.auth, target.namespace)
            answer["apiVersion"], answer["kind"] = info.api_version, info.kind
            return json_response(201, answer)
        if target.subresource == "scale":
            return self._scale(request, target, verb, user)
        if info.key == ("", "pods") and target.subresource in ("eviction", "binding"):
            if verb != "create":
                raise APIError.method_not_allowed(verb, f"pods/{target.subresource}")
            act = self.tracker.evict if target.subresource == "eviction" else self.tracker.bind
            body = self._body(request)
            return json_response(
                201,
                act(info, target.namespace, target.name, body, self._write_options(request, user)),
            )
        if info.key == ("", "pods") and target.subresource in _REMOTE_COMMANDS:
            return self._remote_command(request, target)
        if info.key == ("", "pods") and target.subresource == "log":
            if verb != "get":
                raise APIError.method_not_allowed(verb, "pods/log")
            return self._log(request, target)
        if info.key == ("", "pods") and target.subresource == "portforward":
            pod = self.tracker.get(info, target.namespace, target.name)
            session = open_port_forward(
                self.containers,
                pod,
                list(request.query.get("ports", [])),
                path=request.path,
                headers=dict(request.headers),
            )
            return Response(101, upgrade=session.serve)
        if target.subresource and target.subresource not in _WHOLE_OBJECT_SUBRESOURCES.get(
            info.key, ("status",)
        ):
            raise APIError.method_not_allowed(verb, f"{info.plural}/{target.subresource}")
        output = negotiate(request.headers.get("accept", ""), info)
        if verb == "get":
            obj = self.tracker.get(info, target.namespace, target.name, copy=False)
            return _rendered(200, output, info, obj, self.encoded)
        if verb == "list":
            listed = self.tracker.list(info, target.namespace, _list_options(request), copy=False)
            return _rendered(200, output, info, listed, self.encoded)
        if verb == "watch":
            return self._watch(request, info, target.namespace, watch_faults, output)
        options = self._write_options(request, user)
        if verb == "create":
            written = self.tracker.create_ex(info, target.namespace, self._body(request), options)
        elif verb == "update":
            written = self.tracker.update_ex(
                info,
                target.namespace,
                self._body(request),
                options,
                subresource=target.subresource,
                name=target.name,
            )
        elif verb == "patch":
            written = self._patch(request, target, options)
        elif verb == "delete":
            options.body_options = self._delete_options(request)
            written = self.tracker.delete_ex(info, target.namespace, target.name, options)
        else:
            options.body_options = self._delete_options(request)
            written = Written(
                self.tracker.delete_collection(
                    info, target.namespace, _list_options(request), options
                )
            )
        response = _rendered(written.code, output, info, written.object)
        for warning in written.warnings:
            response.headers.append(("Warning", f'299 - "{_escape(warning)}"'))
        return response

    def _remote_command(self, request: Request, target: _Target) -> Response:
        """``pods/<name>/exec`` or ``attach``: checked as kube-apiserver checks it, then a
        101 whose upgrade runs the session (:mod:`kgen.testing._remotecommand`)."""
        kind: StreamKind = "exec" if target.subresource == "exec" else "attach"
        pod = self.tracker.get(target.info, target.namespace, target.name)
        container = choose_container(pod, request.param("container"))
        flags = {n: request.param(n) in ("true", "1") for n in ("stdin", "stdout", "stderr", "tty")}
        command = list(request.query.get("command", []))
        check_streams(kind, command, flags)
        upgrade = request.headers.get("upgrade", "").lower()
        protocol = None
        if upgrade.startswith("spdy"):  # kubectl 1.29 and older
            check_spdy_upgrade(request.headers)
            protocol = negotiate_spdy(request.headers, SPDY_PROTOCOLS)
        elif upgrade != "websocket":
            raise APIError.bad_request("Upgrade request required")
        if kind == "attach":
            command = next(
                (
                    c.get("command") or []
                    for c in pod["spec"].get("containers", [])
                    if c.get("name") == container
                ),
                [],
            )
        process = new_process(kind, pod, container, command, flags["tty"], flags["stdin"])
        if protocol is not None:
            spdy = SPDYSession(process, self.containers, protocol=protocol, flags=flags)
            return Response(101, upgrade=spdy.serve)
        session = Session(
            process,
            self.containers,
            request_line=f"GET {request.path} HTTP/1.1\r\n",
            headers=dict(request.headers),
            flags=flags,
        )
        return Response(101, upgrade=session.serve)

    def _proxy(self, request: Request, target: _Target, tail: str) -> Response:
        """``pods``, ``services`` or ``nodes`` ``<name>/proxy[/<path>]``: relayed to what
        answers there (:mod:`kgen.testing._proxy`)."""
        status, headers, body = self.proxy.serve(
            request, target.info.plural, target.namespace, target.name, tail
        )
        if isinstance(body, bytes):
            return Response(status, headers, body)
        headers.append(("Transfer-Encoding", "chunked"))
        return Response(status, headers, stream=body, on_close=getattr(body, "close", None))

    def _log(self, request: Request, target: _Target) -> Response:
        """``pods/<name>/log``: the options checked as kube-apiserver checks them, the
        container chosen as for exec, then the container's log as the kubelet serves it, whole
        or (``follow``) streamed until it ends, the client leaves or the pod is deleted (its
        containers are killed) (:mod:`kgen.testing._logs`)."""
        options = parse_log_options(request.query, target.name)
        pod = self.tracker.get(target.info, target.namespace, target.name)
        container = choose_container(pod, options.container)
        where = (target.namespace, target.name, container)
        logs = self.containers.logs
        log = logs.previous(*where) if options.previous else logs.log(*where)
        uid = pod["metadata"].get("uid")

        def pod_gone() -> bool:
            try:
                current = self.tracker.get(target.info, target.namespace, target.name)
            except APIError:
                return True
            return bool(current["metadata"].get("uid") != uid)

        chunks = log.read(
            options, lambda: self.stopping.is_set() or request.disconnected() or pod_gone()
        )
        headers = [("Content-Type", "text/plain")]
        if not options.follow:
            return Response(200, headers, b"".join(chunks))
        headers.append(("Transfer-Encoding", "chunked"))
        return Response(200, headers, stream=chunks, on_close=chunks.close)

    def _inject(self, verb: str, resource: str, request: Request) -> list[Fault]:
        """Apply the faults that fire for this request: raise a status fault, wait out a
        delay; return the watch faults for the stream to apply."""
        watch_faults: list[Fault] = []
        for fault in self.faults.take(verb, resource):
            if fault.kind == "status":
                raise _fault_error(fault)
            if fault.kind == "delay":
                self._hold(fault.seconds, request)
            else:
                watch_faults.append(fault)
        return watch_faults

    def _hold(self, seconds: float, request: Request) -> None:
        """Wait ``seconds``, less if the server stops or the client goes away."""
        deadline = time.monotonic() + seconds
        while not request.disconnected():
            left = deadline - time.monotonic()
            if left <= 0 or self.stopping.wait(min(left, 0.05)):
                return

    def _patch(self, request: Request, target: _Target, options: WriteOptions) -> Written:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in _PATCH_TYPES:
            raise APIError.unsupported_media_type(content_type)
        patch = self._body(request, yaml_ok=content_type == PATCH_APPLY)
        return self.tracker.patch_ex(
            target.info,
            target.namespace,
            target.name,
            content_type,
            patch,
            options,
            subresource=target.subresource,
        )

    def _scale(self, request: Request, target: _Target, verb: str, user: User) -> Response:
        info, namespace, name = target.info, target.namespace, target.name
        if verb == "get":
            return json_response(200, self.tracker.get_scale(info, namespace, name))
        options = self._write_options(request, user)
        if verb == "update":
            scale = self.tracker.update_scale(info, namespace, name, self._body(request), options)
        elif verb == "patch":
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            scale = self.tracker.patch_scale(
                info, namespace, name, content_type, self._body(request), options
            )
        else:
            raise APIError.method_not_allowed(verb, f"{info.plural}/scale")
        return json_response(200, scale)

    def _watch(
        self,
        request: Request,
        info: ResourceInfo,
        namespace: str,
        faults: list[Fault],
        output: Output,
    ) -> Response:
        options = _list_options(request)
        if options.timeout_seconds is None:
            options = dataclasses.replace(options, timeout_seconds=1800)
        try:
            events: Iterator[JSON] = self.tracker.watch(
                info,
                namespace,
                options,
                should_stop=lambda: self.stopping.is_set() or request.disconnected(),
                copy=False,
            )
        except APIError as err:
            if err.code != 410:
                raise
            events = iter([{"type": "ERROR", "object": err.status}])
        close = getattr(events, "close", None)

        def lines() -> Iterator[bytes]:
            for sent, event in enumerate(events):
                for fault in faults:
                    if sent >= fault.after_events:
                        if fault.kind == "close_watch":
                            return
                        if fault.kind == "half_open":
                            yield HALF_OPEN
                            return
                        if fault.kind == "corrupt_watch":
                            yield (
                                b'{"type":"MODIFIED","object":{"kind":'
                                if fault.mode == "truncated"
                                else b"{not json at all}\n"
                            )
                            return
                yield output.frame(info, event, self.encoded)

        return Response(
            200,
            [("Content-Type", output.stream_type), ("Transfer-Encoding", "chunked")],
            stream=lines(),
            on_close=close if callable(close) else None,
        )

    # --- bodies and options -------------------------------------------------------------------

    def _body(self, request: Request, yaml_ok: bool = False) -> Any:
        if len(request.body) > MAX_BODY:
            raise APIError(
                413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY}"
            )
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
        if not request.body.strip():
            raise APIError.bad_request("the request body is empty; an object was expected")
        if content_type in ("application/yaml", "application/apply-patch+yaml") or yaml_ok:
            try:
                return yaml.safe_load(request.body)
            except yaml.YAMLError as err:
                raise APIError.bad_request(f"error converting YAML to JSON: {err}") from None
        if content_type == PROTOBUF_BODY:
            return decode_protobuf_body(request.body)
        if "protobuf" in content_type or "cbor" in content_type:
            raise APIError.unsupported_media_type(content_type)
        try:
            return msgspec.json.decode(request.body)
        except msgspec.DecodeError as err:
            raise APIError.bad_request(f"the request body is not valid JSON: {err}") from None

    def _write_options(self, request: Request, user: User) -> WriteOptions:
        dry_run = request.query.get("dryRun", [])
        if any(value != "All" for value in dry_run):
            raise APIError.bad_request(f'Invalid value: {dry_run!r}: valid values are: "All"')
        validation = request.param("fieldValidation", "Warn") or "Warn"
        if validation not in ("Ignore", "Warn", "Strict"):
            raise APIError.bad_request(
                f'Invalid value: "{validation}": fieldValidation must be one of "Ignore", "Warn" or "Strict"'
            )
        applying = request.headers.get("content-type", "").split(";")[0].strip() == PATCH_APPLY
        manager = request.param("fieldManager")
        force = request.param("force")
        kind = {"POST": "CreateOptions", "PUT": "UpdateOptions"}.get(request.method, "PatchOptions")
        check_write_options(kind, manager, applying, bool(force) and kind == "PatchOptions")
        if not manager and not applying:
            manager = request.headers.get("user-agent", "").split("/")[0][:128]
        return WriteOptions(bool(dry_run), manager, force == "true", validation, user=user)

    def _delete_options(self, request: Request) -> JSON:
        options: JSON = {}
        if request.body.strip():
            body = self._body(request)
            if not isinstance(body, dict):
                raise APIError.bad_request("the body of a delete must be a DeleteOptions object")
            options.update(body)
        for param in ("propagationPolicy", "gracePeriodSeconds"):
            if request.param(param):
                options[param] = request.param(param)
        policy = options.get("propagationPolicy")
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise APIError.bad_request(
                f'propagationPolicy "{policy}" is not one of Orphan, Background, Foreground'
            )
        return options


def _aggregated_version(accept: str) -> str | None:
    """The aggregated discovery version (``v2``/``v2beta1``) the Accept header asks for first."""
    for entry in accept.split(","):
        params = dict(part.strip().split("=", 1) for part in entry.split(";")[1:] if "=" in part)
        if (
            params.get("g") == "apidiscovery.k8s.io"
            and params.get("as") == "APIGroupDiscoveryList"
            and params.get("v") in ("v2", "v2beta1")
        ):
            return params["v"]
    return None


def _list_options(request: Request) -> ListOptions:
    def flag(name: str) -> bool | None:
        value = request.param(name)
        if not value:
            return None
        if value not in ("true", "false", "1", "0"):
            raise APIError.bad_request(f'{name}: invalid value "{value}": must be true or false')
        return value in ("true", "1")

    def number(name: str) -> int | None:
        value = request.param(name)
        if not value:
            return None
        try:
            parsed = int(value)
        except ValueError:
            raise APIError.bad_request(
                f'{name}: invalid value "{value}": must be an integer'
            ) from None
        if parsed < 0:
            raise APIError.bad_request(f'{name}: invalid value "{value}": must not be negative')
        return parsed

    timeout = number("timeoutSeconds")
    return ListOptions(
        label_selector=request.param("labelSelector"),
        field_selector=request.param("fieldSelector"),
        resource_version=request.param("resourceVersion"),
        resource_version_match=request.param("resourceVersionMatch"),
        limit=number("limit") or 0,
        continue_=request.param("continue"),
        timeout_seconds=timeout or None,
        allow_watch_bookmarks=bool(flag("allowWatchBookmarks")),
        send_initial_events=flag("sendInitialEvents"),
    )


def _fault_error(fault: Fault) -> APIError:
    reasons = {
        429: ("TooManyRequests", "Too many requests, please try again later."),
        500: ("InternalError", "Internal error occurred: injected fault"),
        503: ("ServiceUnavailable", "The server is currently unable to handle the request"),
        504: ("Timeout", "Timeout: request did not complete within the allowed duration"),
    }
    reason, message = reasons.get(fault.code, ("InternalError", f"injected fault {fault.code}"))
    details: JSON = {}
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        details["retryAfterSeconds"] = fault.retry_after
        headers["Retry-After"] = str(fault.retry_after)
    return APIError(fault.code, reason, message, details or None, headers)


def _escape(text: str) -> str:
    return json.dumps(text)[1:-1]


_DEFAULT_VERSION = {
    "major": "1",
    "minor": "35",
    "gitVersion": "v1.35.0-kgen",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}
