"""``APIServer``: the test API server on a loopback socket, HTTP/1.1 or HTTPS.

Start it in one line (``with APIServer(specs=[path]) as server:``) and point any client at
``server.url`` with ``server.token`` (or the kubeconfig from :meth:`APIServer.write_kubeconfig`).
Requests are served by a thread each (``ThreadingHTTPServer``); watch responses are chunked
streams. :meth:`APIServer.stop` ends open watches, closes the socket and joins every thread it
started, so a test leaves nothing running.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import yaml

from kgen.cert import generate_self_signed_ca
from kgen.clock import REAL_CLOCK, Clock, format_time
from kgen.spec import load
from kgen.spec.model import APIModel
from kgen.testing._auth import Auth, Rule, User
from kgen.testing._containers import ContainerHandlers
from kgen.testing._conversion import Converter, ReviewHandler
from kgen.testing._crds import crd_extras, crd_manifests
from kgen.testing._faults import Faults
from kgen.testing._handler import HALF_OPEN, MAX_BODY, Handler, Request, Response
from kgen.testing._localruntime import LocalRuntime
from kgen.testing._openapi import OpenAPIDocuments
from kgen.testing._services import SERVICES, kubernetes_service
from kgen.testing._tls import self_signed_pair, serving_context
from kgen.testing._tracker import ObjectTracker
from kgen.testing.controllers import (
    DEFAULT_NODES,
    ControllerRunner,
    CronJobController,
    DaemonSetController,
    DeploymentController,
    EndpointsController,
    EndpointSliceController,
    GarbageCollector,
    JobController,
    Kubelet,
    NamespaceController,
    ReplicaSetController,
    Scheduler,
    StatefulSetController,
)

__all__ = ["APIServer"]

DEFAULT_TOKEN = "kgen-testing-token"
DEFAULT_USER = "kgen-admin"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # many clients connecting at once are queued, not refused

    def __init__(
        self, address: tuple[str, int], handler: Handler, context: ssl.SSLContext | None
    ) -> None:
        self.api = handler
        self.context = context
        self._open: set[Any] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open connection so that idle keep-alive threads end."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        if self.context is not None:
            conn = self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr


def _folded(items: Any) -> dict[str, str]:
    """Request headers by lowercased name; a repeated one (kubectl's X-Stream-Protocol-Version
    per sub-protocol) is folded into one comma-separated value, as HTTP defines it."""
    headers: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        peer_cert = None
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                peer_cert = self.connection.getpeercert()
            except ssl.SSLError:
                peer_cert = None
        body = self._read_body()
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=_folded(self.headers.items()),
            body=body,
            peer_cert=peer_cert,
            disconnected=self._peer_closed,
        )
        response = self.server.api.handle(request)
        if response.upgrade is not None:
            self._upgrade(response.upgrade)
            return
        try:
            self._send(response)
        finally:
            response.close()

    def _upgrade(self, session: Callable[[socket.socket], None]) -> None:
        """Hand the connection to an upgraded session (exec, attach); closed after it."""
        self.close_connection = True
        with contextlib.suppress(OSError, ssl.SSLError):
            session(self.connection)

    def _peer_closed(self) -> bool:
        """True when the client has closed its end (peeks at the raw TCP stream, below TLS)."""
        try:
            data = socket.socket.recv(self.connection, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        return data == b""

    def _read_body(self) -> bytes:
        """The request body, sized by Content-Length or sent chunked; reading stops a little
        past the handler's size limit (the handler then answers 413)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return self.rfile.read(MAX_BODY + 1)
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response) -> None:
        closing = self.close_connection
        self.send_response(response.status)
        for key, value in response.headers:
            self.send_header(key, value)
        if closing:
            self.send_header("Connection", "close")
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            return
        self.end_headers()
        self.wfile.flush()
        try:
            for chunk in response.stream:
                if chunk == HALF_OPEN:  # keep the connection, send nothing, until the client leaves
                    while not self.server.api.stopping.wait(0.05) and not self._peer_closed():
                        pass
                    self.close_connection = True
                    return
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
    do_HEAD = do_OPTIONS = _serve  # served by the proxy subresource (405 elsewhere)


class APIServer:
    """An in-process Kubernetes API server; see the module docstring.

    Give it ``specs`` (paths :func:`kgen.spec.load` understands: a swagger.json, a folder of
    OpenAPI v3 documents, CRD manifests; ``discovery`` documents may add short names and
    categories, the built-in ones ship with kgen) or a ready ``model``. ``tls=(cert_pem, key_pem)`` serves HTTPS (``ca_pem`` is
    then what clients trust); ``tls="self-signed"`` serves HTTPS with a serving certificate for
    ``host``, 127.0.0.1 and localhost signed by a new CA, which becomes ``ca_pem``; ``client_ca_pem`` enables client-certificate authentication.
    Requests need ``token`` (or a client certificate) unless ``allow_anonymous``; ``rules``
    restrict what users may do (403 otherwise). ``window`` bounds the watch history.
    ``seed``: by default (``None``) uids are random (uuid4), unique across servers; an int makes
    uids and generated names reproducible (same seed, same sequence) and seeds the fault plan's
    probabilities, which are seeded with 0 when no seed is given.
    ``controllers``: ``False`` (the default, what the tests written against a bare store
    expect) removes a deleted namespace and collects dependents within the DELETE; ``True`` runs
    the namespace controller and the garbage collector of :mod:`kgen.testing.controllers` on
    threads of the server between :meth:`start` and :meth:`stop` (``kube-root-ca.crt`` then
    publishes ``ca_pem``, or a CA made for the purpose when there is none), and with them the
    scheduler and the kubelets of ``nodes``: pods are bound, run, and removed after their grace
    period. ``kubelet``: ``"handlers"`` (the default) runs nothing, what the test registers on
    :attr:`containers` answers; ``"local"`` (with ``controllers=True``) runs each container's
    command as a local process (:mod:`kgen.testing._localruntime`), restarted after a crash
    with a back-off of ``crash_backoff`` = (initial, max) seconds, killed with its pod or when
    the server stops. ``clock`` (a :class:`kgen.clock.Clock`) is the server's wall clock: the
    timestamps it writes and the CronJob controller's schedule; a
    :class:`kgen.clock.FakeClock` makes CronJobs run when the test steps it (the other
    controllers' delays stay on the system clock).
    """

    def __init__(
        self,
        model: APIModel | None = None,
        *,
        specs: Sequence[str | os.PathLike[str]] = (),
        discovery: Sequence[str | os.PathLike[str]] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[bytes, bytes] | Literal["self-signed"] | None = None,
        ca_pem: bytes | None = None,
        client_ca_pem: bytes | None = None,
        token: str = DEFAULT_TOKEN,
        users: Mapping[str, User] | None = None,
        allow_anonymous: bool = False,
        rules: Sequence[Rule] = (),
        window: int = 1000,
        seed: int | None = None,
        bookmark_interval: float = 60.0,
        version: Mapping[str, str] | None = None,
        controllers: bool = False,
        nodes: Sequence[str] = DEFAULT_NODES,
        kubelet: str = "handlers",
        crash_backoff: tuple[float, float] = (10.0, 300.0),
        clock: Clock = REAL_CLOCK,
    ) -> None:
        paths = [Path(p) for p in specs]
        if model is None:
            if not paths:
                raise ValueError("APIServer needs a model or at least one spec path")
            model = load(paths, [Path(p) for p in discovery])
        tokens = dict(users or {})
        tokens.setdefault(token, User(DEFAULT_USER, ("system:masters",)))
        self.token = token
        manifests = crd_manifests(paths)
        self.tracker = ObjectTracker(
            model,
            window=window,
            seed=seed,
            bookmark_interval=bookmark_interval,
            crds=crd_extras(manifests),
            controllers=controllers,
            clock=lambda: format_time(clock.time()),
        )
        self.tracker.install_crds(manifests)
        self.faults = Faults(0 if seed is None else seed)
        self.handler = Handler(
            self.tracker,
            auth=Auth(tokens=tokens, allow_anonymous=allow_anonymous, rules=rules),
            faults=self.faults,
            documents=OpenAPIDocuments.from_sources(self.tracker.registry.model, paths),
            version=version,
        )
        self._host, self._port = host, port
        if tls == "self-signed":
            if ca_pem is not None:
                raise ValueError('tls="self-signed" makes its own CA: leave out ca_pem')
            tls, ca_pem = self_signed_pair(host)
        self._tls = tls
        self.ca_pem = ca_pem
        self._client_ca_pem = client_ca_pem
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._controllers: ControllerRunner | None = None
        if controllers and self.tracker.registry.stored_one(*SERVICES) is not None:
            self.tracker.add(kubernetes_service())  # kube-apiserver's own, at 10.96.0.1
        self._runtime = _runtime(kubelet, controllers, self.handler.containers, crash_backoff)
        if controllers:
            root_ca = ca_pem or generate_self_signed_ca("kgen-testing-ca").cert_pem
            self._controllers = ControllerRunner(
                self.tracker.store,
                [
                    NamespaceController(self.tracker, root_ca),
                    GarbageCollector(self.tracker),
                    Scheduler(self.tracker),
                    Kubelet(
                        self.tracker,
                        nodes,
                        self.handler.version.get("gitVersion", ""),
                        handlers=self.handler.containers,
                        runtime=self._runtime,
                    ),
                    EndpointSliceController(self.tracker),
                    EndpointsController(self.tracker),
                    ReplicaSetController(self.tracker),
                    DeploymentController(self.tracker),
                    StatefulSetController(self.tracker),
                    DaemonSetController(self.tracker),
                    JobController(self.tracker),
                    CronJobController(self.tracker, clock),
                ],
            )

    # --- lifecycle ----------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext | None:
        if self._tls is None:
            return None
        return serving_context(*self._tls, self._client_ca_pem)

    def start(self) -> APIServer:
        """Bind and serve on a background thread; returns self. A certificate and key OpenSSL
        refuses raise :class:`kgen.testing.ServingPairError` naming the bad one."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self._host, self._port), self.handler, self._context())
        self.handler.host = f"{self._host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="kgen-apiserver",
            daemon=True,
        )
        self._thread.start()
        if self._controllers is not None:
            self._controllers.start()
        return self

    def stop(self) -> None:
        """End watches, stop serving and join every request thread; safe to call twice."""
        if self._httpd is None:
            return
        if self._controllers is not None:
            self._controllers.stop()
        if self._runtime is not None:
            self._runtime.close()  # the kubelet has stopped: kill what it ran
        self.handler.stopping.set()
        self.tracker.store.close_watchers()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None

    def __enter__(self) -> APIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses and credentials ------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:<port>``."""
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{self._host}:{self.port}"

    def config_dict(self, namespace: str = "default") -> dict[str, Any]:
        """A kubeconfig (as a dict) with one context, ``kgen-testing``, using the token.

        Over plain HTTP the user holds no token: clients built on clientcmd (kubectl, client-go,
        :mod:`kgen.config`) send no credentials to an ``http://`` server, so a token there is
        never used and only draws kgen.config's "credentials not used" warning. Such a server
        admits kubectl only with ``allow_anonymous=True`` (as ``kgen testserver`` does)."""
        cluster: dict[str, Any] = {"server": self.url}
        if self.ca_pem:
            import base64

            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kgen-testing", "cluster": cluster}],
            "users": [{"name": "kgen-testing", "user": {"token": self.token} if self._tls else {}}],
            "contexts": [
                {
                    "name": "kgen-testing",
                    "context": {
                        "cluster": "kgen-testing",
                        "user": "kgen-testing",
                        "namespace": namespace,
                    },
                }
            ],
            "current-context": "kgen-testing",
            "preferences": {},
        }

    def write_kubeconfig(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`config_dict` as YAML to ``path`` (mode 0600); returns the path.

        The file appears whole or not at all (written beside ``path``, then renamed over it); an
        :class:`OSError` (a missing folder, no permission) leaves nothing behind."""
        target = Path(path)
        text = yaml.safe_dump(self.config_dict(), sort_keys=False)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w") as out:  # mkstemp made it 0600
                out.write(text)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return target

    # --- test controls ------------------------------------------------------------------------

    def compact(self, revision: int | None = None) -> None:
        """Forget watch history up to ``revision`` (default: all): older watches and continue
        tokens then get 410."""
        self.tracker.store.compact(revision)

    def on_convert(self, crd: str, convert: Converter | None) -> None:
        """Serve the conversions of the ``Webhook``-strategy CRD ``crd`` (``plural.group`` or
        ``Kind.group``) with ``convert(obj, desired_api_version) -> converted`` (``None``
        removes it); see :meth:`ObjectTracker.on_convert`."""
        self.tracker.on_convert(crd, convert)

    def on_conversion_review(self, crd: str, handle: ReviewHandler | None) -> None:
        """Serve them with ``handle(conversion_review) -> conversion_review``, a conversion
        webhook's body in and out; see :meth:`ObjectTracker.on_conversion_review`."""
        self.tracker.on_conversion_review(crd, handle)

    @property
    def requests(self) -> list[tuple[str, str]]:
        """``(method, path?query)`` of every request served so far."""
        return list(self.handler.requests)

    @property
    def containers(self) -> ContainerHandlers:
        """The handlers exec and attach run (``server.containers.on_exec(handler, pod="web")``),
        the containers' logs (``server.containers.log(namespace, pod, container)``) and what
        answers a port-forwarded port (``on_port``, ``forward``); see
        :class:`kgen.testing.ContainerProcess` and :class:`kgen.testing.PortConnection`."""
        return self.handler.containers


def _runtime(
    kind: str, controllers: bool, handlers: ContainerHandlers, backoff: tuple[float, float]
) -> LocalRuntime | None:
    """The container runtime of ``kubelet=kind``: ``None`` for handlers (the kubelet's own
    default), processes for ``local`` (which needs the kubelet, so the controllers)."""
    if kind == "handlers":
        return None
    if kind != "local":
        raise ValueError(f"kubelet={kind!r}: expected 'handlers' or 'local'")
    if not controllers:
        raise ValueError(
            "kubelet='local' runs pods' containers as processes: it needs controllers=True"
        )
    return LocalRuntime(handlers, crash_backoff=backoff)
